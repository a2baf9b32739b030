"""More porting gaps of issue 13 against PyTorch 2.13.0, found by running
published PyTorch programs ported by their imports (tutorials, pytorch/examples,
llama, build-nanogpt): augmented assignment in place, torch.tensor of other
sequences and of one-element tensors, repeat's copy, mm and mv, range and NumPy
indices, broadcast_tensors, clone, finfo/iinfo, inference_mode and bare no_grad,
set_float32_matmul_precision, Generator, torch.cuda.manual_seed."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at


def outcome(lib: Any, call: Callable[[Any], Any]) -> tuple[str, Any]:
    """("ok", (dtype name, values)) or (error type name, message)."""
    try:
        result = call(lib)
    except Exception as exc:  # noqa: BLE001  # compared with torch's
        return type(exc).__name__, str(exc)
    if isinstance(result, tuple):
        return "ok", [outcome(lib, lambda _, r=r: r)[1] for r in result]
    if lib is torch:
        result = result.detach()
        return "ok", (str(result.dtype).removeprefix("torch."), result.tolist())
    return "ok", (str(result.dtype), result.tolist())


def same(call: Callable[[Any], Any], errors: bool = True) -> None:
    """call(at) and call(torch) give one dtype and values, or (with `errors`)
    one error type and message; else both raise the same error type."""
    got, want = outcome(at, call), outcome(torch, call)
    if got[0] != "ok" or want[0] != "ok":
        assert got[0] == want[0], (got, want)
        if errors:
            assert got == want
        return
    assert got == want


# ------------------------------------------------- augmented assignment
def _sgd_by_hand(lib: Any) -> Any:
    """The update of "Learning PyTorch with examples": `w -= lr * w.grad`
    inside no_grad changes w (a view of it sees the change)."""
    w = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    row = w[0]
    (w * w).sum().backward()
    with lib.no_grad():
        w -= 0.1 * w.grad
        w *= 2
        w += 1
        w /= 4
    return lib.stack([w.detach().reshape(-1), lib.cat([row.detach(), row.detach()])])


def _in_place(name: str, target: Any, other: Any) -> Any:
    """target after `target <op>= other` (the operator method `name`)."""
    getattr(target, name)(other)
    return target


AUGMENTED: dict[str, Callable[[Any], Any]] = {
    "sgd by hand": _sgd_by_hand,
    "view sees +=": lambda lib: _in_place("__iadd__", lib.zeros(3)[1:], 1),
    "pow": lambda lib: _in_place("__ipow__", lib.tensor([1.0, 3.0]), 2),
    "bool or": lambda lib: _in_place(
        "__ior__", lib.tensor([True, False]), lib.tensor([False, True])
    ),
    "bool xor": lambda lib: lib.tensor([True, False]) ^ lib.tensor([True, True]),
    "int and": lambda lib: _in_place("__iand__", lib.tensor([5, 3]), 6),
    "int xor scalar": lambda lib: 3 ^ lib.tensor([1, 2]),
    "int += float": lambda lib: lib.tensor([1, 2]).__iadd__(1.5),
    "leaf -=": lambda lib: lib.ones(2, requires_grad=True).__isub__(1),
}


@pytest.mark.parametrize("case", sorted(AUGMENTED))
def test_augmented_assignment_writes_in_place(case: str) -> None:
    same(AUGMENTED[case], errors=False)


def test_augmented_assignment_keeps_the_object() -> None:
    for lib in (at, torch):
        x = lib.zeros(2)
        y = x
        x += 1
        m = lib.tensor([True, False])
        n = m
        m |= lib.tensor([False, True])
        assert x is y and m is n
        assert y.tolist() == [1.0, 1.0] and n.tolist() == [True, True]


# ---------------------------------------------------------- creation
CREATION: dict[str, Callable[[Any], Any]] = {
    "deque": lambda lib: lib.tensor(deque([1.0, 2.0])),
    "range": lambda lib: lib.tensor(range(4)),
    "one-element tensors": lambda lib: lib.tensor([lib.tensor(0.5), 2.0]),
    "int tensor in list": lambda lib: lib.tensor([lib.tensor(3), 4]),
    "nested": lambda lib: lib.tensor([[lib.tensor(1.0)], [2.0]]),
    "two-element tensor": lambda lib: lib.tensor([lib.ones(2)]),
}


@pytest.mark.parametrize("case", sorted(CREATION))
def test_tensor_of_other_sequences(case: str) -> None:
    same(CREATION[case])


def test_repeat_copies() -> None:
    for lib in (at, torch):
        x = lib.ones(3)
        r = x.repeat(1)
        r.add_(1)
        s = lib.ones(3, 4).repeat(2, 1, 1)
        s.div_(2.0)  # not an expanded view: writable
        assert x.tolist() == [1.0] * 3 and r.tolist() == [2.0] * 3
        assert s.shape == (2, 3, 4) and float(s.sum()) == 12.0


# ------------------------------------------------------------ products
def _pair(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> Any:
    rng = np.random.default_rng(len(shape_a) * 10 + len(shape_b))
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    return lambda lib: (lib.tensor(a), lib.tensor(b))


def _method(name: str, shapes: tuple[tuple[int, ...], ...]) -> Any:
    """A call of Tensor method `name` on the pair of `shapes`."""
    return lambda lib: getattr(_pair(*shapes)(lib)[0], name)(_pair(*shapes)(lib)[1])


PRODUCTS: dict[str, Callable[[Any], Any]] = {
    "mm": lambda lib: lib.mm(*_pair((3, 4), (4, 2))(lib)),
    "mm method": _method("mm", ((3, 4), (4, 2))),
    "mm sizes": lambda lib: lib.mm(*_pair((3, 4), (3, 2))(lib)),
    "mm vector": lambda lib: lib.mm(*_pair((3, 4), (4,))(lib)),
    "mv": lambda lib: lib.mv(*_pair((3, 4), (4,))(lib)),
    "mv method": _method("mv", ((3, 4), (4,))),
    "mv sizes": lambda lib: lib.mv(*_pair((3, 4), (3,))(lib)),
    "mv matrix": lambda lib: lib.mv(*_pair((3, 4), (4, 1))(lib)),
}


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_products(case: str) -> None:
    got, want = outcome(at, PRODUCTS[case]), outcome(torch, PRODUCTS[case])
    assert got[0] == want[0], (got, want)
    if got[0] == "ok":
        assert got[1][0] == want[1][0]
        np.testing.assert_allclose(got[1][1], want[1][1], rtol=1e-5, atol=1e-6)


# ------------------------------------------------ indices, broadcasting
def _set(target: Any, key: Any) -> Any:
    """target after target[key] = 5."""
    target[key] = 5.0
    return target


INDEXING: dict[str, Callable[[Any], Any]] = {
    "range": lambda lib: lib.arange(10)[range(2, 5)],
    "ndarray": lambda lib: lib.arange(10)[np.array([1, 7])],
    "ndarray mask": lambda lib: lib.arange(3)[np.array([True, False, True])],
    "setitem range": lambda lib: _set(
        lib.zeros(3, 3), (range(3), lib.tensor([0, 2, 1]))
    ),
    "broadcast_tensors": lambda lib: lib.broadcast_tensors(
        lib.ones(3, 1), lib.zeros(2)
    ),
    "broadcast mismatch": lambda lib: lib.broadcast_tensors(lib.ones(3), lib.ones(2)),
    "clone": lambda lib: lib.clone(lib.arange(3)),
}


@pytest.mark.parametrize("case", sorted(INDEXING))
def test_indices_and_broadcasting(case: str) -> None:
    same(INDEXING[case], errors=False)


def test_broadcast_shapes() -> None:
    for shapes in [((2, 1), (1, 3)), ((2, 1), 3), ((), (2, 2)), ((5, 1, 4), (3, 1))]:
        assert at.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))
    with pytest.raises(RuntimeError):
        at.broadcast_shapes((2,), (3,))


# ------------------------------------------------------- finfo, iinfo
@pytest.mark.parametrize(
    "name", ["float32", "float64", "float16", "bfloat16", "complex64", None]
)
def test_finfo(name: str | None) -> None:
    ours = at.finfo() if name is None else at.finfo(getattr(at, name))
    theirs = torch.finfo() if name is None else torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("name", ["int8", "uint8", "int16", "int32", "int64"])
def test_iinfo(name: str) -> None:
    ours, theirs = at.iinfo(getattr(at, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (
        theirs.bits,
        theirs.min,
        theirs.max,
        theirs.dtype,
    )


def test_finfo_and_iinfo_refuse_the_other_kind() -> None:
    for lib in (at, torch):
        with pytest.raises(TypeError):
            lib.finfo(lib.int32)
        with pytest.raises(TypeError):
            lib.iinfo(lib.float32)
        with pytest.raises(TypeError):
            lib.iinfo(lib.bool)


# ------------------------------------------------------------ grad modes
def _modes(lib: Any) -> list[Any]:
    x = lib.ones(2, requires_grad=True)
    seen = []

    @lib.no_grad
    def bare() -> Any:
        return (x * 2).requires_grad

    @lib.inference_mode()
    def called() -> Any:
        return (x * 2).requires_grad, lib.is_inference_mode_enabled()

    @lib.inference_mode
    def bare_inference() -> Any:
        return (x * 2).requires_grad

    seen += [bare(), called(), bare_inference(), lib.is_inference_mode_enabled()]
    with lib.inference_mode(False):
        seen.append((x * 2).requires_grad)
    with lib.no_grad(), lib.inference_mode(False):
        seen.append((x * 2).requires_grad)
    seen.append(lib.is_grad_enabled())
    return seen


def test_inference_mode_and_bare_decorators() -> None:
    assert _modes(at) == _modes(torch)


def test_float32_matmul_precision() -> None:
    try:
        for lib in (at, torch):
            assert lib.get_float32_matmul_precision() == "highest"
            lib.set_float32_matmul_precision("high")
            assert lib.get_float32_matmul_precision() == "high"
            with pytest.warns(UserWarning, match="no effect"):
                lib.set_float32_matmul_precision("low")
            assert lib.get_float32_matmul_precision() == "high"
    finally:
        at.set_float32_matmul_precision("highest")
        torch.set_float32_matmul_precision("highest")


# ------------------------------------------------------------- random
def test_generator_as_torch_code_makes_one() -> None:
    """The same calls run on both; the numbers are each library's own."""
    for lib in (at, torch):
        g = lib.Generator(device="cpu")
        assert g.initial_seed() == 67280421310721
        assert g.manual_seed(42) is g and g.initial_seed() == 42
        probs = lib.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        assert lib.multinomial(probs, 1, generator=g).tolist() == [[1], [2]]
        first = lib.rand(4, generator=g.manual_seed(7))
        again = lib.rand(4, generator=g.manual_seed(7))
        assert first.tolist() == again.tolist()
        lib.cuda.manual_seed(3)  # callable without a GPU
        lib.cuda.manual_seed_all(3)
