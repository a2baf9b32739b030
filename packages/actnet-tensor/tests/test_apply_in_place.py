"""apply_in_place: an out-of-place operation made in-place by the rules of the
in-place methods (what actnet.neuron's inplace=True forms are built on):
values into the tensor's own buffer, copy-on-write, the version counter, the
rebased history and its gradients, and the refusals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.ndarray import buffer_of


def arr(t: Any) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach() if isinstance(t, at.Tensor) else t)


def _address(t: at.Tensor) -> int:
    native = buffer_of(t.array).native
    return int(native.__array_interface__["data"][0])


def _relu(t: at.Tensor) -> at.Tensor:
    return at.maximum(t, at.zeros_like(t))


def test_values_go_into_the_tensors_own_buffer() -> None:
    values = np.array([-1.0, 2.0, -3.0])
    t = at.tensor(values)
    address = _address(t)
    assert at.apply_in_place(t, _relu, "relu_") is t
    np.testing.assert_array_equal(arr(t), np.maximum(values, 0))
    assert _address(t) == address
    assert t._version == 1


def test_an_ndarray_someone_holds_never_changes() -> None:
    t = at.tensor([-1.0, 2.0])
    held = t.array
    at.apply_in_place(t, _relu)
    np.testing.assert_array_equal(np.asarray(held), [-1.0, 2.0])
    np.testing.assert_array_equal(arr(t), [0.0, 2.0])


def test_the_history_is_rebased_and_gradients_are_the_out_of_place_ones() -> None:
    values = np.array([-1.5, 0.5, 2.0])
    grads = []
    for in_place in (False, True):
        x = at.tensor(values, requires_grad=True)
        y = x * x  # an intermediate
        z = at.apply_in_place(y, at.tanh, "tanh_") if in_place else at.tanh(y)
        assert (z is y) == in_place
        (z * x).sum().backward()
        grads.append(arr(x.grad))
    expected = np.tanh(values**2) + values * (1 - np.tanh(values**2) ** 2) * 2 * values
    np.testing.assert_allclose(grads[0], expected, rtol=1e-12)
    np.testing.assert_array_equal(grads[1], grads[0])
    x = at.tensor(values, requires_grad=True)
    assert at.gradcheck(lambda a: at.apply_in_place(a * 1.0, at.sigmoid), [x])


def test_refusals() -> None:
    leaf = at.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"leaf tensor that requires grad.*\(relu_\)"
    ):
        at.apply_in_place(leaf, _relu, "relu_")
    with at.no_grad():
        at.apply_in_place(leaf, _relu, "relu_")  # allowed outside the graph
    x = at.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = y * y  # saves y
    at.apply_in_place(y, _relu)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        at.apply_in_place(at.tensor([1, 2]), at.sqrt)  # int64 -> float
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        at.apply_in_place(at.ones(2, 3), lambda t: t.sum(0))
    with pytest.raises(TypeError, match="argument 'input' must be Tensor, not list"):
        at.apply_in_place([1.0], _relu)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="fn must be callable"):
        at.apply_in_place(at.ones(2), "relu")  # type: ignore[arg-type]  # on purpose
