"""The Tensor class: built in one place, its operators the operations themselves."""

from __future__ import annotations

import numpy as np
import pytest

import actnet.tensor as at
from actnet.tensor import _arithmetic, _math
from actnet.tensor._tensor_base import TensorBase, _make


def test_the_arithmetic_operators_are_the_operations() -> None:
    # No Python frame between `a + b` and the addition.
    assert at.Tensor.__add__ is _arithmetic.add
    assert at.Tensor.__radd__ is _arithmetic.add
    assert at.Tensor.__sub__ is _arithmetic.sub
    assert at.Tensor.__mul__ is _arithmetic.mul
    assert at.Tensor.__rmul__ is _arithmetic.mul
    assert at.Tensor.__truediv__ is _arithmetic.div
    assert at.Tensor.__matmul__ is _arithmetic.matmul
    assert at.Tensor.__neg__ is _arithmetic.neg
    assert at.Tensor.__pow__ is _math.pow


def test_every_operation_builds_a_tensor() -> None:
    a = at.tensor([1.0, 2.0], requires_grad=True)
    results = [a + a, a * 2.0, a.exp(), a.sum(), a[0], a.reshape(2, 1), a.detach()]
    results += [_make(a.array), at.where(a > 1.0, a, 0.0), at.cat([a, a])]
    for r in results:
        assert type(r) is at.Tensor and isinstance(r, TensorBase)


def test_make_fills_every_field() -> None:
    a = at.tensor([1.0])
    t = _make(a.array)
    assert t.array is a.array and t.grad is None and not t.requires_grad
    assert t.grad_fn is None and t._output_nr == 0 and t._version == 0
    assert t._extra is None
    y = a.requires_grad_() * 2.0
    made = _make(y.array, True, y.grad_fn, 0)
    assert made.requires_grad and made.grad_fn is y.grad_fn


def test_subclasses_and_as_subclass() -> None:
    class Sub(at.Tensor):
        __slots__ = ()

    s = at.tensor([1.0, 2.0]).as_subclass(Sub)
    assert type(s) is Sub
    assert type(s + s) is at.Tensor  # operations build Tensors
    np.testing.assert_array_equal((s * 2.0).numpy(), [2.0, 4.0])


def test_tensor_base_is_not_instantiated() -> None:
    with pytest.raises(TypeError, match="cannot be created directly"):
        TensorBase()
