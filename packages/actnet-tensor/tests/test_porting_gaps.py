"""Porting gaps of issue 13 without torch (crosscheck/test_porting_gaps_torch.py
compares each with torch): the default dtype, bool indices, mixed-dtype
products, index assignment of a value that does not broadcast."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import actnet.tensor as at


def test_default_dtype_is_process_global_and_followed() -> None:
    assert at.get_default_dtype() == at.float32
    thread = threading.Thread(target=at.set_default_dtype, args=(at.float64,))
    thread.start()
    thread.join()
    try:
        assert at.get_default_dtype() == at.float64  # set in another thread
        assert at.tensor([0.1]).item() == 0.1  # not rounded through float32
        assert (at.tensor([1, 2]) * 0.5).dtype == at.float64
        assert (at.tensor([1, 2]) / 2).dtype == at.float64
        assert at.tensor(np.ones(2, np.float32)).dtype == at.float32
    finally:
        at.set_default_dtype(at.float32)
    assert (at.tensor([1, 2]) * 0.5).dtype == at.float32


@pytest.mark.parametrize("bad", [at.int64, at.complex64, "float64", np.float64])
def test_default_dtype_refuses_what_torch_refuses(bad: object) -> None:
    with pytest.raises(TypeError, match="only floating-point types"):
        at.set_default_dtype(bad)
    assert at.get_default_dtype() == at.float32


def test_bool_list_and_empty_list_index() -> None:
    x = at.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(x[[True, False, True]].numpy(), [[0, 1], [4, 5]])
    assert x[[]].shape == (0, 2)
    with pytest.raises(IndexError, match="The shape of the mask"):
        x[[True, False]]


def test_matmul_refuses_two_dtypes() -> None:
    a, b = at.ones(2, 2), at.ones(2, 2, dtype=at.float64)
    with pytest.raises(RuntimeError, match="got: float != double"):
        a @ b
    with pytest.raises(RuntimeError, match="expected scalar type Float"):
        at.bmm(a[None], b[None])
    assert (a @ b.float()).dtype == at.float32


def test_index_assignment_that_does_not_broadcast() -> None:
    x = at.zeros(3, 4)
    with pytest.raises(RuntimeError, match="expanded size of the tensor"):
        x[:2] = at.ones(3, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[[True, False, True]] = at.ones(3)
    np.testing.assert_array_equal(x.numpy(), np.zeros((3, 4)))  # unchanged
