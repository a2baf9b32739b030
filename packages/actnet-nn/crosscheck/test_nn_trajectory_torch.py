"""Training trajectories equal PyTorch's: the same initial weights (copied from
torch), the same data, 100 steps of optimizer + scheduler (+ gradient clipping),
then every parameter within 1e-5 of torch's in float32.

Three model families (an MLP, a small CNN with BatchNorm, a two-block causal
transformer LM); each optimizer variant, each scheduler and clipping appear at
least once per family, not the full cross product.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

STEPS = 100
TOLERANCE = 1e-5

OURS = SimpleNamespace(
    nn=nn,
    optim=nn.optim,
    sched=nn.optim.lr_scheduler,
    clip=nn.utils.clip_grad_norm_,
    tensor=at.tensor,
    no_grad=at.no_grad,
)
THEIRS = SimpleNamespace(
    nn=torch.nn,
    optim=torch.optim,
    sched=torch.optim.lr_scheduler,
    clip=torch.nn.utils.clip_grad_norm_,
    tensor=torch.from_numpy,
    no_grad=torch.no_grad,
)


# ----------------------------------------------------------------------- models
def mlp(lib: Any) -> Any:
    n = lib.nn
    return n.Sequential(
        n.Linear(8, 16), n.ReLU(), n.Linear(16, 16), n.Tanh(), n.Linear(16, 4)
    )


def cnn(lib: Any) -> Any:
    n = lib.nn
    # No bias in the convolution: BatchNorm cancels it, so its true gradient is 0
    # and Adam would amplify the float32 rounding noise there (see lm()).
    return n.Sequential(
        n.Conv2d(1, 4, 3, padding=1, bias=False),
        n.BatchNorm2d(4),
        n.ReLU(),
        n.MaxPool2d(2),
        n.Flatten(),
        n.Linear(64, 3),
    )


VOCAB, D_MODEL, HEADS, LENGTH = 11, 16, 2, 8


class TorchBlock(torch.nn.Module):
    """actnet.nn.TransformerBlock's twin from torch layers (same state-dict keys):
    pre-norm, causal self-attention, GELU MLP."""

    def __init__(self, d_model: int, n_heads: int, bias: bool) -> None:
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d_model)
        self.attn = torch.nn.MultiheadAttention(
            d_model, n_heads, bias=bias, batch_first=True
        )
        self.dropout1 = torch.nn.Dropout(0.0)
        self.ln2 = torch.nn.LayerNorm(d_model)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(d_model, 4 * d_model, bias=bias),
            torch.nn.GELU(),
            torch.nn.Dropout(0.0),
            torch.nn.Linear(4 * d_model, d_model, bias=bias),
        )
        self.dropout2 = torch.nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        mask = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, need_weights=False, attn_mask=mask, is_causal=True)
        x = x + self.dropout1(a)
        out: torch.Tensor = x + self.dropout2(self.mlp(self.ln2(x)))
        return out


def _block(lib: Any, bias: bool) -> Any:
    if lib is THEIRS:
        return TorchBlock(D_MODEL, HEADS, bias)
    return nn.TransformerBlock(D_MODEL, HEADS, bias=bias)


def lm(lib: Any, bias: bool = True) -> Any:
    """Embedding, two transformer blocks, a final LayerNorm, a linear head.

    The key part of the attention's in_proj_bias has a true gradient of exactly
    zero (adding a constant to a row of scores leaves the softmax unchanged), so
    its computed gradient is float32 rounding noise, in torch as here. Adam-type
    updates scale any gradient to about lr per step, noise included, so without an
    L2 term (AdamW's decay is decoupled) that slice drifts apart by chance in both
    frameworks (about 5e-3 after 100 steps, from differences of 1e-9). The AdamW
    cases therefore train blocks without biases (bias=False); the others keep them.
    """
    n = lib.nn

    class LM(n.Module):  # type: ignore[misc,name-defined]  # base from the namespace
        def __init__(self) -> None:
            super().__init__()
            self.emb = n.Embedding(VOCAB, D_MODEL)
            self.blocks = n.ModuleList([_block(lib, bias), _block(lib, bias)])
            self.ln_f = n.LayerNorm(D_MODEL)
            self.head = n.Linear(D_MODEL, VOCAB)

        def forward(self, ids: Any) -> Any:
            x = self.emb(ids)
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x)).reshape(-1, VOCAB)

    return LM()


def _data(kind: str) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """Four fixed batches (input, target)."""
    rng = np.random.default_rng(42)
    batches = []
    for _ in range(4):
        if kind == "mlp":
            x = rng.standard_normal((16, 8)).astype(np.float32)
            y = rng.standard_normal((16, 4)).astype(np.float32)
        elif kind == "cnn":
            x = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
            y = rng.integers(0, 3, 8)
        else:
            tokens = rng.integers(0, VOCAB, (2, LENGTH + 1))
            x, y = tokens[:, :-1], tokens[:, 1:].reshape(-1)
        batches.append((x, y))
    return batches


MODELS = {"mlp": mlp, "cnn": cnn, "lm": lm}


# ------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    optimizer: str
    options: dict[str, Any] = field(default_factory=dict)
    scheduler: str | None = None
    clip: float | None = None

    def __str__(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.optimizer}({opts})-{self.scheduler}-clip{self.clip}"


CASES = [
    Case("SGD", {"lr": 0.05}, clip=0.5),
    Case("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}, "StepLR"),
    Case(
        "SGD",
        {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
        "CosineAnnealingLR",
        clip=1.0,
    ),
    Case("Adam", {"lr": 3e-3, "weight_decay": 1e-3}, "warmup+cosine"),
    Case("AdamW", {"lr": 3e-3, "amsgrad": True}, "OneCycleLR", clip=0.5),
    Case("AdamW", {"lr": 2e-3, "betas": (0.8, 0.95), "weight_decay": 0.1}),
]


def _scheduler(lib: Any, name: str | None, opt: Any, lr: float) -> Any:
    s = lib.sched
    if name is None:
        return None
    if name == "StepLR":
        return s.StepLR(opt, step_size=25, gamma=0.5)
    if name == "CosineAnnealingLR":
        return s.CosineAnnealingLR(opt, T_max=STEPS, eta_min=1e-4)
    if name == "warmup+cosine":
        warmup = s.LinearLR(opt, start_factor=0.1, total_iters=10)
        cosine = s.CosineAnnealingLR(opt, T_max=STEPS - 10)
        return s.SequentialLR(opt, [warmup, cosine], milestones=[10])
    assert name == "OneCycleLR"
    return s.OneCycleLR(opt, max_lr=lr, total_steps=STEPS)


def _loss(lib: Any, kind: str) -> Any:
    return lib.nn.MSELoss() if kind == "mlp" else lib.nn.CrossEntropyLoss()


def train(lib: Any, kind: str, case: Case, model: Any) -> tuple[list[float], Any]:
    """STEPS steps; the learning rates and losses seen on the way, and the model."""
    opt = getattr(lib.optim, case.optimizer)(model.parameters(), **case.options)
    sched = _scheduler(lib, case.scheduler, opt, case.options["lr"])
    loss_fn = _loss(lib, kind)
    batches = [(lib.tensor(x), lib.tensor(y)) for x, y in _data(kind)]
    trace = []
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if case.clip is not None:
            lib.clip(model.parameters(), case.clip)
        opt.step()
        if sched is not None:
            sched.step()
        trace.append(float(loss.item()))
        trace.append(float(opt.param_groups[0]["lr"]))
    return trace, model


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    # Tiny tensors: torch's thread pool costs far more than it gains here.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("kind", list(MODELS))
def test_trajectory_equals_torchs(kind: str, case: Case) -> None:
    torch.manual_seed(0)
    options = {"bias": case.optimizer != "AdamW"} if kind == "lm" else {}
    theirs = MODELS[kind](THEIRS, **options)
    ours = MODELS[kind](OURS, **options)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    their_trace, theirs = train(THEIRS, kind, case, theirs)
    our_trace, ours = train(OURS, kind, case, ours)
    np.testing.assert_allclose(our_trace, their_trace, rtol=1e-4, atol=1e-6)
    expected = theirs.state_dict()
    worst = {
        key: float(np.max(np.abs(np.asarray(value) - expected[key].numpy())))
        for key, value in ours.state_dict().items()
        if value.dtype.kind == "f"
    }
    assert max(worst.values()) <= TOLERANCE, worst
    for key, value in ours.state_dict().items():
        if value.dtype.kind != "f":  # num_batches_tracked
            assert value.tolist() == expected[key].tolist(), key
