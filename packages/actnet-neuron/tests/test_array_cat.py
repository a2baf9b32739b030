from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((2, 3)), rng.standard_normal((1, 3))],
        lambda F, x, y: F.cat([x, y]),
        lambda x, y: np.concatenate([x, y]),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "dim -1, three, one of them a transposed view",
        lambda rng: [
            rng.standard_normal((2, 1)),
            rng.standard_normal((3, 2)),
            rng.standard_normal((2, 4)),
        ],
        lambda F, x, y, z: F.cat((x, y.T, z), dim=-1),
        lambda x, y, z: np.concatenate([x, y.T, z], axis=-1),
        differentiable=(0, 1, 2),
    ),
    Case(
        "3-d, middle dim, one input without grad",
        lambda rng: [rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 1, 3))],
        lambda F, x, y: F.cat([x, y], 1),
        lambda x, y: np.concatenate([x, y], axis=1),
        differentiable=(1,),
    ),
    Case(
        "concat, the alias",
        lambda rng: [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))],
        lambda F, x, y: F.concat([x, y], dim=1),
        lambda x, y: np.concatenate([x, y], axis=1),
        differentiable=(0, 1),
    ),
    Case(
        "float32 and float64 promote",
        lambda rng: [rng.standard_normal((1, 3)), rng.standard_normal((2, 3))],
        lambda F, x, y: F.cat([x.float(), y]),
        lambda x, y: np.concatenate([x.astype(np.float32), y]),
        differentiable=(1,),
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(0, 9, 3), rng.integers(0, 9, 2)],
        lambda F, x, y: F.cat([x, y]),
        lambda x, y: np.concatenate([x, y]),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_cat(case: Case) -> None:
    check(case, F)


def test_cat_refuses_bad_input() -> None:
    x = at.ones(2, 3)
    with pytest.raises(TypeError, match="cat: tensors must be a sequence"):
        F.cat(x)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="cat: tensors must not be empty"):
        F.cat([])
    with pytest.raises(TypeError, match=r"cat: tensors\[1\] must be a Tensor"):
        F.cat([x, np.ones((2, 3))])  # type: ignore[list-item]  # on purpose
    with pytest.raises(RuntimeError, match=r"must agree except in dim 0.*tensors\[1\]"):
        F.cat([x, at.ones(2, 4)])
    with pytest.raises(RuntimeError, match="must agree except in dim 1"):
        F.cat([x, at.ones(2, 3, 1)], 1)
    with pytest.raises(IndexError, match="cat: dim 2 is out of range"):
        F.cat([x, x], 2)
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        F.concat([at.tensor(1.0), at.tensor(2.0)])
