"""grid_sample and affine_grid beside torch.nn.functional's (PyTorch 2.13.0):
every mode x padding mode x align_corners, 4-D and 5-D, float32 and float64,
values and the gradients of input, grid and theta; points exactly on pixel
centres, edges and nearest's ties with the grid's gradient too; the warnings,
the refusals' texts, and the dtypes under autocast."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import actnet.neuron as F
import actnet.tensor as at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_array_grid_sample import (  # F.grid_sample, F.affine_grid in torch's F
    AFFINE_CASES,
    CASES,
    EXACT_CASES,
    THROUGH_AFFINE,
    _exact_grid,
)

TF = torch.nn.functional


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "case", CASES + EXACT_CASES + AFFINE_CASES + THROUGH_AFFINE, ids=str
)
def test_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]  # a harness Case


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_gradient_at_exact_points(mode: str, padding: str, align: bool) -> None:
    """On a pixel's centre or edge the gradient takes one side, as PyTorch's."""
    x, grid = _exact_grid(np.random.default_rng(3))
    ours = [at.tensor(a, requires_grad=True) for a in (x, grid)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, grid)]
    F.grid_sample(*ours, mode, padding, align).sum().backward()
    TF.grid_sample(*theirs, mode, padding, align).sum().backward()
    for mine, peer in zip(ours, theirs, strict=True):
        assert mine.grad is not None and peer.grad is not None
        np.testing.assert_allclose(mine.grad.numpy(), peer.grad.numpy(), atol=1e-12)


def _warnings(call: Any) -> list[tuple[type[Warning], str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize(
    ("size", "align"),
    [((1, 1, 3, 3), None), ((1, 1, 1, 3), True), ((1, 1, 3, 3), True)],
)
def test_affine_grid_warnings_match(size: tuple[int, ...], align: Any) -> None:
    theta = np.random.default_rng(0).standard_normal((1, 2, 3))
    ours = _warnings(lambda: F.affine_grid(at.tensor(theta), size, align))
    theirs = _warnings(lambda: TF.affine_grid(torch.tensor(theta), size, align))
    assert ours == theirs


@pytest.mark.parametrize("align", [None, False])
def test_grid_sample_warnings_match(align: Any) -> None:
    x = np.zeros((1, 1, 2, 2))
    grid = np.zeros((1, 1, 1, 2))
    ours = _warnings(
        lambda: F.grid_sample(at.tensor(x), at.tensor(grid), align_corners=align)
    )
    theirs = _warnings(
        lambda: TF.grid_sample(torch.tensor(x), torch.tensor(grid), align_corners=align)
    )
    assert ours == theirs


def _error(call: Any) -> tuple[type[Exception], str]:
    with pytest.raises(Exception) as caught:  # any: compared below
        call()
    return caught.type, str(caught.value).splitlines()[0]


GRID_SAMPLE_ERRORS = [  # the same type and text as torch's
    ((2, 3, 4, 5), (2, 3, 3, 2), {"mode": "area"}),
    ((2, 3, 4, 5), (2, 3, 3, 2), {"padding_mode": "wrap"}),
    ((2, 3, 4, 5), (1, 3, 3, 2), {}),
    ((2, 3, 4, 5), (2, 3, 3, 3), {}),
    ((2, 3, 4, 5), (2, 3, 3, 1, 2), {}),
    ((2, 3, 4), (2, 3, 1), {}),
    ((2, 3, 0, 5), (2, 3, 3, 2), {}),
    ((1, 1, 2, 3, 4), (1, 2, 2, 2, 3), {"mode": "bicubic"}),
]


@pytest.mark.parametrize(("shape", "grid_shape", "kwargs"), GRID_SAMPLE_ERRORS)
def test_grid_sample_errors_match(
    shape: tuple[int, ...], grid_shape: tuple[int, ...], kwargs: dict[str, str]
) -> None:
    x, grid = np.zeros(shape), np.zeros(grid_shape)
    ours = _error(
        lambda: F.grid_sample(
            at.tensor(x), at.tensor(grid), align_corners=False, **kwargs
        )
    )
    theirs = _error(
        lambda: TF.grid_sample(
            torch.tensor(x), torch.tensor(grid), align_corners=False, **kwargs
        )
    )
    assert ours == theirs


AFFINE_GRID_ERRORS = [  # the same type and text as torch's
    ((2, 2, 3), (2, 1, 4, 0)),
    ((2, 2, 3), (2, 4, 5)),
    ((2, 2, 3), (2, 1, 3, 4, 5)),
    ((2, 3, 4), (2, 1, 4, 5)),
]


@pytest.mark.parametrize(("theta_shape", "size"), AFFINE_GRID_ERRORS)
def test_affine_grid_errors_match(
    theta_shape: tuple[int, ...], size: tuple[int, ...]
) -> None:
    theta = np.zeros(theta_shape)
    ours = _error(lambda: F.affine_grid(at.tensor(theta), size, align_corners=False))
    theirs = _error(
        lambda: TF.affine_grid(torch.tensor(theta), size, align_corners=False)
    )
    # torch prints theta's shape as torch.Size([...]), actnet as a tuple
    assert ours[0] == theirs[0]
    assert (
        ours[1]
        .replace("(2, 2, 3)", "torch.Size([2, 2, 3])")
        .replace("(2, 3, 4)", "torch.Size([2, 3, 4])")
        == theirs[1]
    )


def test_dtypes_under_autocast() -> None:
    """grid_sampler is on PyTorch's CPU float32 list; affine_grid's product is a
    bmm, on its lower-precision list."""
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((2, 2, 3)).astype(np.float32)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    with at.autocast("cpu", dtype=at.bfloat16):
        grid = F.affine_grid(at.tensor(theta), (2, 3, 4, 5), align_corners=False)
        y = F.grid_sample(at.tensor(x).to(at.bfloat16), grid, align_corners=False)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        tgrid = TF.affine_grid(torch.tensor(theta), (2, 3, 4, 5), align_corners=False)
        ty = TF.grid_sample(
            torch.tensor(x).to(torch.bfloat16), tgrid, align_corners=False
        )
    assert str(grid.dtype) == str(tgrid.dtype).removeprefix("torch.")
    assert str(y.dtype) == str(ty.dtype).removeprefix("torch.")
    np.testing.assert_allclose(y.numpy(), ty.float().numpy(), rtol=2e-2, atol=2e-2)
