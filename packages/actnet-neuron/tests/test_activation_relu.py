from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "relu",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.relu(x),
        lambda x: np.maximum(x, 0),
        double_backward=True,
    ),
    Case(
        "relu of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.relu(x.T),
        lambda x: np.maximum(x.T, 0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_relu(case: Case) -> None:
    check(case, F)


def test_relu_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="relu: input must be a Tensor"):
        F.relu(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.relu(at.ones(2, requires_grad=True), inplace=True)


def test_relu_keeps_nan_and_passes_its_gradient() -> None:
    # PyTorch's relu propagates NaN (max, not a mask) and its backward blocks the
    # gradient only where the input is <= 0 (so a NaN input passes it).
    x = at.tensor([np.nan, -1.0, 0.0, 2.0], requires_grad=True)
    y = F.relu(x)
    np.testing.assert_array_equal(y.detach().numpy(), [np.nan, 0.0, 0.0, 2.0])
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0, 1.0])
