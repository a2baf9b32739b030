"""actnet.nn layers against torch.nn: each layer built with the same arguments in
both libraries, torch's state dict loaded into ours, then forward outputs, input
and parameter gradients (train and eval), buffers, repr text and state-dict keys
compared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

TOL = {"float32": 1e-5, "float64": 1e-7}
Inputs = Callable[[np.random.Generator, str], list[np.ndarray]]


@dataclass
class Case:
    """A layer built as make(lib, **factory) from torch.nn or actnet.nn, called on
    inputs(rng, dtype); the inputs at `grad` positions are differentiated."""

    id: str
    make: Callable[..., Any]
    inputs: Inputs
    grad: tuple[int, ...] = (0,)
    factory: bool = True  # the constructor takes device= and dtype=
    kwargs: dict[str, Any] = field(default_factory=dict)  # forward keywords
    steps: int = 1  # forward/backward rounds in train mode (buffers)
    modes: tuple[str, ...] = ("train", "eval")

    def __str__(self) -> str:
        return self.id


def floats(*shape: int) -> Inputs:
    return lambda rng, dt: [rng.standard_normal(shape).astype(dt)]


def two_floats(a: tuple[int, ...], b: tuple[int, ...]) -> Inputs:
    return lambda rng, dt: [
        rng.standard_normal(a).astype(dt),
        rng.standard_normal(b).astype(dt),
    ]


def probs_and_targets(*shape: int) -> Inputs:
    return lambda rng, dt: [
        rng.uniform(0.05, 0.95, shape).astype(dt),
        rng.uniform(0, 1, shape).astype(dt),
    ]


def logits_and_classes(n: int, c: int, *rest: int, ignore: bool = False) -> Inputs:
    def make(rng: np.random.Generator, dt: str) -> list[np.ndarray]:
        target = rng.integers(0, c, (n, *rest))
        if ignore:
            target.flat[0] = -100
        return [rng.standard_normal((n, c, *rest)).astype(dt), target]

    return make


def log_probs_pair(*shape: int) -> Inputs:
    def make(rng: np.random.Generator, dt: str) -> list[np.ndarray]:
        p = rng.uniform(0.1, 1.0, shape)
        q = rng.uniform(0.1, 1.0, shape)
        return [
            np.log(p / p.sum(-1, keepdims=True)).astype(dt),
            (q / q.sum(-1, keepdims=True)).astype(dt),
        ]

    return make


def indices(high: int, *shape: int) -> Inputs:
    return lambda rng, dt: [rng.integers(0, high, shape)]


def weight_of(lib: Any, dt: Any, values: list[float]) -> Any:
    if lib is nn:
        return at.tensor(values, dtype=dt)
    return torch.tensor(values, dtype=dt)


LAYERS = [
    Case(
        "Identity",
        lambda lib, **f: lib.Identity(3, unused=1),
        floats(2, 3),
        factory=False,
    ),
    Case("Linear", lambda lib, **f: lib.Linear(5, 3, **f), floats(4, 5)),
    Case(
        "Linear-3d-nobias",
        lambda lib, **f: lib.Linear(5, 3, bias=False, **f),
        floats(2, 4, 5),
    ),
    Case("Linear-1d", lambda lib, **f: lib.Linear(5, 3, **f), floats(5)),
    Case(
        "Embedding",
        lambda lib, **f: lib.Embedding(10, 4, **f),
        indices(10, 3, 5),
        grad=(),
    ),
    Case(
        "Embedding-padding",
        lambda lib, **f: lib.Embedding(10, 4, padding_idx=2, **f),
        lambda rng, dt: [np.array([[2, 1, 2, 5], [0, 2, 9, 9]])],
        grad=(),
    ),
    Case(
        "Embedding-maxnorm",
        lambda lib, **f: lib.Embedding(10, 4, max_norm=1.0, norm_type=2.0, **f),
        lambda rng, dt: [np.array([[2, 1, 2, 5], [0, 3, 9, 9]])],
        grad=(),
    ),
    Case(
        "Embedding-negative-padding",
        lambda lib, **f: lib.Embedding(6, 3, padding_idx=-1, **f),
        lambda rng, dt: [np.array([5, 1, 5, 0])],
        grad=(),
    ),
    Case(
        "Dropout-p0", lambda lib, **f: lib.Dropout(p=0.0), floats(4, 5), factory=False
    ),
    Case(
        "Dropout-eval",
        lambda lib, **f: lib.Dropout(p=0.3),
        floats(4, 5),
        factory=False,
        modes=("eval",),
    ),
    Case("LayerNorm", lambda lib, **f: lib.LayerNorm(6, **f), floats(3, 4, 6)),
    Case(
        "LayerNorm-2d",
        lambda lib, **f: lib.LayerNorm([4, 6], eps=1e-3, **f),
        floats(3, 4, 6),
    ),
    Case(
        "LayerNorm-nobias",
        lambda lib, **f: lib.LayerNorm(6, bias=False, **f),
        floats(3, 6),
    ),
    Case(
        "LayerNorm-noaffine",
        lambda lib, **f: lib.LayerNorm(6, elementwise_affine=False, **f),
        floats(3, 6),
    ),
    Case("RMSNorm", lambda lib, **f: lib.RMSNorm(6, **f), floats(3, 4, 6)),
    Case(
        "RMSNorm-eps",
        lambda lib, **f: lib.RMSNorm([4, 6], eps=1e-6, **f),
        floats(3, 4, 6),
    ),
    Case(
        "RMSNorm-noaffine",
        lambda lib, **f: lib.RMSNorm(6, elementwise_affine=False, **f),
        floats(3, 6),
    ),
    Case("GroupNorm", lambda lib, **f: lib.GroupNorm(2, 6, **f), floats(3, 6, 5)),
    Case(
        "GroupNorm-4d",
        lambda lib, **f: lib.GroupNorm(3, 6, eps=1e-3, **f),
        floats(2, 6, 3, 4),
    ),
    Case(
        "GroupNorm-noaffine",
        lambda lib, **f: lib.GroupNorm(1, 4, affine=False, **f),
        floats(2, 4, 3),
    ),
    Case(
        "BatchNorm1d", lambda lib, **f: lib.BatchNorm1d(4, **f), floats(8, 4), steps=3
    ),
    Case(
        "BatchNorm1d-3d",
        lambda lib, **f: lib.BatchNorm1d(4, momentum=0.3, **f),
        floats(5, 4, 3),
        steps=3,
    ),
    Case(
        "BatchNorm1d-cumulative",
        lambda lib, **f: lib.BatchNorm1d(4, momentum=None, **f),
        floats(8, 4),
        steps=3,
    ),
    Case(
        "BatchNorm1d-noaffine",
        lambda lib, **f: lib.BatchNorm1d(4, affine=False, **f),
        floats(8, 4),
        steps=2,
    ),
    Case(
        "BatchNorm1d-notrack",
        lambda lib, **f: lib.BatchNorm1d(4, track_running_stats=False, **f),
        floats(8, 4),
        steps=2,
    ),
    Case(
        "BatchNorm2d",
        lambda lib, **f: lib.BatchNorm2d(3, **f),
        floats(4, 3, 5, 5),
        steps=3,
    ),
    Case(
        "BatchNorm2d-nobias",
        lambda lib, **f: lib.BatchNorm2d(3, bias=False, eps=1e-3, **f),
        floats(4, 3, 2, 2),
        steps=2,
    ),
    Case("Conv1d", lambda lib, **f: lib.Conv1d(3, 4, 3, **f), floats(2, 3, 9)),
    Case(
        "Conv1d-args",
        lambda lib, **f: lib.Conv1d(
            4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=False, **f
        ),
        floats(2, 4, 11),
    ),
    Case(
        "Conv1d-same",
        lambda lib, **f: lib.Conv1d(3, 4, 4, padding="same", dilation=2, **f),
        floats(2, 3, 9),
    ),
    Case(
        "Conv1d-reflect",
        lambda lib, **f: lib.Conv1d(3, 4, 3, padding=2, padding_mode="reflect", **f),
        floats(2, 3, 9),
    ),
    Case(
        "Conv1d-unbatched",
        lambda lib, **f: lib.Conv1d(3, 4, 3, padding="valid", **f),
        floats(3, 9),
    ),
    Case("Conv2d", lambda lib, **f: lib.Conv2d(3, 4, 3, **f), floats(2, 3, 7, 7)),
    Case(
        "Conv2d-args",
        lambda lib, **f: lib.Conv2d(
            4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, **f
        ),
        floats(2, 4, 8, 7),
    ),
    Case(
        "Conv2d-same",
        lambda lib, **f: lib.Conv2d(3, 4, (3, 5), padding="same", **f),
        floats(2, 3, 6, 6),
    ),
    Case(
        "Conv2d-circular",
        lambda lib, **f: lib.Conv2d(3, 4, 3, padding=1, padding_mode="circular", **f),
        floats(2, 3, 5, 6),
    ),
    Case(
        "Conv2d-replicate",
        lambda lib, **f: lib.Conv2d(
            3, 2, 3, padding=(2, 1), padding_mode="replicate", **f
        ),
        floats(1, 3, 5, 6),
    ),
    Case(
        "MaxPool2d",
        lambda lib, **f: lib.MaxPool2d(2),
        floats(2, 3, 6, 6),
        factory=False,
    ),
    Case(
        "MaxPool2d-args",
        lambda lib, **f: lib.MaxPool2d(
            (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True
        ),
        floats(2, 3, 7, 8),
        factory=False,
    ),
    Case(
        "MaxPool2d-indices",
        lambda lib, **f: lib.MaxPool2d(2, return_indices=True),
        floats(2, 3, 4, 4),
        factory=False,
    ),
    Case(
        "AvgPool2d",
        lambda lib, **f: lib.AvgPool2d(2),
        floats(2, 3, 6, 6),
        factory=False,
    ),
    Case(
        "AvgPool2d-args",
        lambda lib, **f: lib.AvgPool2d(
            3, stride=2, padding=1, ceil_mode=True, count_include_pad=False
        ),
        floats(2, 3, 8, 7),
        factory=False,
    ),
    Case(
        "AvgPool2d-divisor",
        lambda lib, **f: lib.AvgPool2d((2, 3), divisor_override=4),
        floats(3, 6, 6),
        factory=False,
    ),
    Case("Flatten", lambda lib, **f: lib.Flatten(), floats(2, 3, 4, 5), factory=False),
    Case(
        "Flatten-args",
        lambda lib, **f: lib.Flatten(0, 2),
        floats(2, 3, 4, 5),
        factory=False,
    ),
    Case(
        "Unflatten",
        lambda lib, **f: lib.Unflatten(1, (2, 3, 2)),
        floats(4, 12),
        factory=False,
    ),
    Case(
        "Unflatten-infer",
        lambda lib, **f: lib.Unflatten(-1, [3, -1]),
        floats(4, 12),
        factory=False,
    ),
    Case("ReLU", lambda lib, **f: lib.ReLU(), floats(4, 5), factory=False),
    Case("LeakyReLU", lambda lib, **f: lib.LeakyReLU(0.2), floats(4, 5), factory=False),
    Case(
        "LeakyReLU-default",
        lambda lib, **f: lib.LeakyReLU(),
        floats(4, 5),
        factory=False,
    ),
    Case("ELU", lambda lib, **f: lib.ELU(alpha=0.5), floats(4, 5), factory=False),
    Case("GELU", lambda lib, **f: lib.GELU(), floats(4, 5), factory=False),
    Case(
        "GELU-tanh",
        lambda lib, **f: lib.GELU(approximate="tanh"),
        floats(4, 5),
        factory=False,
    ),
    Case("SiLU", lambda lib, **f: lib.SiLU(), floats(4, 5), factory=False),
    Case("Sigmoid", lambda lib, **f: lib.Sigmoid(), floats(4, 5), factory=False),
    Case("Tanh", lambda lib, **f: lib.Tanh(), floats(4, 5), factory=False),
    Case(
        "Softplus",
        lambda lib, **f: lib.Softplus(beta=2.0, threshold=1.0),
        floats(4, 5),
        factory=False,
    ),
    Case("Softmax", lambda lib, **f: lib.Softmax(dim=1), floats(4, 5), factory=False),
    Case(
        "Softmax-neg", lambda lib, **f: lib.Softmax(-1), floats(2, 4, 5), factory=False
    ),
    Case(
        "LogSoftmax",
        lambda lib, **f: lib.LogSoftmax(dim=0),
        floats(4, 5),
        factory=False,
    ),
]

LOSSES = [
    Case(
        "MSELoss",
        lambda lib, **f: lib.MSELoss(),
        two_floats((4, 5), (4, 5)),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "MSELoss-sum",
        lambda lib, **f: lib.MSELoss(reduction="sum"),
        two_floats((4, 5), (4, 5)),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "L1Loss-none",
        lambda lib, **f: lib.L1Loss(reduction="none"),
        two_floats((4, 5), (4, 5)),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "SmoothL1Loss",
        lambda lib, **f: lib.SmoothL1Loss(beta=0.5),
        two_floats((4, 5), (4, 5)),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "HuberLoss",
        lambda lib, **f: lib.HuberLoss(reduction="sum", delta=0.7),
        two_floats((4, 5), (4, 5)),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "BCELoss",
        lambda lib, **f: lib.BCELoss(),
        probs_and_targets(4, 5),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "BCELoss-weight",
        lambda lib, **f: lib.BCELoss(
            weight=weight_of(lib, f["dt"], [1.0, 2.0, 0.5, 1.0, 3.0]), reduction="sum"
        ),
        probs_and_targets(4, 5),
        grad=(0,),
        factory=False,
    ),
    Case(
        "BCEWithLogitsLoss",
        lambda lib, **f: lib.BCEWithLogitsLoss(),
        two_floats((4, 5), (4, 5)),
        grad=(0,),
        factory=False,
    ),
    Case(
        "BCEWithLogitsLoss-pos-weight",
        lambda lib, **f: lib.BCEWithLogitsLoss(
            pos_weight=weight_of(lib, f["dt"], [1.0, 2.0, 0.5, 1.0, 3.0])
        ),
        probs_and_targets(4, 5),
        grad=(0,),
        factory=False,
    ),
    Case(
        "CrossEntropyLoss",
        lambda lib, **f: lib.CrossEntropyLoss(),
        logits_and_classes(6, 4),
        factory=False,
    ),
    Case(
        "CrossEntropyLoss-args",
        lambda lib, **f: lib.CrossEntropyLoss(
            weight=weight_of(lib, f["dt"], [1.0, 2.0, 0.5, 1.5]), label_smoothing=0.1
        ),
        logits_and_classes(6, 4, 3, ignore=True),
        factory=False,
    ),
    Case(
        "CrossEntropyLoss-probs",
        lambda lib, **f: lib.CrossEntropyLoss(reduction="sum"),
        lambda rng, dt: [
            rng.standard_normal((3, 4)).astype(dt),
            np.full((3, 4), 0.25, dtype=dt),
        ],
        factory=False,
    ),
    Case(
        "NLLLoss",
        lambda lib, **f: lib.NLLLoss(ignore_index=1),
        logits_and_classes(6, 4),
        factory=False,
    ),
    Case(
        "NLLLoss-weight",
        lambda lib, **f: lib.NLLLoss(
            weight=weight_of(lib, f["dt"], [1.0, 2.0, 0.5, 1.5]), reduction="none"
        ),
        logits_and_classes(5, 4, 2),
        factory=False,
    ),
    Case(
        "KLDivLoss",
        lambda lib, **f: lib.KLDivLoss(reduction="batchmean"),
        log_probs_pair(4, 5),
        grad=(0, 1),
        factory=False,
    ),
    Case(
        "KLDivLoss-logtarget",
        lambda lib, **f: lib.KLDivLoss(reduction="sum", log_target=True),
        two_floats((4, 5), (4, 5)),
        grad=(0, 1),
        factory=False,
    ),
]


def _mask_inputs(
    rng: np.random.Generator, dt: str, batch_first: bool = False
) -> list[np.ndarray]:
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    return [rng.standard_normal(shape).astype(dt) for _ in range(3)]


_CAUSAL = np.triu(np.ones((5, 5), dtype=bool), 1)
_KPM = np.array([[False] * 5, [False, False, False, True, True], [False] * 4 + [True]])

ATTENTION = [
    Case(
        "MHA",
        lambda lib, **f: lib.MultiheadAttention(8, 2, **f),
        _mask_inputs,
        grad=(0, 1, 2),
    ),
    Case(
        "MHA-self-batch-first-causal",
        lambda lib, **f: lib.MultiheadAttention(8, 4, batch_first=True, **f),
        lambda rng, dt: _mask_inputs(rng, dt, True),
        grad=(0, 1, 2),
        kwargs={"attn_mask": _CAUSAL, "is_causal": True, "need_weights": False},
    ),
    Case(
        "MHA-masks",
        lambda lib, **f: lib.MultiheadAttention(8, 2, **f),
        _mask_inputs,
        grad=(0, 1, 2),
        kwargs={
            "attn_mask": _CAUSAL,
            "key_padding_mask": _KPM,
            "average_attn_weights": False,
        },
    ),
    Case(
        "MHA-masks-sdpa",
        lambda lib, **f: lib.MultiheadAttention(8, 2, **f),
        _mask_inputs,
        grad=(0, 1, 2),
        kwargs={"attn_mask": _CAUSAL, "key_padding_mask": _KPM, "need_weights": False},
    ),
    Case(
        "MHA-bias-kv-zero-attn",
        lambda lib, **f: lib.MultiheadAttention(
            8, 2, add_bias_kv=True, add_zero_attn=True, **f
        ),
        _mask_inputs,
        grad=(0, 1, 2),
        kwargs={"key_padding_mask": _KPM},
    ),
    Case(
        "MHA-kdim-vdim-nobias",
        lambda lib, **f: lib.MultiheadAttention(8, 2, bias=False, kdim=3, vdim=5, **f),
        lambda rng, dt: [
            rng.standard_normal((4, 2, 8)).astype(dt),
            rng.standard_normal((6, 2, 3)).astype(dt),
            rng.standard_normal((6, 2, 5)).astype(dt),
        ],
        grad=(0, 1, 2),
    ),
    Case(
        "MHA-float-3d-mask",
        lambda lib, **f: lib.MultiheadAttention(8, 2, dropout=0.3, **f),
        _mask_inputs,
        grad=(0, 1, 2),
        kwargs={
            "attn_mask": np.random.default_rng(5).standard_normal((6, 5, 5)),
            "key_padding_mask": np.where(_KPM, -1e4, 0.0),
        },
        modes=("eval",),
    ),
    Case(
        "MHA-unbatched",
        lambda lib, **f: lib.MultiheadAttention(8, 2, **f),
        lambda rng, dt: [rng.standard_normal((5, 8)).astype(dt) for _ in range(3)],
        grad=(0, 1, 2),
    ),
]


def _to_torch(a: np.ndarray, grad: bool) -> torch.Tensor:
    return torch.tensor(a, requires_grad=grad)


def _to_ours(a: np.ndarray, grad: bool) -> at.Tensor:
    return at.tensor(a, requires_grad=grad)


def _outputs(out: Any) -> list[Any]:
    if isinstance(out, tuple):
        return [o for o in out if o is not None]
    return [out]


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _build(case: Case, dtype: str) -> tuple[torch.nn.Module, nn.Module]:
    tdt, adt = getattr(torch, dtype), getattr(at, dtype)
    torch.manual_seed(0)
    if case.factory:
        tm = case.make(torch.nn, dtype=tdt)
        am = case.make(nn, dtype=adt)
    else:
        tm = case.make(torch.nn, dt=tdt).to(tdt)
        am = case.make(nn, dt=adt)
    am.load_state_dict({k: at.tensor(_np(v)) for k, v in tm.state_dict().items()})
    return tm, am


def _compare(a: np.ndarray, b: np.ndarray, dtype: str, what: str) -> None:
    tol = TOL[dtype] if np.issubdtype(np.asarray(a).dtype, np.floating) else 0
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


def _run(
    case: Case, dtype: str, tm: torch.nn.Module, am: nn.Module, rng: np.random.Generator
) -> None:
    arrays = case.inputs(rng, dtype)
    kwargs = {
        k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for k, v in case.kwargs.items()
    }
    tin = [_to_torch(a, i in case.grad) for i, a in enumerate(arrays)]
    ain = [_to_ours(a, i in case.grad) for i, a in enumerate(arrays)]
    tkw = {
        k: torch.tensor(v) if isinstance(v, np.ndarray) else v
        for k, v in kwargs.items()
    }
    akw = {
        k: at.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    touts = _outputs(tm(*tin, **tkw))
    aouts = _outputs(am(*ain, **akw))
    assert len(touts) == len(aouts)
    for j, (t, a) in enumerate(zip(touts, aouts, strict=True)):
        assert tuple(t.shape) == tuple(a.shape), f"output {j}"
        _compare(_np(t), _np(a), dtype, f"output {j}")
    upstream = [
        rng.standard_normal(tuple(t.shape)).astype(dtype)
        for t in touts
        if t.is_floating_point()
    ]
    if not upstream or not any(t.requires_grad for t in touts):
        return
    tloss = sum(
        (t * torch.tensor(g)).sum() for t, g in zip(touts, upstream, strict=False)
    )
    aloss = None
    for a, g in zip(aouts, upstream, strict=False):
        term = (a * at.tensor(g)).sum()
        aloss = term if aloss is None else aloss + term
    assert aloss is not None
    tloss.backward()
    aloss.backward()
    for i in case.grad:
        _compare(_np(tin[i].grad), _np(ain[i].grad), dtype, f"input {i} grad")
    tparams = dict(tm.named_parameters())
    for name, p in am.named_parameters():
        tp = tparams[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(_np(p.grad)), name
            continue
        _compare(_np(tp.grad), _np(p.grad), dtype, f"grad of {name}")
        tp.grad = None
        p.grad = None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", LAYERS + LOSSES + ATTENTION, ids=str)
def test_layer_matches_torch(case: Case, dtype: str) -> None:
    tm, am = _build(case, dtype)
    assert repr(am) == repr(tm)
    assert list(am.state_dict()) == list(tm.state_dict())
    rng = np.random.default_rng(0)
    for mode in case.modes:
        tm.train(mode == "train")
        am.train(mode == "train")
        for _ in range(case.steps if mode == "train" else 1):
            _run(case, dtype, tm, am, rng)
        for name, tb in tm.state_dict().items():
            _compare(_np(tb), _np(am.state_dict()[name]), dtype, f"{mode}: {name}")


# ------------------------------------------------------------ TransformerBlock
class TorchBlock(torch.nn.Module):
    """TransformerBlock written with torch.nn parts, same names and order."""

    def __init__(
        self, d: int, h: int, d_ff: int, act: str, bias: bool, dtype: Any
    ) -> None:
        super().__init__()
        f = {"dtype": dtype}
        self.ln1 = torch.nn.LayerNorm(d, **f)
        self.attn = torch.nn.MultiheadAttention(d, h, bias=bias, batch_first=True, **f)
        self.dropout1 = torch.nn.Dropout(0.0)
        self.ln2 = torch.nn.LayerNorm(d, **f)
        activation = torch.nn.GELU() if act == "gelu" else torch.nn.ReLU()
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(d, d_ff, bias=bias, **f),
            activation,
            torch.nn.Dropout(0.0),
            torch.nn.Linear(d_ff, d, bias=bias, **f),
        )
        self.dropout2 = torch.nn.Dropout(0.0)

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        length = x.shape[1]
        causal = torch.nn.Transformer.generate_square_subsequent_mask(
            length, dtype=x.dtype
        )
        mask = causal if attn_mask is None else causal + attn_mask
        h = self.ln1(x)
        a = self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        x = x + self.dropout1(a)
        out: torch.Tensor = x + self.dropout2(self.mlp(self.ln2(x)))
        return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("act", "bias", "extra_mask"), [("gelu", True, False), ("relu", False, True)]
)
def test_transformer_block_matches_torch(
    dtype: str, act: str, bias: bool, extra_mask: bool
) -> None:
    tdt, adt = getattr(torch, dtype), getattr(at, dtype)
    torch.manual_seed(0)
    tm = TorchBlock(8, 2, 16, act, bias, tdt)
    am = nn.TransformerBlock(8, 2, d_ff=16, activation=act, bias=bias, dtype=adt)
    assert list(am.state_dict()) == list(tm.state_dict())
    am.load_state_dict({k: at.tensor(_np(v)) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 8)).astype(dtype)
    mask = rng.standard_normal((6, 6)).astype(dtype) if extra_mask else None
    tx, ax = torch.tensor(x, requires_grad=True), at.tensor(x, requires_grad=True)
    ty = tm(tx, None if mask is None else torch.tensor(mask))
    ay = am(ax, attn_mask=None if mask is None else at.tensor(mask))
    _compare(_np(ty), _np(ay), dtype, "output")
    g = rng.standard_normal(x.shape).astype(dtype)
    (ty * torch.tensor(g)).sum().backward()
    (ay * at.tensor(g)).sum().backward()
    _compare(_np(tx.grad), _np(ax.grad), dtype, "input grad")
    tparams = dict(tm.named_parameters())
    for name, p in am.named_parameters():
        _compare(_np(tparams[name].grad), _np(p.grad), dtype, f"grad of {name}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_transformer_block_matches_torch_encoder_layer(dtype: str) -> None:
    """The same block as torch.nn.TransformerEncoderLayer(norm_first=True), its
    keys renamed: norm1 -> ln1, self_attn -> attn, linear1/2 -> mlp.0/3."""
    tdt, adt = getattr(torch, dtype), getattr(at, dtype)
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoderLayer(
        8,
        2,
        dim_feedforward=16,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
        dtype=tdt,
    )
    am = nn.TransformerBlock(8, 2, d_ff=16, dtype=adt)
    rename = {
        "norm1": "ln1",
        "self_attn": "attn",
        "norm2": "ln2",
        "linear1": "mlp.0",
        "linear2": "mlp.3",
    }
    state = {}
    for k, v in tm.state_dict().items():
        head, rest = k.split(".", 1)
        state[f"{rename[head]}.{rest}"] = at.tensor(_np(v))
    am.load_state_dict(state)
    x = np.random.default_rng(2).standard_normal((2, 7, 8)).astype(dtype)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(7, dtype=tdt)
    ty = tm(torch.tensor(x, requires_grad=True), src_mask=causal, is_causal=True)
    ay = am(at.tensor(x, requires_grad=True))
    _compare(_np(ty), _np(ay), dtype, "output")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
def test_self_attention_of_one_tensor_matches_torch(
    dtype: str, batch_first: bool, need_weights: bool
) -> None:
    """query, key and value one Tensor: one product with the packed in_proj
    weight (as torch's _in_projection_packed); outputs, the input's gradient
    and every parameter's gradient as torch's."""
    tdt, adt = getattr(torch, dtype), getattr(at, dtype)
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=tdt)
    am = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=adt)
    am.load_state_dict({k: at.tensor(_np(v)) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 8)).astype(dtype)
    tx, ax = torch.tensor(x, requires_grad=True), at.tensor(x, requires_grad=True)
    tout, tw = tm(tx, tx, tx, need_weights=need_weights)
    aout, aw = am(ax, ax, ax, need_weights=need_weights)
    _compare(_np(tout), _np(aout), dtype, "output")
    if need_weights:
        _compare(_np(tw), _np(aw), dtype, "weights")
    g = rng.standard_normal(tout.shape).astype(dtype)
    (tout * torch.tensor(g)).sum().backward()
    (aout * at.tensor(g)).sum().backward()
    _compare(_np(tx.grad), _np(ax.grad), dtype, "input grad")
    for name, p in am.named_parameters():
        _compare(_np(dict(tm.named_parameters())[name].grad), _np(p.grad), dtype, name)
