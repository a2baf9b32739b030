"""actnet.neuron under `autocast("cpu")` beside torch.nn.functional under
`torch.autocast("cpu")` (PyTorch 2.13.0): for every function on PyTorch's CPU
op lists that actnet has, and the others a model meets next to them, the same
inputs give the same output dtype, the same gradient dtypes, and values within
bfloat16's rounding.

Values: |actnet - torch| <= 2e-2 * max|torch| + 2e-2. Both compute each
bfloat16 result in float32 and round it once (relative error 2**-9 each), but
they sum in different orders, so a value near a rounding boundary may round to
neighbouring bfloat16 values, and an operation downstream inherits that: a
few last places of 2**-8 each, 2e-2 covering some five of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.neuron as AF
import actnet.tensor as at

torch.set_num_threads(2)
# torch's note that its rms_norm of bfloat16 with a float32 weight is not fused
pytestmark = pytest.mark.filterwarnings(
    "ignore:Mismatch dtype between input and weight"
)
TF = torch.nn.functional
RTOL = ATOL = 2e-2


def _data(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


class Lib:
    """One library's spelling of what a case needs."""

    def __init__(self, torch_side: bool) -> None:
        self.torch = torch_side
        self.F: Any = TF if torch_side else AF
        self.ns: Any = torch if torch_side else at

    def t(self, array: np.ndarray, dtype: str = "float32") -> Any:
        x = self.ns.tensor(array).to(getattr(self.ns, dtype))
        return x.requires_grad_() if x.is_floating_point() else x


# (name, function of a Lib and its inputs, the inputs as (seed, shape, dtype))
Spec = tuple[str, Callable[..., Any], list[tuple[Any, ...]]]
X, W, B = (1, (4, 8), "float32"), (2, (6, 8), "float32"), (3, (6,), "float32")
H = (4, (4, 8), "bfloat16")
IMG = (5, (2, 3, 8, 8), "float32")
TARGET = ("target", (4,), "int64")
CASES: list[Spec] = [
    ("linear", lambda L, x, w, b: L.F.linear(x, w, b), [X, W, B]),
    (
        "linear float64",
        lambda L, x, w: L.F.linear(x, w),
        [(1, (4, 8), "float64"), (2, (6, 8), "float64")],
    ),
    ("matmul", lambda L, x, w: L.ns.matmul(x, w.T), [X, W]),
    ("bmm", lambda L, x, w: L.ns.bmm(x[None], w.T[None]), [X, W]),
    ("addmm", lambda L, b, x, w: L.ns.addmm(b, x, w.T), [B, X, W]),
    ("einsum", lambda L, x, w: L.ns.einsum("ij,kj->ik", x, w), [X, W]),
    ("dot", lambda L, x: L.ns.dot(x[0], x[1]), [X]),
    ("bilinear", lambda L, x, w: L.F.bilinear(x, x, w), [X, (6, (3, 8, 8), "float32")]),
    (
        "conv1d",
        lambda L, x, w: L.F.conv1d(x, w),
        [(7, (2, 3, 9), "float32"), (8, (4, 3, 3), "float32")],
    ),
    (
        "conv2d",
        lambda L, x, w, b: L.F.conv2d(x, w, b, padding=1),
        [IMG, (9, (4, 3, 3, 3), "float32"), (10, (4,), "float32")],
    ),
    (
        "conv_transpose1d",
        lambda L, x, w: L.F.conv_transpose1d(x, w, stride=2),
        [(7, (2, 3, 9), "float32"), (8, (3, 4, 3), "float32")],
    ),
    (
        "conv_transpose2d",
        lambda L, x, w: L.F.conv_transpose2d(x, w),
        [IMG, (11, (3, 4, 3, 3), "float32")],
    ),
    (
        "sdpa causal",
        lambda L, q, k, v: L.F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [(12, (2, 2, 5, 8), "float32")] * 3,
    ),
    ("relu", lambda L, h: L.F.relu(h), [H]),
    ("gelu tanh", lambda L, h: L.F.gelu(h, approximate="tanh"), [H]),
    ("silu", lambda L, h: L.F.silu(h), [H]),
    ("softmax", lambda L, h: L.F.softmax(h, -1), [H]),
    ("log_softmax", lambda L, h: L.F.log_softmax(h, -1), [H]),
    (
        "layer_norm",
        lambda L, h, w, b: L.F.layer_norm(h, (8,), w, b),
        [H, (13, (8,), "float32"), (14, (8,), "float32")],
    ),
    ("rms_norm", lambda L, h, w: L.F.rms_norm(h, (8,), w), [H, (13, (8,), "float32")]),
    (
        "group_norm",
        lambda L, x, w, b: L.F.group_norm(x, 3, w, b),
        [(5, (2, 3, 8, 8), "bfloat16"), (15, (3,), "float32"), (16, (3,), "float32")],
    ),
    ("cross_entropy", lambda L, h, t: L.F.cross_entropy(h, t), [H, TARGET]),
    (
        "cross_entropy smoothing",
        lambda L, h, t: L.F.cross_entropy(h, t, label_smoothing=0.1),
        [H, TARGET],
    ),
    ("nll_loss", lambda L, h, t: L.F.nll_loss(L.F.log_softmax(h, -1), t), [H, TARGET]),
    ("mse_loss", lambda L, h, x: L.F.mse_loss(h, x), [H, X]),
    ("l1_loss", lambda L, h, x: L.F.l1_loss(h, x), [H, X]),
    ("smooth_l1_loss", lambda L, h, x: L.F.smooth_l1_loss(h, x), [H, X]),
    ("huber_loss", lambda L, h, x: L.F.huber_loss(h, x), [H, X]),
    (
        "kl_div",
        lambda L, h, x: L.F.kl_div(
            L.F.log_softmax(h, -1), L.F.softmax(x, -1), reduction="batchmean"
        ),
        [H, X],
    ),
    (
        "binary_cross_entropy",
        lambda L, h, x: L.F.binary_cross_entropy(
            L.ns.sigmoid(h), L.ns.sigmoid(x).detach()
        ),
        [H, X],
    ),
    (
        "binary_cross_entropy_with_logits",
        lambda L, h, x: L.F.binary_cross_entropy_with_logits(
            h, L.ns.sigmoid(x).detach()
        ),
        [H, X],
    ),
    (
        "pad reflect",
        lambda L, x: L.F.pad(x, (1, 1, 2, 2), mode="reflect"),
        [(5, (2, 3, 8, 8), "bfloat16")],
    ),
    (
        "pad replicate",
        lambda L, x: L.F.pad(x, (1, 2), mode="replicate"),
        [(7, (2, 3, 9), "bfloat16")],
    ),
    ("pad constant", lambda L, x: L.F.pad(x, (1, 1)), [(7, (2, 3, 9), "bfloat16")]),
    ("cat", lambda L, h, x: L.ns.cat([h, x]), [H, X]),
    ("stack", lambda L, h: L.ns.stack([h, h]), [H]),
    ("prod", lambda L, h: (h * 0.1 + 1).prod(0), [H]),
    ("sum", lambda L, h: h.sum(0), [H]),
    ("mean", lambda L, h: h.mean(), [H]),
    ("residual", lambda L, h, x: h + x, [H, X]),
    ("max_pool2d", lambda L, x: L.F.max_pool2d(x, 2), [(5, (2, 3, 8, 8), "bfloat16")]),
    ("avg_pool2d", lambda L, x: L.F.avg_pool2d(x, 2), [(5, (2, 3, 8, 8), "bfloat16")]),
    ("embedding", lambda L, t, w: L.F.embedding(t, w), [TARGET, W]),
]


def _inputs(lib: Lib, specs: list[tuple[Any, ...]]) -> list[Any]:
    out = []
    for seed, shape, dtype in specs:
        if seed == "target":
            out.append(lib.ns.tensor(np.array([0, 2, 5, 1])))
        else:
            out.append(lib.t(_data(seed, *shape), dtype))
    return out


@pytest.mark.parametrize(("name", "fn", "specs"), CASES, ids=[c[0] for c in CASES])
def test_dtypes_values_and_gradients_as_torch(
    name: str, fn: Callable[..., Any], specs: list[tuple[Any, ...]]
) -> None:
    results = []
    for lib in (Lib(False), Lib(True)):
        inputs = _inputs(lib, specs)
        with lib.ns.autocast("cpu", dtype=lib.ns.bfloat16):
            y = fn(lib, *inputs)
        # weighted sum: backward outside the region, as PyTorch advises
        weights = _data(99, *y.shape)
        (y.float() * lib.ns.tensor(weights)).sum().backward()
        grads = [
            (str(t.grad.dtype).removeprefix("torch."), t.grad.float().numpy())
            for t in inputs
            if t.is_floating_point() and t.grad is not None
        ]
        results.append((str(y.dtype).removeprefix("torch."), y, grads))
    (mine, my_y, my_grads), (theirs, their_y, their_grads) = results
    assert mine == theirs, f"{name}: output {mine}, torch's {theirs}"
    expected = their_y.detach().float().numpy()
    got = my_y.detach().float().numpy()
    scale = float(np.abs(expected).max()) if expected.size else 1.0
    np.testing.assert_allclose(got, expected, rtol=0, atol=RTOL * scale + ATOL)
    assert [g[0] for g in my_grads] == [g[0] for g in their_grads], name
    for (_, g), (_, tg) in zip(my_grads, their_grads, strict=True):
        gscale = float(np.abs(tg).max()) if tg.size else 1.0
        np.testing.assert_allclose(g, tg, rtol=0, atol=RTOL * gscale + ATOL)
