"""actnet.nn's Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer)
against torch.nn's: the same arguments, torch's state dict loaded into ours, the
same inputs and masks; then repr, state-dict keys, outputs and the gradients of
the inputs and of every parameter, in train mode (dropout 0) and eval mode
(dropout 0.1 off), for post-norm and pre-norm, batch_first both ways, relu and
gelu, bool and float masks, key padding masks, the is_causal hint and its
detection, unbatched inputs; PyTorch's initialisation statistics; the
deprecation warning for mismatched masks; and a few SGD steps of a small
sequence-to-sequence model from the same initial weights, losses within 1e-4."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

torch.set_num_threads(2)
# torch's note that its nested-tensor fast path is off (batch_first=False or
# norm_first=True): actnet has no such path, so nothing to compare there
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
TOL = {"float32": 2e-5, "float64": 1e-10}
D, H, FF = 8, 2, 12
S, T, N = 5, 4, 3  # source and target lengths, batch


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _compare(mine: Any, theirs: Any, dtype: str, what: str) -> None:
    assert tuple(mine.shape) == tuple(theirs.shape), what
    tol = TOL[dtype]
    np.testing.assert_allclose(_np(mine), _np(theirs), rtol=tol, atol=tol, err_msg=what)


def _causal(n: int) -> np.ndarray:
    return np.triu(np.ones((n, n), dtype=bool), 1)


def _padding(n: int, length: int) -> np.ndarray:
    """(n, length) key padding: item 1 pads its last two positions, item 2 its
    last one; no row is fully padded."""
    kpm = np.zeros((n, length), dtype=bool)
    kpm[1, -2:] = True
    kpm[-1, -1] = True
    return kpm


def _additive(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, -np.inf, 0.0)


@dataclass
class Case:
    """make(lib, **factory) from torch.nn or actnet.nn, called on inputs of
    `shapes` (batch-first or sequence-first as the case says) and masks."""

    id: str
    make: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    masks: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.id


def _seq(length: int, batch_first: bool) -> tuple[int, ...]:
    return (N, length, D) if batch_first else (length, N, D)


def _encoder_layer(**kw: Any) -> Callable[..., Any]:
    return lambda lib, **f: lib.TransformerEncoderLayer(
        D, H, FF, dropout=0.0, **kw, **f
    )


def _decoder_layer(**kw: Any) -> Callable[..., Any]:
    return lambda lib, **f: lib.TransformerDecoderLayer(
        D, H, FF, dropout=0.0, **kw, **f
    )


def _encoder(**kw: Any) -> Callable[..., Any]:
    def make(lib: Any, **f: Any) -> Any:
        layer = lib.TransformerEncoderLayer(D, H, FF, dropout=0.0, **kw, **f)
        return lib.TransformerEncoder(layer, 2, lib.LayerNorm(D, **f))

    return make


def _decoder(**kw: Any) -> Callable[..., Any]:
    def make(lib: Any, **f: Any) -> Any:
        layer = lib.TransformerDecoderLayer(D, H, FF, dropout=0.0, **kw, **f)
        return lib.TransformerDecoder(layer, 2, lib.LayerNorm(D, **f))

    return make


def _transformer(**kw: Any) -> Callable[..., Any]:
    return lambda lib, **f: lib.Transformer(D, H, 2, 2, FF, dropout=0.0, **kw, **f)


CASES = [
    Case(
        "encoder-layer-post-norm-float-masks",
        _encoder_layer(),
        (_seq(S, False),),
        {
            "src_mask": _additive(_causal(S)),
            "src_key_padding_mask": _additive(_padding(N, S)),
        },
    ),
    Case(
        "encoder-layer-pre-norm-batch-first-gelu-bool-masks",
        _encoder_layer(norm_first=True, batch_first=True, activation="gelu"),
        (_seq(S, True),),
        {"src_mask": _causal(S), "src_key_padding_mask": _padding(N, S)},
    ),
    Case(
        "encoder-layer-is-causal-hint",
        _encoder_layer(batch_first=True),
        (_seq(S, True),),
        {"src_mask": _additive(_causal(S)), "is_causal": True},
    ),
    Case(
        "encoder-layer-3d-mask-nobias-eps",
        _encoder_layer(bias=False, layer_norm_eps=1e-3),
        (_seq(S, False),),
        {"src_mask": np.random.default_rng(7).standard_normal((N * H, S, S))},
    ),
    Case("encoder-layer-unbatched", _encoder_layer(norm_first=True), ((S, D),)),
    Case(
        "decoder-layer-post-norm-all-masks",
        _decoder_layer(),
        (_seq(T, False), _seq(S, False)),
        {
            "tgt_mask": _additive(_causal(T)),
            "memory_mask": np.random.default_rng(8).standard_normal((T, S)),
            "tgt_key_padding_mask": _additive(_padding(N, T)),
            "memory_key_padding_mask": _additive(_padding(N, S)),
        },
    ),
    Case(
        "decoder-layer-pre-norm-batch-first-gelu-causal-hint",
        _decoder_layer(norm_first=True, batch_first=True, activation="gelu"),
        (_seq(T, True), _seq(S, True)),
        {
            "tgt_mask": _causal(T),
            "tgt_is_causal": True,
            "memory_key_padding_mask": _padding(N, S),
        },
    ),
    Case(
        "encoder-detects-causal-mask",
        _encoder(batch_first=True),
        (_seq(S, True),),
        {"mask": _additive(_causal(S))},
    ),
    Case(
        "encoder-pre-norm-bool-masks",
        _encoder(norm_first=True),
        (_seq(S, False),),
        {"mask": _causal(S), "src_key_padding_mask": _padding(N, S)},
    ),
    Case(
        "decoder-masks",
        _decoder(),
        (_seq(T, False), _seq(S, False)),
        {
            "tgt_mask": _additive(_causal(T)),
            "memory_key_padding_mask": _additive(_padding(N, S)),
        },
    ),
    Case(
        "transformer-post-norm-bool-masks",
        _transformer(),
        (_seq(S, False), _seq(T, False)),
        {
            "tgt_mask": _causal(T),
            "src_key_padding_mask": _padding(N, S),
            "tgt_key_padding_mask": _padding(N, T),
            "memory_key_padding_mask": _padding(N, S),
        },
    ),
    Case(
        "transformer-pre-norm-batch-first-gelu-float-masks",
        _transformer(norm_first=True, batch_first=True, activation="gelu"),
        (_seq(S, True), _seq(T, True)),
        {
            "src_mask": np.random.default_rng(9).standard_normal((S, S)),
            "tgt_mask": _additive(_causal(T)),
            "memory_mask": np.random.default_rng(10).standard_normal((T, S)),
            "src_key_padding_mask": _additive(_padding(N, S)),
        },
    ),
    Case(
        "transformer-batch-first-post-norm-causal-src",
        _transformer(batch_first=True),
        (_seq(S, True), _seq(T, True)),
        {"src_mask": _additive(_causal(S)), "tgt_mask": _additive(_causal(T))},
    ),
    Case(
        "transformer-unbatched",
        _transformer(norm_first=True),
        ((S, D), (T, D)),
        {"tgt_mask": _additive(_causal(T)), "src_key_padding_mask": _padding(N, S)[1]},
    ),
]


def _pair(case: Case, dtype: str) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = case.make(torch.nn, dtype=getattr(torch, dtype))
    mine = case.make(nn, dtype=getattr(at, dtype))
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for (name, p), (tname, tp) in zip(
        mine.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert name == tname and p.shape == tuple(tp.shape)
    mine.load_state_dict({k: at.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    return mine, theirs


def _masks(masks: dict[str, Any], dtype: str) -> tuple[dict[str, Any], dict[str, Any]]:
    mine: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for k, v in masks.items():
        if isinstance(v, np.ndarray):
            v = v.astype(dtype) if v.dtype.kind == "f" else v
            mine[k], theirs[k] = at.tensor(v), torch.tensor(v)
        else:
            mine[k] = theirs[k] = v
    return mine, theirs


def _run_and_compare(
    mine: Any, theirs: Any, case: Case, dtype: str, rng: np.random.Generator
) -> None:
    values = [rng.standard_normal(s).astype(dtype) for s in case.shapes]
    mine_in = [at.tensor(v, requires_grad=True) for v in values]
    theirs_in = [torch.tensor(v, requires_grad=True) for v in values]
    mine_kw, theirs_kw = _masks(case.masks, dtype)
    mine_out = mine(*mine_in, **mine_kw)
    theirs_out = theirs(*theirs_in, **theirs_kw)
    _compare(mine_out, theirs_out, dtype, "output")
    weight = rng.standard_normal(tuple(theirs_out.shape)).astype(dtype)
    (mine_out * at.tensor(weight)).sum().backward()
    (theirs_out * torch.tensor(weight)).sum().backward()
    for i, (a, b) in enumerate(zip(mine_in, theirs_in, strict=True)):
        _compare(a.grad, b.grad, dtype, f"grad of input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        assert p.grad is not None, name
        _compare(p.grad, theirs_params[name].grad, dtype, f"grad of {name}")
        p.grad = None
        theirs_params[name].grad = None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_torch(case: Case, dtype: str) -> None:
    mine, theirs = _pair(case, dtype)
    rng = np.random.default_rng(0)
    for mode in (True, False):
        mine.train(mode)
        theirs.train(mode)
        with warnings.catch_warnings():
            # bool key padding beside a float mask: torch's deprecation warning,
            # which both libraries give (test_mismatched_mask_warning_matches_torch)
            warnings.filterwarnings("ignore", "Support for mismatched")
            _run_and_compare(mine, theirs, case, dtype, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_eval_mode_with_dropout_matches_torch(dtype: str) -> None:
    """Default dropout 0.1, off in eval: equal outputs and gradients."""
    make = lambda lib, **f: lib.Transformer(D, H, 1, 2, FF, **f)
    case = Case("dropout", make, (_seq(S, False), _seq(T, False)))
    mine, theirs = _pair(case, dtype)
    mine.eval()
    theirs.eval()
    _run_and_compare(mine, theirs, case, dtype, np.random.default_rng(1))


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_torch_fast_path_agrees_off_the_padding() -> None:
    """torch's inference fast path (eval, no grad, batch_first, a key padding
    mask) runs on nested tensors and returns zeros, then the final norm, at
    padded positions; actnet computes them like the others. Every position
    that is not padding agrees."""
    case = Case("fast", _encoder(batch_first=True), (_seq(S, True),))
    mine, theirs = _pair(case, "float32")
    mine.eval()
    theirs.eval()
    x = np.random.default_rng(2).standard_normal(_seq(S, True)).astype("float32")
    kpm = _padding(N, S)
    with torch.no_grad():
        expected = _np(theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)))
    with at.no_grad():
        out = _np(mine(at.tensor(x), src_key_padding_mask=at.tensor(kpm)))
    tol = TOL["float32"]
    np.testing.assert_allclose(out[~kpm], expected[~kpm], rtol=tol, atol=tol)
    assert not np.allclose(out[kpm], expected[kpm])  # torch took its fast path


def test_generate_square_subsequent_mask_matches_torch() -> None:
    for size in (0, 1, 6):
        for tdt, adt in (
            (None, None),
            (torch.float64, at.float64),
            (torch.bool, at.bool),
        ):
            theirs = torch.nn.Transformer.generate_square_subsequent_mask(
                size, dtype=tdt
            )
            mine = nn.Transformer.generate_square_subsequent_mask(size, dtype=adt)
            assert str(mine.dtype) == str(theirs.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(_np(mine), _np(theirs))


def test_mismatched_mask_warning_matches_torch() -> None:
    """A bool key padding mask beside a float attention mask: the same
    deprecation warnings, the same output."""
    case = Case("warn", _encoder_layer(), (_seq(S, False),))
    mine, theirs = _pair(case, "float32")
    x = np.random.default_rng(3).standard_normal(_seq(S, False)).astype("float32")
    mask = _additive(_causal(S)).astype("float32")
    kpm = _padding(N, S)
    outputs = []
    messages = []
    for module, tensor in ((mine, at.tensor), (theirs, torch.tensor)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outputs.append(_np(module(tensor(x), tensor(mask), tensor(kpm))))
            mha = module.self_attn
            mha(
                tensor(x),
                tensor(x),
                tensor(x),
                key_padding_mask=tensor(kpm),
                attn_mask=tensor(mask),
            )
        messages.append(
            sorted(str(w.message) for w in caught if "mismatched" in str(w.message))
        )
    assert messages[0] == messages[1] and len(messages[0]) == 2
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)


def test_initialisation_matches_torch_statistics() -> None:
    """Transformer's xavier_uniform_ on every matrix, zero attention biases,
    Linear's biases in +-1/sqrt(fan_in), unit norms: torch's and ours both
    within the bound, both spreading over it."""
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(32, 4, 1, 1, 128)
    mine = nn.Transformer(32, 4, 1, 1, 128)
    theirs_params = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        a, b = _np(p), _np(theirs_params[name])
        if np.all(b == b.flat[0]):  # zeros and ones: equal
            np.testing.assert_array_equal(a, b, err_msg=name)
            continue
        if b.ndim > 1:
            bound = np.sqrt(6.0 / (b.shape[0] + b.shape[1]))
            spread = 0.1  # thousands of samples
        else:  # a Linear's bias: its weight's fan_in
            fan_in = theirs_params[name.replace("bias", "weight")].shape[1]
            bound = 1.0 / np.sqrt(fan_in)
            spread = 0.5  # tens of samples
        for values in (a, b):
            assert np.abs(values).max() <= bound, name
            assert np.abs(values).max() > (1 - spread) * bound, name
            assert abs(values.std() - bound / np.sqrt(3)) < spread * bound, name


def _seq2seq(lib: Any, vocab: int, batch_first: bool, norm_first: bool) -> Any:
    class Model(lib.Module):  # type: ignore[misc,name-defined]  # torch.nn or actnet.nn
        def __init__(self) -> None:
            super().__init__()
            self.embed = lib.Embedding(vocab, 16)
            self.transformer = lib.Transformer(
                16,
                4,
                2,
                2,
                32,
                dropout=0.0,
                batch_first=batch_first,
                norm_first=norm_first,
            )
            self.head = lib.Linear(16, vocab)

        def forward(self, src: Any, tgt: Any, tgt_mask: Any, src_kpm: Any) -> Any:
            out = self.transformer(
                self.embed(src),
                self.embed(tgt),
                tgt_mask=tgt_mask,
                src_key_padding_mask=src_kpm,
                memory_key_padding_mask=src_kpm,
            )
            return self.head(out)

    return Model()


@pytest.mark.parametrize(("batch_first", "norm_first"), [(False, False), (True, True)])
def test_training_steps_match_torch(batch_first: bool, norm_first: bool) -> None:
    vocab, steps = 11, 6
    torch.manual_seed(0)
    theirs = _seq2seq(torch.nn, vocab, batch_first, norm_first)
    mine = _seq2seq(nn, vocab, batch_first, norm_first)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: at.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    opt_m = nn.optim.SGD(mine.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(4)
    shape_src = (N, S) if batch_first else (S, N)
    shape_tgt = (N, T + 1) if batch_first else (T + 1, N)
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(T)
    mask_m = nn.Transformer.generate_square_subsequent_mask(T)
    kpm = _padding(N, S)
    losses_t, losses_m = [], []
    for _ in range(steps):
        src = rng.integers(0, vocab, shape_src)
        tgt = rng.integers(0, vocab, shape_tgt)
        inp, out = (tgt[:, :-1], tgt[:, 1:]) if batch_first else (tgt[:-1], tgt[1:])
        for model, opt, lib, tensor, mask, losses in (
            (theirs, opt_t, torch.nn.functional, torch.tensor, mask_t, losses_t),
            (mine, opt_m, None, at.tensor, mask_m, losses_m),
        ):
            logits = model(tensor(src), tensor(inp), mask, tensor(kpm))
            flat = logits.reshape(-1, vocab)
            target = tensor(out.copy()).reshape(-1)
            if lib is None:
                loss = nn.CrossEntropyLoss()(flat, target)
            else:
                loss = lib.cross_entropy(flat, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
    np.testing.assert_allclose(losses_m, losses_t, rtol=0, atol=1e-4)
    assert losses_t[-1] < losses_t[0]  # it trains: the comparison is not of constants
