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
from test_normalization_batch_norm import CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if "random" not in c.tags], ids=str)
def test_batch_norm_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 5)])
def test_batch_norm_running_statistics_match_torch(
    shape: tuple[int, ...], dtype: str
) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    mean = rng.standard_normal(3).astype(dtype)
    var = (rng.random(3) + 0.5).astype(dtype)
    ours = [at.tensor(mean), at.tensor(var)]
    theirs = [torch.tensor(mean), torch.tensor(var)]
    for _ in range(2):
        F.batch_norm(at.tensor(x), *ours, training=True, momentum=0.2)
        torch.nn.functional.batch_norm(
            torch.tensor(x), *theirs, training=True, momentum=0.2
        )
    rtol = 1e-7 if dtype == "float64" else 1e-5
    for mine, peer in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), peer.numpy(), rtol=rtol, atol=rtol)
