"""What the ports of published PyTorch code (actnet-util's crosscheck/ported/)
needed of the tensor layer, against PyTorch 2.13.0: values, dtypes, gradients
and errors (the harness of test_porting_functions_torch.py).

- torch.add/sub/mul/div as functions, scalars first included, and torch.dot /
  Tensor.dot (torch.optim.LBFGS: `torch.mul(q, H_diag)`, `y.dot(s)`);
- the Python conversions of any one-element tensor (`float(loss)` of shape (1,));
- a leaf's .grad stored dense, whatever view its gradient arrived as (PyTorch's
  layout contract: LBFGS's `p.grad.view(-1)` after `w.t()`);
- `x[i] = v` with v's leading 1s dropped (the seq2seq tutorial's
  `decoder_attentions[di] = decoder_attention.data`, of shape (1, n));
- `Tensor.is_cuda` (DCGAN's forward asks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from test_porting_functions_torch import check, close, values

import actnet.tensor as at

DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_arithmetic_functions(name: str, dtype: str) -> None:
    a, b = values((3, 4), dtype, seed=1), values((4,), dtype, seed=2, kind="positive")
    check(lambda lib, x, y: getattr(lib, name)(x, y), [a, b], dtype)  # broadcast
    check(lambda lib, x: getattr(lib, name)(x, 2.5), [a], dtype)  # a scalar second
    check(lambda lib, y: getattr(lib, name)(1.5, y), [b], dtype)  # a scalar first
    check(lambda lib, y: getattr(lib, name)(np.float64(3.0), y), [b], dtype)
    if name in ("add", "sub"):
        check(lambda lib, x, y: getattr(lib, name)(x, y, alpha=0.5), [a, b], dtype)
        check(lambda lib, y: getattr(lib, name)(2, y, alpha=3), [b], dtype)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_arithmetic_function_dtypes(name: str) -> None:
    ints = np.array([1, 2, 3])
    cases: list[tuple[Any, Any]] = [
        (ints, 2),  # integer tensor, integer scalar: integer (div: float32)
        (ints, 2.5),  # a float scalar: float32
        (2, ints),  # the scalar first
        (2.5, ints),
        (ints, ints.astype("float64")),
        (ints.astype("int32"), np.int64(2)),
    ]
    for x, y in cases:

        def make(lib: Any, v: Any) -> Any:
            return lib.tensor(v) if isinstance(v, np.ndarray) else v

        ours = getattr(at, name)(make(at, x), make(at, y))
        theirs = getattr(torch, name)(make(torch, x), make(torch, y))
        close(ours, theirs, 1e-7)
    for x, y in ((1, 2), (1, 2.5), (2.5, np.float64(4.0))):  # 0-d tensors
        close(getattr(at, name)(x, y), getattr(torch, name)(x, y), 1e-7)
    for lib in (at, torch):
        with pytest.raises(TypeError):
            getattr(lib, name)(1.5, [1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dot(dtype: str) -> None:
    u, v = values((8,), dtype, seed=3), values((8,), dtype, seed=4)
    check(lambda lib, a, b: lib.dot(a, b), [u, v], dtype)
    check(lambda lib, a, b: a.dot(b), [u, v], dtype)
    check(lambda lib, a, b: a[::2].dot(b[1::2]), [u, v], dtype)  # strided views
    for data in (np.zeros(0, dtype), np.array([1, 2, 3])):  # empty; integers
        ours = at.dot(at.tensor(data), at.tensor(data))
        close(ours, torch.dot(torch.tensor(data), torch.tensor(data)), 0)


def test_dot_refuses_what_torch_refuses() -> None:
    cases = [
        ((2, 2), (2,), "float32", "1D tensors expected, but got 2D and 1D"),
        ((3,), (4,), "float32", r"inconsistent tensor size, expected tensor \[3\]"),
        ((3,), (3,), "float64", "dot : expected both vectors to have same dtype"),
    ]
    for shape, other_shape, other_dtype, message in cases:
        for lib in (at, torch):
            other = lib.ones(other_shape, dtype=getattr(lib, other_dtype))
            with pytest.raises(RuntimeError, match=message):
                lib.dot(lib.ones(shape), other)
    for lib in (at, torch):
        with pytest.raises(TypeError, match="must be Tensor"):
            lib.dot(lib.ones(3), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 1, 1)])
def test_one_element_tensors_convert_to_python(shape: tuple[int, ...]) -> None:
    for data, dtype in ((2.5, "float32"), (3, "int64"), (True, "bool")):
        array = np.full(shape, data, dtype)
        ours, theirs = at.tensor(array), torch.tensor(array)
        for convert in (float, int, bool, complex):
            assert convert(ours) == convert(theirs)
        if dtype == "int64":
            assert [10, 20, 30, 40][ours] == [10, 20, 30, 40][theirs]
    grad = at.tensor(np.full(shape, 0.5), requires_grad=True)
    assert float(grad) == float(torch.tensor(np.full(shape, 0.5)))


def test_many_element_tensors_do_not_convert() -> None:
    for shape in ((2,), (0,), (1, 2)):
        array = np.ones(shape)
        for convert in (float, int, bool):
            with pytest.raises((TypeError, ValueError, RuntimeError)):
                convert(torch.tensor(array))
            with pytest.raises((TypeError, ValueError, RuntimeError)):
                convert(at.tensor(array))
    with pytest.raises(TypeError):
        [1, 2][at.tensor([1.0])]  # a float tensor is no index, one element or not


def _uses(lib: Any) -> dict[str, Any]:
    return {
        "transposed": lambda w: (lib.ones(4, 3) @ w.t()).sum(),
        "broadcast": lambda w: w.sum(0).sum(),
        "expanded": lambda w: (w[:1].expand(5, 3) * 2).sum(),
        "sliced": lambda w: (w[:, ::2] ** 2).sum(),
    }


@pytest.mark.parametrize("name", ["transposed", "broadcast", "expanded", "sliced"])
def test_grad_is_dense_as_torch(name: str) -> None:
    data = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    grads = []
    for lib in (at, torch):
        w = lib.tensor(data, requires_grad=True)
        _uses(lib)[name](w).backward()
        assert w.grad.is_contiguous()
        grads.append(w.grad.view(-1).numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


SETS = [
    ("row", lambda lib, x: x.__setitem__(1, lib.ones(1, 3))),
    ("rows", lambda lib, x: x.__setitem__(slice(2, 4), lib.full((1, 1, 2, 3), 2.0))),
    ("part", lambda lib, x: x.__setitem__((0, slice(None, 2)), lib.ones(1, 1, 2) * 3)),
    ("all ones", lambda lib, x: x.__setitem__((0, 0), lib.ones(1, 1))),
]


@pytest.mark.parametrize(("name", "assign"), SETS, ids=[s[0] for s in SETS])
def test_setitem_drops_the_values_leading_ones(name: str, assign: Any) -> None:
    results = []
    for lib in (at, torch):
        x = lib.zeros(4, 3)
        assign(lib, x)
        w = lib.ones(1, 3, requires_grad=True)
        y = lib.zeros(4, 3)
        y[2] = w * 2  # through autograd
        (y * lib.arange(12.0).reshape(4, 3)).sum().backward()
        results.append((x.numpy(), w.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_is_cuda() -> None:
    assert at.ones(2).is_cuda == torch.ones(2).is_cuda
