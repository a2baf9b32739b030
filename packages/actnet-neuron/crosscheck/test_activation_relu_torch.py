from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_activation_relu import CASES

import actnet.neuron as F
import actnet.tensor as at


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_relu_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


def test_relu_of_nan_and_its_gradient_match_torch() -> None:
    values = [float("nan"), -1.0, 0.0, 2.0]
    x = at.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    F.relu(x).sum().backward()
    torch.relu(tx).sum().backward()
    np.testing.assert_array_equal(F.relu(x).detach().numpy(), torch.relu(tx).detach())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad)  # type: ignore[union-attr]
