"""The inplace=True forms against torch.nn.functional's (values and gradients
in float32 and float64, the neuron test cases), and where they differ on
purpose: torch refuses the backward of leaky_relu_ with a negative slope and of
elu_ with a negative alpha (its in-place backward reads the overwritten
values); actnet's in-place forms keep the input's history, so they give the
out-of-place gradient there."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_inplace_forms import CASES

import actnet.neuron as F
import actnet.tensor as at

TORCH_REFUSES = {"leaky_relu_ negative slope", "elu_ negative alpha"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "case", [c for c in CASES if c.name not in TORCH_REFUSES], ids=str
)
def test_inplace_forms_match_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "negative"),
    [("leaky_relu_", "negative slope"), ("elu_", "elu backward")],
)
def test_a_negative_slope_in_place_torch_refuses_and_actnet_differentiates(
    name: str, negative: str
) -> None:
    values = np.array([-1.5, -0.5, 0.5, 2.0])
    tx = torch.tensor(values, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tx * 1.0, -0.5)
    with pytest.raises(RuntimeError, match=negative):
        ty.sum().backward()
    x = at.tensor(values, requires_grad=True)
    y = getattr(F, name)(x * 1.0, -0.5)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    out_of_place = torch.tensor(values, requires_grad=True)
    plain = name.rstrip("_")
    getattr(torch.nn.functional, plain)(out_of_place, -0.5).sum().backward()
    assert x.grad is not None and out_of_place.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), out_of_place.grad.numpy(), rtol=1e-12)
