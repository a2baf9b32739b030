"""dropout against PyTorch: the identity and p = 1 cases exactly; with 0 < p < 1,
the statistics and the scaling (the masks come from different generators)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import actnet.neuron as F
import actnet.tensor as at
from actnet.device import Generator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_noise_dropout import IDENTITY_CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", IDENTITY_CASES, ids=str)
def test_dropout_identity_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_match_torch(p: float, dtype: str) -> None:
    n = 100_000
    torch.manual_seed(0)
    x = np.random.default_rng(0).uniform(1.0, 2.0, n).astype(dtype)
    ours = at.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = F.dropout(ours, p=p, generator=Generator(11))
    ty = torch.nn.functional.dropout(theirs, p=p)
    for out, source in ((y.detach().numpy(), x), (ty.detach().numpy(), x)):
        kept = out != 0
        assert abs(1 - kept.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
        # the kept elements scaled by 1 / (1 - p), as PyTorch scales them
        np.testing.assert_allclose(
            out[kept], source[kept] / np.asarray(1 - p, dtype), rtol=1e-6
        )
    # the gradient is the same scaled mask
    y.sum().backward()
    ty.sum().backward()
    assert ours.grad is not None and theirs.grad is not None
    for grad, out in ((ours.grad.numpy(), y.detach().numpy()),
                      (theirs.grad.numpy(), ty.detach().numpy())):  # fmt: skip
        np.testing.assert_allclose(grad, (out != 0) / np.asarray(1 - p, dtype))
