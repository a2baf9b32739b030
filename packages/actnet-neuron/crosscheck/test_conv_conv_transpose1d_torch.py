from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_conv_conv_transpose1d import CASES

import actnet.neuron as F
import actnet.tensor as at


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose1d_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


REFUSED: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((1, 4, 5), (4, 2, 3), {"output_padding": 1}),
    ((1, 4, 5), (4, 2, 3), {"dilation": 0}),
    ((1, 4, 5), (4, 2, 3), {"padding": 4}),
    ((1, 4, 0), (4, 2, 3), {}),
    ((4, 5, 5, 5), (4, 2, 3), {}),
    ((1, 4, 5), (4, 0, 3), {}),
    ((1, 4, 5), (3, 2, 3), {}),
    ((4, 5), (3, 2, 3), {}),
    ((1, 4, 5), (4, 2, 3), {"groups": 3}),
    ((1, 0, 3), (0, 2, 2), {}),
]


@pytest.mark.parametrize(("x", "w", "kwargs"), REFUSED, ids=str)
def test_conv_transpose1d_refuses_as_torch_does(
    x: tuple[int, ...], w: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError) as info:
        torch.nn.functional.conv_transpose1d(torch.ones(x), torch.ones(w), **kwargs)
    theirs = str(info.value).replace("[[", "[").replace("]]", "]")
    with pytest.raises(RuntimeError) as mine:
        F.conv_transpose1d(at.ones(*x), at.ones(*w), **kwargs)
    assert str(mine.value) in (theirs, f"conv_transpose1d: {theirs}")
