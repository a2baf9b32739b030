"""What the ports of published PyTorch code needed of the tensor layer:
torch.add/sub/mul/div as functions and dot (values against NumPy, gradients
by finite differences: gradcheck, float64), the Python conversions of
one-element tensors, a leaf's .grad stored dense whatever view its gradient
arrived as (PyTorch's layout contract), `x[i] = v` with v's leading 1s
dropped, and `Tensor.is_cuda`. crosscheck/test_porting_ported_code_torch.py
compares with PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at

RNG = np.random.default_rng(7)


def rand(*shape: int) -> at.Tensor:
    return at.tensor(RNG.standard_normal(shape) + 3.0, requires_grad=True)


def arr(t: at.Tensor) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach())


CASES = [
    ("add", lambda a, b: at.add(a, b, alpha=0.5), lambda a, b: a + 0.5 * b),
    ("sub", lambda a, b: at.sub(a, b, alpha=2.0), lambda a, b: a - 2.0 * b),
    ("mul", at.mul, np.multiply),
    ("div", at.div, np.divide),
    ("add scalar first", lambda a, b: at.add(1.5, b), lambda a, b: 1.5 + b),
    (
        "sub scalar first",
        lambda a, b: at.sub(1.5, b, alpha=3),
        lambda a, b: 1.5 - 3 * b,
    ),
    ("mul scalar first", lambda a, b: at.mul(-2.0, b), lambda a, b: -2.0 * b),
    ("div scalar first", lambda a, b: at.div(1.5, b), lambda a, b: 1.5 / b),
    ("dot", at.dot, np.dot),
    ("Tensor.dot", lambda a, b: a.dot(b), np.dot),
]


@pytest.mark.parametrize(("name", "op", "oracle"), CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name: str, op: Any, oracle: Any) -> None:
    shapes = ((5,), (5,)) if "dot" in name else ((3, 4), (4,))
    a, b = rand(*shapes[0]), rand(*shapes[1])
    np.testing.assert_allclose(arr(op(a, b)), oracle(arr(a), arr(b)), rtol=1e-12)
    assert at.gradcheck(op, (a, b))


def test_both_scalars_make_a_0d_tensor() -> None:
    assert at.add(1, 2).tolist() == 3 and at.add(1, 2).dtype == at.int64
    assert at.div(1, 2).tolist() == 0.5 and at.div(1, 2).dtype == at.float32
    assert at.mul(2, 2.5).dtype == at.float32


def test_dot_refuses_other_shapes_and_dtypes() -> None:
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        at.dot(at.ones(2, 2), at.ones(2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        at.dot(at.ones(2), at.ones(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        at.dot(at.ones(2), at.ones(2, dtype=at.float64))
    with pytest.raises(TypeError, match="argument 'tensor' must be Tensor"):
        at.dot(at.ones(2), [1.0, 2.0])  # type: ignore[arg-type]  # the refusal tested


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_one_element_tensors_convert(shape: tuple[int, ...]) -> None:
    assert float(at.full(shape, 2.5)) == 2.5
    assert int(at.full(shape, 3, dtype=at.int64)) == 3
    assert bool(at.full(shape, True, dtype=at.bool)) is True
    assert [10, 20, 30][at.full(shape, 2, dtype=at.int64)] == 30


def test_other_tensors_do_not_convert() -> None:
    for t in (at.ones(2), at.ones(0), at.ones(1, 2)):
        for convert in (float, int, bool):
            with pytest.raises(TypeError, match="0-d array converts"):
                convert(t)


FOURS = np.full((2, 3), 4.0)
FIRST_ROW = np.array([[10.0] * 3, [0.0] * 3])
USES: list[tuple[str, Callable[[Any], Any], np.ndarray]] = [
    ("transposed", lambda w: (at.ones(4, 3) @ w.t()).sum(), FOURS),
    ("broadcast", lambda w: w.sum(0).sum(), np.ones((2, 3))),
    ("expanded", lambda w: (w[:1].expand(5, 3) * 2).sum(), FIRST_ROW),
]


@pytest.mark.parametrize(("name", "use", "expected"), USES, ids=[u[0] for u in USES])
def test_the_first_gradient_is_stored_dense(
    name: str, use: Callable[[Any], Any], expected: np.ndarray
) -> None:
    w = at.zeros(2, 3, requires_grad=True)
    use(w).backward()
    assert w.grad is not None and w.grad.is_contiguous()
    np.testing.assert_array_equal(w.grad.view(-1).numpy(), expected.ravel())
    use(w).backward()  # the second one adds into it, in place
    assert w.grad.is_contiguous()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * expected)


def test_create_graph_keeps_the_dense_gradient_differentiable() -> None:
    w = at.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (w.t() ** 3).sum().backward(create_graph=True)
    assert w.grad is not None and w.grad.is_contiguous() and w.grad.grad_fn is not None
    (gw,) = at.grad(w.grad.sum(), [w])
    np.testing.assert_allclose(gw.numpy(), 6 * w.detach().numpy())


def test_setitem_drops_the_values_leading_ones() -> None:
    x = at.zeros(3, 4)
    x[1] = at.ones(1, 4)
    x[2, 1:3] = at.full((1, 1, 2), 5.0)
    expected = np.zeros((3, 4))
    expected[1] = 1.0
    expected[2, 1:3] = 5.0
    np.testing.assert_array_equal(x.numpy(), expected)
    w = at.ones(1, 1, 4, requires_grad=True)
    y = at.zeros(3, 4)
    y[0] = w * 3  # recorded: the gradient reaches w in its own shape
    y.sum().backward()
    assert w.grad is not None and w.grad.shape == (1, 1, 4)
    np.testing.assert_array_equal(w.grad.numpy(), np.full((1, 1, 4), 3.0))
    # torch's RuntimeError (was ValueError; issue 13's porting gaps)
    with pytest.raises(RuntimeError, match="must be greater or equal to the number"):
        x[0] = at.ones(2, 4)  # only leading 1s go


def test_is_cuda_is_false_on_the_cpu() -> None:
    assert at.ones(2).is_cuda is False
    assert at.ones(2, device="reference").is_cuda is False
