from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_conv_conv_transpose2d import CASES

import actnet.neuron as F
import actnet.tensor as at


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose2d_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


# (input shape, weight shape, keywords): inputs torch refuses
REFUSED: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((1, 4, 5, 5), (4, 2, 3, 3), {"output_padding": 1}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"stride": (2, 1), "output_padding": (1, 1)}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"stride": 2, "output_padding": 2}),
    ((1, 4, 5, 5), (3, 2, 3, 3), {}),
    ((4, 5, 5), (3, 2, 3, 3), {}),
    ((4, 5), (4, 2, 3, 3), {}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"padding": 4}),
    ((1, 1, 1, 1), (1, 1, 2, 2), {"stride": 2, "padding": (0, 1)}),
    ((1, 4, 0, 5), (4, 2, 3, 3), {}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"padding": -1}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"stride": 0}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"dilation": (2, 0)}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"stride": 2, "output_padding": -1}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"groups": 0}),
    ((1, 0, 3, 3), (0, 2, 2, 2), {}),
    ((1, 4, 5, 5), (4, 0, 3, 3), {}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"groups": 3}),
]


def _message(call: Callable[[], Any]) -> str:
    with pytest.raises(RuntimeError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize(("x", "w", "kwargs"), REFUSED, ids=str)
def test_conv_transpose2d_refuses_as_torch_does(
    x: tuple[int, ...], w: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    theirs = _message(
        lambda: torch.nn.functional.conv_transpose2d(
            torch.ones(x), torch.ones(w), **kwargs
        )
    )
    ours = _message(lambda: F.conv_transpose2d(at.ones(*x), at.ones(*w), **kwargs))
    # torch prints the weight's size in double brackets in one message ([[4, 2]])
    theirs = re.sub(r"\[\[(.*?)\]\]", r"[\1]", theirs)
    assert ours in (theirs, f"conv_transpose2d: {theirs}")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stride": 2, "padding": (3, 1)},
        {"stride": (3, 2), "dilation": (1, 3), "output_padding": (2, 2)},
        {"stride": 1, "dilation": 2, "output_padding": 1, "groups": 2},
    ],
    ids=str,
)
def test_conv_transpose2d_output_shape_matches_torch(kwargs: dict[str, Any]) -> None:
    theirs = torch.nn.functional.conv_transpose2d(
        torch.ones(2, 4, 5, 3), torch.ones(4, 3, 3, 2), **kwargs
    )
    ours = F.conv_transpose2d(at.ones(2, 4, 5, 3), at.ones(4, 3, 3, 2), **kwargs)
    assert ours.shape == tuple(theirs.shape)
