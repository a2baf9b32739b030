"""instance_norm against torch.nn.functional.instance_norm: the tests' cases
(values and gradients), and the running statistics after a few updates."""

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
from test_normalization_instance_norm import CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if "random" not in c.tags], ids=str)
def test_instance_norm_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]  # harness Case


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 3, 5), (2, 3, 2, 5), (2, 3, 2, 2, 3)])
def test_instance_norm_running_statistics_match_torch(
    shape: tuple[int, ...], dtype: str
) -> None:
    rng = np.random.default_rng(5)
    mean = rng.standard_normal(3).astype(dtype)
    var = (rng.random(3) + 0.5).astype(dtype)
    ours = [at.tensor(mean), at.tensor(var)]
    theirs = [torch.tensor(mean), torch.tensor(var)]
    rtol = 1e-7 if dtype == "float64" else 1e-5
    for _ in range(3):
        x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
        y = F.instance_norm(at.tensor(x), *ours, momentum=0.2)
        ty = torch.nn.functional.instance_norm(torch.tensor(x), *theirs, momentum=0.2)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=rtol, atol=rtol)
    for mine, peer in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), peer.numpy(), rtol=rtol, atol=rtol)
    x = rng.standard_normal(shape).astype(dtype)
    y = F.instance_norm(at.tensor(x), *ours, use_input_stats=False)
    ty = torch.nn.functional.instance_norm(
        torch.tensor(x), *theirs, use_input_stats=False
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("shape", [(2, 3, 1), (4, 3), (3,)])
def test_instance_norm_refuses_one_spatial_element_as_torch(
    shape: tuple[int, ...],
) -> None:
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        torch.nn.functional.instance_norm(torch.zeros(shape))
    # (3,): torch's message again; ours says the input must be (N, C, *)
    with pytest.raises(ValueError, match=r"more than 1 spatial element|must be"):
        F.instance_norm(at.zeros(shape))
