"""Type promotion against PyTorch 2.13.0: every pair of dtypes both hold."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet.tensor._promotion import result_dtype

NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8"]
NAMES += ["float16", "float32", "float64", "complex64", "complex128"]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(NAMES, repeat=2)))
def test_tensor_tensor_promotion_is_pytorchs(a: str, b: str) -> None:
    expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
    result = result_dtype(np.dtype(a), np.dtype(b))
    assert str(result) == str(expected).removeprefix("torch.")
    if (a, b) != ("bool", "bool"):  # the device adds no bools
        assert (at.ones(2, dtype=a) * at.ones(2, dtype=b)).dtype == result
