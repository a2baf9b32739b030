"""Mixed precision training beside torch (PyTorch 2.13.0, CPU): small models
(an MLP, a GPT-style block on scaled_dot_product_attention, nn.
TransformerEncoderLayer pre- and post-norm, an LSTM language model) run their
forward under `autocast("cpu", dtype=bfloat16)` from the same float32 weights,
then backward and a few SGD steps: every output's dtype equals torch's, every
gradient's dtype equals torch's (float32: the parameters'), and the losses and
gradients agree within bfloat16's rounding. GradScaler's scale, growth,
back-off and skipped steps follow torch.amp.GradScaler's exactly.

Tolerances. bfloat16 keeps 8 significand bits: each rounding is off by up to
2**-9 (2e-3) relative. Both libraries compute each bfloat16 result in float32
and round it once, but in different summation orders, so their roundings differ
now and then by one last place (2**-8), and a forward pass of a few layers
rounds each activation a handful of times: the losses, averages of many such
values, agree to a few times 2**-9. LOSS_RTOL = 2e-2 is ten roundings' worth,
well above the 1e-3 to 5e-3 measured here and well below what a wrong dtype
(a float32 op run in bfloat16, or the reverse, which moves the loss by 1e-2
to 1e-1 on these models) would give. Gradients are compared as whole tensors
(relative Frobenius norm of the difference): elementwise, small gradients are
dominated by the rounding of the larger terms they are sums of. Measured, the
median parameter is 0.005 off torch's; the worst, 0.07, is the post-norm
encoder's linear1, where one ReLU input lies within bfloat16's rounding of 0
(8e-4) and falls on the other side in one library; torch's own bfloat16
gradient of that layer is 0.12 off its float32 one two steps later. So
GRAD_RTOL = 0.15: bfloat16's own noise on these small models, while a
gradient in the wrong dtype or through a wrong cast is off by far more."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.neuron as AF
import actnet.tensor as at
from actnet import nn

torch.set_num_threads(2)
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
LOSS_RTOL = 2e-2
GRAD_RTOL = 0.15
STEPS = 3
# GradScaler's run: SGD moves parameters by lr * clipped gradient, 0.05 at most
# per step; their gradients' bfloat16 noise moves them 1e-3 apart at most here
PARAM_ATOL = 2e-3
VOCAB, D, T, N = 17, 16, 6, 4


class Lib:
    """A library's namespaces, so one model definition serves both."""

    def __init__(self, torch_side: bool) -> None:
        self.ns: Any = torch if torch_side else at
        self.nn: Any = torch.nn if torch_side else nn
        self.F: Any = torch.nn.functional if torch_side else AF


def _mlp(L: Lib) -> Any:
    return L.nn.Sequential(
        L.nn.Linear(12, 32), L.nn.GELU(), L.nn.Linear(32, 32), L.nn.ReLU(),
        L.nn.Linear(32, VOCAB),
    )  # fmt: skip


def _gpt_block(L: Lib) -> Any:
    class Block(L.nn.Module):  # type: ignore[misc, name-defined]  # either library's
        """A GPT-2 block (pre-norm, causal attention on sdpa, GELU MLP) between
        a token embedding and a language-model head."""

        def __init__(self) -> None:
            super().__init__()
            self.wte = L.nn.Embedding(VOCAB, D)
            self.ln_1 = L.nn.LayerNorm(D)
            self.c_attn = L.nn.Linear(D, 3 * D)
            self.c_proj = L.nn.Linear(D, D)
            self.ln_2 = L.nn.LayerNorm(D)
            self.fc = L.nn.Linear(D, 4 * D)
            self.proj = L.nn.Linear(4 * D, D)
            self.ln_f = L.nn.LayerNorm(D)
            self.head = L.nn.Linear(D, VOCAB, bias=False)

        def forward(self, idx: Any) -> Any:
            x = self.wte(idx)
            b, t, c = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=2)
            q, k, v = (z.view(b, t, 2, c // 2).transpose(1, 2) for z in (q, k, v))
            y = L.F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(b, t, c)
            x = x + self.c_proj(y)
            x = x + self.proj(L.F.gelu(self.fc(self.ln_2(x))))
            return self.head(self.ln_f(x))

    return Block()


def _encoder_layer(norm_first: bool) -> Callable[[Lib], Any]:
    def make(L: Lib) -> Any:
        class Encoder(L.nn.Module):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.wte = L.nn.Embedding(VOCAB, D)
                self.layer = L.nn.TransformerEncoderLayer(
                    D, 2, 32, dropout=0.0, batch_first=True, norm_first=norm_first
                )
                self.head = L.nn.Linear(D, VOCAB)

            def forward(self, idx: Any) -> Any:
                mask = L.nn.Transformer.generate_square_subsequent_mask(T)
                return self.head(self.layer(self.wte(idx), src_mask=mask))

        return Encoder()

    return make


def _lstm_lm(L: Lib) -> Any:
    class LM(L.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.wte = L.nn.Embedding(VOCAB, D)
            self.rnn = L.nn.LSTM(D, D, num_layers=2, batch_first=True)
            self.head = L.nn.Linear(D, VOCAB)

        def forward(self, idx: Any) -> Any:
            out, _ = self.rnn(self.wte(idx))
            return self.head(out)

    return LM()


MODELS: dict[str, tuple[Callable[[Lib], Any], str]] = {
    "mlp": (_mlp, "features"),
    "gpt block": (_gpt_block, "tokens"),
    "encoder layer, post-norm": (_encoder_layer(False), "tokens"),
    "encoder layer, pre-norm": (_encoder_layer(True), "tokens"),
    "lstm language model": (_lstm_lm, "tokens"),
}


def _batch(kind: str, step: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(100 + step)
    if kind == "features":
        return rng.standard_normal((N, 12)).astype(np.float32), rng.integers(
            0, VOCAB, N
        )
    return rng.integers(0, VOCAB, (N, T)), rng.integers(0, VOCAB, (N, T))


def _pair(make: Callable[[Lib], Any]) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = make(Lib(True))
    mine = make(Lib(False))
    mine.load_state_dict(
        {k: at.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    return mine, theirs


def _step(L: Lib, model: Any, batch: tuple[np.ndarray, np.ndarray]) -> tuple[Any, ...]:
    inputs, targets = (L.ns.tensor(a) for a in batch)
    with L.ns.autocast("cpu", dtype=L.ns.bfloat16):
        logits = model(inputs)
        loss = L.F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    model.zero_grad()
    loss.backward()  # outside the region, as PyTorch advises
    return logits, loss


def _dtype(t: Any) -> str:
    return str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize("name", list(MODELS))
def test_mixed_precision_training_steps_as_torch(name: str) -> None:
    make, kind = MODELS[name]
    mine, theirs = _pair(make)
    mine_params = dict(mine.named_parameters())
    their_params = dict(theirs.named_parameters())
    assert list(mine_params) == list(their_params)
    for step in range(STEPS):
        batch = _batch(kind, step)
        logits, loss = _step(Lib(False), mine, batch)
        t_logits, t_loss = _step(Lib(True), theirs, batch)
        assert _dtype(logits) == _dtype(t_logits) == "bfloat16", name
        assert _dtype(loss) == _dtype(t_loss) == "float32", name
        assert math.isclose(loss.item(), t_loss.item(), rel_tol=LOSS_RTOL), (
            f"{name} step {step}: loss {loss.item()} vs torch's {t_loss.item()}"
        )
        for key, p in mine_params.items():
            tp = their_params[key]
            assert p.grad is not None and tp.grad is not None, key
            assert _dtype(p.grad) == _dtype(tp.grad) == "float32", key
            g, tg = p.grad.numpy(), tp.grad.numpy()
            error = np.linalg.norm(g - tg) / max(np.linalg.norm(tg), 1e-12)
            assert error <= GRAD_RTOL, f"{name} step {step}: {key} off by {error:.3g}"
        with at.no_grad():
            for p in mine_params.values():
                p.sub_(p.grad * 0.1)
        with torch.no_grad():
            for tp in their_params.values():
                tp.sub_(tp.grad * 0.1)


# ------------------------------------------------------------------ GradScaler
def test_grad_scaler_follows_torch() -> None:
    """Scale, growth every growth_interval clean steps, back-off and a skipped
    step on an inf gradient, on a mixed precision MLP: the scales equal exactly
    (powers of two), the parameters after each step within the gradients'
    tolerance."""
    mine, theirs = _pair(_mlp)
    m_opt = nn.optim.SGD(mine.parameters(), lr=0.05)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.05)
    m_scaler = at.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=2)
    t_scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=2)
    for step in range(6):
        batch = _batch("features", step)
        for L, model, opt, scaler in (
            (Lib(False), mine, m_opt, m_scaler),
            (Lib(True), theirs, t_opt, t_scaler),
        ):
            inputs, targets = (L.ns.tensor(a) for a in batch)
            with L.ns.autocast("cpu", dtype=L.ns.bfloat16):
                loss = L.F.cross_entropy(model(inputs), targets)
            opt.zero_grad()
            if step == 3:  # an overflow: this step is skipped, the scale halves
                loss = loss * float("inf")
                with warnings.catch_warnings():  # NumPy's inf - inf in matmul
                    warnings.simplefilter("ignore", RuntimeWarning)
                    scaler.scale(loss).backward()
            else:
                scaler.scale(loss).backward()
            scaler.unscale_(opt)
            L.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
        assert m_scaler.get_scale() == t_scaler.get_scale(), step
        assert m_scaler.state_dict() == t_scaler.state_dict(), step
        for p, tp in zip(mine.parameters(), theirs.parameters(), strict=True):
            np.testing.assert_allclose(
                p.detach().numpy(), tp.detach().numpy(), rtol=0, atol=PARAM_ATOL
            )
