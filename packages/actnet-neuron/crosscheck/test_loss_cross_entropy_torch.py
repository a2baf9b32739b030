from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import actnet.neuron as F
import actnet.tensor as at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_loss_cross_entropy import CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_cross_entropy_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_every_target_ignored_matches_torch(
    reduction: str, label_smoothing: float
) -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    ours = at.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    options = {"reduction": reduction, "label_smoothing": label_smoothing}
    y = F.cross_entropy(ours, at.tensor([-100, -100, -100]), **options)  # type: ignore[arg-type]
    ty = torch.nn.functional.cross_entropy(
        theirs,
        torch.tensor([-100, -100, -100]),
        **options,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())  # NaN for mean
    y.sum().backward()
    ty.sum().backward()
    assert ours.grad is not None and theirs.grad is not None
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())
