"""The Tensor primitives against PyTorch 2.13.0: values and gradients, float32 to
1e-5 and float64 to 1e-7 relative, with broadcasting and non-contiguous inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at

torch.set_num_threads(2)

Op = Callable[..., Any]
CASES: list[tuple[str, Op, list[tuple[int, ...]], bool]] = [
    ("add", lambda a, b: a + b, [(3, 4), (4,)], False),
    ("sub", lambda a, b: a - b, [(3, 1), (1, 5)], False),
    ("mul", lambda a, b: a * b, [(2, 3, 4), (3, 1)], False),
    ("div", lambda a, b: a / b, [(3, 4), (4,)], True),
    ("pow", lambda a: a**2.5, [(6,)], True),
    ("matmul", lambda a, b: a @ b, [(2, 3, 5), (5, 4)], False),
    ("exp", lambda a: a.exp(), [(4, 3)], False),
    ("log", lambda a: a.log(), [(4, 3)], True),
    ("sqrt", lambda a: a.sqrt(), [(4, 3)], True),
    ("abs", lambda a: a.abs(), [(7,)], False),
    ("clamp", lambda a: a.clamp(-0.3, 0.4), [(9,)], False),
    ("sum", lambda a: a.sum(1, keepdim=True), [(3, 4, 2)], False),
    ("mean", lambda a: a.mean((0, 2)), [(3, 4, 2)], False),
    ("max", lambda a: a.max(1)[0], [(3, 5)], False),
    ("min", lambda a: a.min(), [(3, 5)], False),
    ("transpose", lambda a: a.transpose(0, 1) * 2, [(3, 4)], False),
    (
        "permute reshape",
        lambda a: a.permute(1, 0, 2).reshape(4, -1),
        [(3, 4, 2)],
        False,
    ),
    ("expand", lambda a: a.expand(3, 4, 5) * 1.5, [(4, 1)], False),
    ("index", lambda a: a[1:, [0, 2, 2]], [(3, 4)], False),
    ("gather", None, [(3, 4)], False),
    ("where", None, [(3, 4), (3, 4)], False),
    ("cat", None, [(2, 3), (2, 1)], False),
]


def inputs(
    shapes: list[tuple[int, ...]], dtype: str, positive: bool, seed: int
) -> list[np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        a = rng.standard_normal(shape)
        if positive:
            a = np.abs(a) + 0.5
        out.append(a.astype(dtype))
    return out


def run(name: str, op: Op | None, library: Any, values: list[Any]) -> Any:
    if name == "gather":
        index = library.tensor([[0, 3], [1, 1], [2, 0]])
        return values[0].gather(1, index)
    if name == "where":
        return library.where(values[0] > 0, values[0], values[1])
    if name == "cat":
        return library.cat([values[0], values[1] * 2], 1)
    assert op is not None
    return op(*values)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(
    ("name", "op", "shapes", "positive"), CASES, ids=[c[0] for c in CASES]
)
def test_matches_pytorch(
    name: str,
    op: Op | None,
    shapes: list[tuple[int, ...]],
    positive: bool,
    dtype: str,
    transposed: bool,
) -> None:
    rtol = 1e-5 if dtype == "float32" else 1e-7
    arrays = inputs(shapes, dtype, positive, seed=len(name))
    ours = [at.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_in: list[Any] = list(ours)
    theirs_in: list[Any] = list(theirs)
    if transposed:  # non-contiguous inputs: a transposed copy, transposed back
        ours_in = [t.T.clone().T if t.ndim == 2 else t for t in ours]
        theirs_in = [t.T.clone().T if t.ndim == 2 else t for t in theirs]
    y = run(name, op, at, ours_in)
    ty = run(name, op, torch, theirs_in)
    np.testing.assert_allclose(
        y.detach().numpy(), ty.detach().numpy(), rtol=rtol, atol=rtol
    )
    weights = np.random.default_rng(1).standard_normal(ty.shape).astype(dtype)
    (y * at.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    for mine, peer in zip(ours, theirs, strict=True):
        assert mine.grad is not None and peer.grad is not None
        np.testing.assert_allclose(
            mine.grad.numpy(), peer.grad.numpy(), rtol=rtol, atol=rtol
        )


def test_double_backward_matches_pytorch() -> None:
    a = np.random.default_rng(3).standard_normal((3, 3))
    x, tx = at.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = at.grad((x.exp() * x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((tx.exp() * tx).sum(), tx, create_graph=True)
    (gg,) = at.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-7)
