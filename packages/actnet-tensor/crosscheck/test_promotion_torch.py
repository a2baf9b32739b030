"""Type promotion against PyTorch 2.13.0: every pair of dtypes both hold."""

from __future__ import annotations

import itertools
import operator
from typing import Any

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


# Not np.bool_ nor NumPy complex scalars: torch 2.13 takes those apart from the
# Python scalars they hold (int64 + np.True_ is float32 there, and a complex
# scalar loses its imaginary part with a ComplexWarning); actnet takes them as the
# Python scalars.
NUMPY_SCALARS = [np.float32(2.5), np.float64(0.125), np.int64(3), np.int8(2)]


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "float16"])
@pytest.mark.parametrize("scalar", NUMPY_SCALARS, ids=repr)
@pytest.mark.parametrize("reflected", [False, True])
def test_numpy_scalars_are_python_scalars_as_in_pytorch(
    dtype: str, scalar: np.generic, reflected: bool
) -> None:
    """`t * np.float32(2)` and `np.float64(0.125) * t`: PyTorch takes a NumPy
    scalar as the Python scalar it holds (attention's `1 / np.sqrt(d)`); NumPy
    must not turn the product into an ndarray through __array__."""
    values = np.arange(1, 4).astype(dtype)
    t, ours = torch.from_numpy(values.copy()), at.tensor(values)
    for op in (operator.add, operator.mul, operator.sub, operator.lt):

        def run(x: object, op: Any = op) -> Any:
            return op(scalar, x) if reflected else op(x, scalar)

        want = run(t)
        got = run(ours)
        assert isinstance(got, at.Tensor), op
        assert str(got.dtype) == str(want.dtype).removeprefix("torch."), op
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "uint8", "float32", "float64"])
def test_a_python_bool_beside_numbers_is_one_or_zero_as_in_pytorch(dtype: str) -> None:
    values = np.arange(1, 4).astype(dtype)
    t, ours = torch.from_numpy(values.copy()), at.tensor(values)
    for want, got in ((t + True, ours + True), (t * False, ours * False)):
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(np.asarray(got), want.numpy())
