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
from test_connection_embedding import CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_embedding_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"padding_idx": 1},
        {"padding_idx": -1},
        {"scale_grad_by_freq": True},
        {"padding_idx": 0, "scale_grad_by_freq": True},
    ],
    ids=str,
)
def test_embedding_gradient_options_match_torch(options: dict[str, object]) -> None:
    rng = np.random.default_rng(0)
    indices = np.array([[0, 1, 1], [3, 0, 1]])
    weight = rng.standard_normal((4, 3))
    grad = rng.standard_normal((2, 3, 3))
    ours = at.tensor(weight, requires_grad=True)
    theirs = torch.tensor(weight, requires_grad=True)
    y = F.embedding(at.tensor(indices), ours, **options)  # type: ignore[arg-type]
    ty = torch.nn.functional.embedding(torch.tensor(indices), theirs, **options)  # type: ignore[arg-type]
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    (y * at.tensor(grad)).sum().backward()
    (ty * torch.tensor(grad)).sum().backward()
    assert ours.grad is not None and theirs.grad is not None
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_embedding_max_norm_renormalises_as_torch(norm_type: float) -> None:
    """F.embedding with max_norm scales the looked-up rows above the norm in
    place (torch.embedding_renorm_), leaves the others, and differentiates the
    lookup of the renormalised rows: weight, output and gradient as torch's."""
    rng = np.random.default_rng(7)
    indices = np.array([[0, 2, 2], [4, 0, 1]])
    weight = rng.standard_normal((6, 3)) * 2.0
    ours = at.tensor(weight, requires_grad=True)
    theirs = torch.tensor(weight, requires_grad=True)
    out_ours = F.embedding(at.tensor(indices), ours, max_norm=1.5, norm_type=norm_type)
    out_theirs = torch.nn.functional.embedding(
        torch.tensor(indices), theirs, max_norm=1.5, norm_type=norm_type
    )
    np.testing.assert_allclose(np.asarray(ours.detach()), theirs.detach().numpy())
    assert not np.array_equal(np.asarray(ours.detach()), weight)  # rows did change
    np.testing.assert_allclose(np.asarray(out_ours.detach()), out_theirs.detach())
    grad = rng.standard_normal(out_theirs.shape)
    out_ours.backward(at.tensor(grad))
    out_theirs.backward(torch.tensor(grad))
    np.testing.assert_allclose(np.asarray(ours.grad), theirs.grad.numpy())
