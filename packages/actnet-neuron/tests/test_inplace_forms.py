"""The inplace=True forms (relu, leaky_relu, elu, silu, dropout, dropout2d; relu_,
leaky_relu_, elu_): values against NumPy, gradients by finite differences
(float64) through the harness, equal to the out-of-place forms; the input
itself is overwritten and returned; PyTorch's refusals: a leaf that requires
grad, and a tensor saved earlier for backward then overwritten."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at
from actnet.device import Generator


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _normal(rng: np.random.Generator) -> list[Any]:
    return [rng.standard_normal((3, 4))]


# x * 1.0: an intermediate (a leaf that requires grad is refused), so the
# harness's input tensor itself keeps its values for the oracle
CASES = [
    Case(
        "relu",
        _normal,
        lambda F, x: F.relu(x * 1.0, inplace=True),
        lambda x: np.maximum(x, 0),
        double_backward=True,
    ),
    Case(
        "relu_",
        _normal,
        lambda F, x: F.relu_(x * 1.0),
        lambda x: np.maximum(x, 0),
    ),
    Case(
        "leaky_relu 0.2",
        _normal,
        lambda F, x: F.leaky_relu(x * 1.0, 0.2, inplace=True),
        lambda x: np.where(x > 0, x, 0.2 * x),
        double_backward=True,
    ),
    Case(
        "leaky_relu_ negative slope",
        _normal,
        lambda F, x: F.leaky_relu_(x * 1.0, -0.5),
        lambda x: np.where(x > 0, x, -0.5 * x),
    ),
    Case(
        "elu",
        _normal,
        lambda F, x: F.elu(x * 1.0, inplace=True),
        _elu,
        double_backward=True,
    ),
    Case(
        "elu_ negative alpha",
        _normal,
        lambda F, x: F.elu_(x * 1.0, -0.5),
        lambda x: _elu(x, -0.5),
        double_backward=True,
    ),
    Case(
        "silu",
        _normal,
        lambda F, x: F.silu(x * 1.0, inplace=True),
        lambda x: x / (1 + np.exp(-x)),
        double_backward=True,
    ),
    Case(
        "relu in place, then used twice",
        _normal,
        lambda F, x: F.relu(x * 2.0, inplace=True) * x,
        lambda x: np.maximum(2 * x, 0) * x,
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_inplace_forms(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_inplace_forms_float32(case: Case) -> None:
    check_float32(case, F)


FORMS: list[tuple[str, Callable[..., at.Tensor], Callable[..., at.Tensor]]] = [
    ("relu", lambda x: F.relu(x, inplace=True), F.relu),
    ("relu_", F.relu_, F.relu),
    (
        "leaky_relu",
        lambda x: F.leaky_relu(x, 0.2, True),
        lambda x: F.leaky_relu(x, 0.2),
    ),
    ("leaky_relu_", lambda x: F.leaky_relu_(x, 3.0), lambda x: F.leaky_relu(x, 3.0)),
    ("elu", lambda x: F.elu(x, 0.7, True), lambda x: F.elu(x, 0.7)),
    ("elu_", F.elu_, F.elu),
    ("silu", lambda x: F.silu(x, inplace=True), F.silu),
    (
        "dropout",
        lambda x: F.dropout(x, 0.3, inplace=True, generator=Generator(4)),
        lambda x: F.dropout(x, 0.3, generator=Generator(4)),
    ),
    (
        "dropout2d",
        lambda x: F.dropout2d(x, 0.5, True, True, generator=Generator(4)),
        lambda x: F.dropout2d(x, 0.5, generator=Generator(4)),
    ),
]
IDS = [f[0] for f in FORMS]
SHAPE = (2, 3, 2, 2)  # (N, C, H, W), which dropout2d needs


@pytest.mark.parametrize(("name", "inplace", "outplace"), FORMS, ids=IDS)
def test_the_input_itself_is_overwritten_and_returned(
    name: str, inplace: Callable[..., at.Tensor], outplace: Callable[..., at.Tensor]
) -> None:
    values = np.random.default_rng(3).standard_normal(SHAPE).astype(np.float32)
    expected = np.asarray(outplace(at.tensor(values)))
    x = at.tensor(values)
    before = x.numpy()  # an NDArray taken before never changes (copy-on-write)
    out = inplace(x)
    assert out is x
    np.testing.assert_array_equal(np.asarray(x), expected)
    np.testing.assert_array_equal(before, values)


@pytest.mark.parametrize(("name", "inplace", "outplace"), FORMS, ids=IDS)
def test_gradients_equal_the_out_of_place_forms(
    name: str, inplace: Callable[..., at.Tensor], outplace: Callable[..., at.Tensor]
) -> None:
    values = np.random.default_rng(5).standard_normal(SHAPE)
    weight = at.tensor(np.random.default_rng(6).standard_normal(SHAPE))
    results = []
    for form in (outplace, inplace):
        x = at.tensor(values, requires_grad=True)
        y = x * 1.5  # an intermediate: its history is rebased
        out = form(y)
        (out * weight).sum().backward()
        assert x.grad is not None
        results.append((np.asarray(out.detach()), np.asarray(x.grad)))
    (out, grad), (out_, grad_) = results
    np.testing.assert_array_equal(out_, out)
    np.testing.assert_array_equal(grad_, grad)


@pytest.mark.parametrize(("name", "inplace", "outplace"), FORMS, ids=IDS)
def test_a_leaf_that_requires_grad_is_refused(
    name: str, inplace: Callable[..., at.Tensor], outplace: Callable[..., at.Tensor]
) -> None:
    leaf = at.ones(*SHAPE, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        inplace(leaf)
    with at.no_grad():  # outside the graph it is allowed, as in PyTorch
        inplace(leaf)
    assert leaf.grad_fn is None and leaf.requires_grad


@pytest.mark.parametrize(("name", "inplace", "outplace"), FORMS, ids=IDS)
def test_a_tensor_saved_earlier_then_overwritten_breaks_backward(
    name: str, inplace: Callable[..., at.Tensor], outplace: Callable[..., at.Tensor]
) -> None:
    x = at.tensor(np.linspace(-1.0, 1.0, 24).reshape(SHAPE), requires_grad=True)
    y = x * 2.0
    z = y * y  # saves y
    inplace(y)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_an_output_saved_before_the_in_place_change_breaks_backward() -> None:
    x = at.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = (x * 1.0).exp()  # exp saves its output, y
    F.relu(y, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_in_place_outside_the_graph_and_of_integers() -> None:
    x = at.tensor([-2, 0, 3])
    assert F.relu(x, inplace=True) is x
    np.testing.assert_array_equal(np.asarray(x), [0, 0, 3])
    assert x.dtype == at.int64
    y = at.tensor([-2.0, 4.0], requires_grad=True) * 1.0
    with at.no_grad():
        F.leaky_relu(y, 0.5, inplace=True)
    np.testing.assert_array_equal(np.asarray(y.detach()), [-1.0, 4.0])


def test_dropout_inplace_edge_probabilities() -> None:
    x = at.tensor([1.0, -2.0, 3.0])
    assert F.dropout(x, 0.5, training=False, inplace=True) is x  # untouched
    assert F.dropout(x, 0.0, inplace=True) is x
    np.testing.assert_array_equal(np.asarray(x), [1.0, -2.0, 3.0])
    leaf = at.tensor([1.0, 2.0], requires_grad=True)
    y = leaf * 3.0
    assert F.dropout(y, 1.0, inplace=True) is y  # everything dropped, in place
    np.testing.assert_array_equal(np.asarray(y.detach()), [0.0, 0.0])
    y.sum().backward()
    assert leaf.grad is not None
    np.testing.assert_array_equal(np.asarray(leaf.grad), [0.0, 0.0])
    four = at.ones(2, 3, 2, 2)
    assert F.dropout2d(four, 0.5, training=False, inplace=True) is four
    assert F.dropout2d(four, 0.5, inplace=True, generator=Generator(1)) is four
    channels = np.asarray(four)
    assert set(np.unique(channels)) <= {0.0, 2.0}
    assert np.all(channels == channels[:, :, :1, :1])  # whole channels
