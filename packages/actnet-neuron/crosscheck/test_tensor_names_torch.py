"""torch.softmax, torch.log_softmax, torch.relu(_) and the Tensor methods of
those names, which actnet.neuron registers with actnet.tensor (issue 13: named
among the gaps), against PyTorch 2.13.0: values, gradients, dtype=, and the
refusal of a missing dim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.neuron  # noqa: F401  # registers the functions and methods
import actnet.tensor as at

X = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
G = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)

CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "torch.softmax": lambda lib, x: lib.softmax(x, 1),
    "torch.softmax dim=0": lambda lib, x: lib.softmax(x, dim=0),
    "torch.softmax dtype": lambda lib, x: lib.softmax(x, -1, dtype=lib.float64),
    "torch.log_softmax": lambda lib, x: lib.log_softmax(x, 1),
    "torch.log_softmax dtype": lambda lib, x: lib.log_softmax(x, 0, dtype=lib.float64),
    "torch.relu": lambda lib, x: lib.relu(x),
    "Tensor.softmax": lambda lib, x: x.softmax(-1),
    "Tensor.softmax dim=": lambda lib, x: x.softmax(dim=0),
    "Tensor.log_softmax": lambda lib, x: x.log_softmax(dim=1),
    "Tensor.relu": lambda lib, x: x.relu(),
    "Tensor.relu_ of a non-leaf": lambda lib, x: (x * 1).relu_(),
    "torch.relu_ of a non-leaf": lambda lib, x: lib.relu_(x * 1),
}


@pytest.mark.parametrize("case", sorted(CALLS))
def test_values_and_gradients(case: str) -> None:
    results = []
    for lib in (at, torch):
        x = lib.tensor(X, requires_grad=True)
        y = CALLS[case](lib, x)
        (y * lib.tensor(G).to(y.dtype)).sum().backward()
        results.append((str(y.dtype).removeprefix("torch."), y.detach(), x.grad))
    (dtype, y, grad), (want_dtype, want_y, want_grad) = results
    assert dtype == want_dtype
    np.testing.assert_allclose(np.asarray(y), want_y.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        np.asarray(grad), want_grad.numpy(), rtol=1e-5, atol=1e-6
    )


def test_a_missing_dim_is_refused() -> None:
    for lib in (at, torch):
        with pytest.raises(TypeError):
            lib.softmax(lib.tensor(X))
        with pytest.raises(TypeError):
            lib.tensor(X).log_softmax()
