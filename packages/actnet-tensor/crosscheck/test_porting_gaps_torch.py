"""Porting gaps of issue 13 against PyTorch 2.13.0: set_default_dtype and what
follows it, bool masks (tensors and lists) as indices, matmul's refusal of
mixed dtypes, and t[k] = v's refusal of a value that does not broadcast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
    if lib is torch:
        result = result.detach()
        name = str(result.dtype).removeprefix("torch.")
        return "ok", (name, result.tolist())
    return "ok", (str(result.dtype), result.tolist())


def same(call: Callable[[Any], Any]) -> None:
    """call(at) and call(torch) give one dtype and values (to float32's rounding:
    exp and sin of the libraries differ in the last bit), or one error type and
    message."""
    got, want = outcome(at, call), outcome(torch, call)
    if got[0] != "ok" or want[0] != "ok":
        assert got == want
        return
    assert got[1][0] == want[1][0]
    np.testing.assert_allclose(
        np.asarray(got[1][1]), np.asarray(want[1][1]), rtol=1e-6, atol=0
    )


@pytest.fixture
def default_float64() -> Iterator[None]:
    """Both libraries' default dtype float64 for the test, float32 after it."""
    at.set_default_dtype(at.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        at.set_default_dtype(at.float32)
        torch.set_default_dtype(torch.float32)


# ------------------------------------------------------------ default dtype
MADE: dict[str, Callable[[Any], Any]] = {
    "tensor floats": lambda lib: lib.tensor([0.1, 2]),
    "tensor float": lambda lib: lib.tensor(0.1),
    "tensor ints": lambda lib: lib.tensor([1, 2]),
    "tensor bools": lambda lib: lib.tensor([True]),
    "tensor complex": lambda lib: lib.tensor([1j, 0.5]),
    "tensor empty": lambda lib: lib.tensor([]),
    "tensor float32 array": lambda lib: lib.tensor(np.ones(2, np.float32)),
    "tensor float64 array": lambda lib: lib.tensor(np.ones(2)),
    "zeros": lambda lib: lib.zeros(2, 3),
    "ones": lambda lib: lib.ones(2),
    "empty": lambda lib: lib.empty(2).zero_(),
    "full float": lambda lib: lib.full((2,), 0.1),
    "full int": lambda lib: lib.full((2,), 3),
    "arange floats": lambda lib: lib.arange(0.0, 1.0, 0.25),
    "arange float step": lambda lib: lib.arange(0, 1, 0.5),
    "arange ints": lambda lib: lib.arange(3),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "eye": lambda lib: lib.eye(2),
    "legacy Tensor": lambda lib: lib.Tensor([0.1, 1]),
    "legacy sizes": lambda lib: lib.Tensor(2, 3).zero_(),
    "int * float": lambda lib: lib.tensor([1, 2]) * 0.1,
    "bool * float": lambda lib: lib.tensor([True, False]) * 1.5,
    "int * complex": lambda lib: lib.tensor([1, 2]) * 1j,
    "float32 * float": lambda lib: lib.ones(2, dtype=lib.float32) * 0.1,
    "int / int": lambda lib: lib.tensor([1, 2]) / 3,
    "int / int tensor": lambda lib: lib.tensor([1, 2]) / lib.tensor([3, 3]),
    "exp of ints": lambda lib: lib.tensor([1, 2]).exp(),
    "sin of ints": lambda lib: lib.sin(lib.tensor([1, 2])),
    "reciprocal of ints": lambda lib: lib.tensor([1, 2]).reciprocal(),
    "float()": lambda lib: lib.tensor([1, 2]).float(),
}


@pytest.mark.parametrize("name", sorted(MADE))
def test_default_float32(name: str) -> None:
    assert at.get_default_dtype() == at.float32
    same(MADE[name])


@pytest.mark.parametrize("name", sorted(MADE))
def test_default_float64(name: str, default_float64: None) -> None:
    assert at.get_default_dtype() == at.float64
    same(MADE[name])


def test_random_follows_the_default(default_float64: None) -> None:
    assert torch.rand(3).dtype == torch.float64
    for make in (at.rand, at.randn):
        assert make(3).dtype == at.float64
    assert at.randn(2, dtype=at.float32).dtype == at.float32


def test_default_dtype_choices() -> None:
    for name in ("float16", "bfloat16", "float64", "float32"):
        at.set_default_dtype(getattr(at, name))
        torch.set_default_dtype(getattr(torch, name))
        try:
            assert str(at.get_default_dtype()) == name
            assert str(torch.get_default_dtype()) == f"torch.{name}"
            same(lambda lib: lib.zeros(2))
            same(lambda lib: lib.tensor([0.5]))
        finally:
            at.set_default_dtype(at.float32)
            torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize(
    "bad", ["int64", "complex64", "bool", "uint8"], ids=lambda n: f"refuses {n}"
)
def test_default_dtype_refusals(bad: str) -> None:
    same(lambda lib: lib.set_default_dtype(getattr(lib, bad)))
    same(lambda lib: lib.set_default_dtype("float64"))  # a name is not a dtype
    assert at.get_default_dtype() == at.float32


# ----------------------------------------------------------- bool indices
def grid(lib: Any) -> Any:
    return lib.arange(12.0).reshape(3, 4)


INDEXED: dict[str, Callable[[Any], Any]] = {
    "list": lambda lib: grid(lib)[[True, False, True]],
    "tensor": lambda lib: grid(lib)[lib.tensor([True, False, True])],
    "2-d mask": lambda lib: grid(lib)[grid(lib) > 5],
    "mask, slice": lambda lib: grid(lib)[[True, False, True], 1:3],
    "slice, list": lambda lib: grid(lib)[:, [True, False, True, False]],
    "slice, tensor": lambda lib: grid(lib)[:, lib.tensor([False, True, True, False])],
    "mask, int": lambda lib: grid(lib)[lib.tensor([True, False, True]), 2],
    "ellipsis, mask": lambda lib: grid(lib)[..., [True, False, True, True]],
    "None, mask": lambda lib: grid(lib)[None, [True, False, True]],
    "0-d True": lambda lib: grid(lib)[lib.tensor(True)],
    "0-d False": lambda lib: grid(lib)[lib.tensor(False)],
    "all False": lambda lib: grid(lib)[[False, False, False]],
    "empty list": lambda lib: grid(lib)[[]],
    "short list": lambda lib: grid(lib)[[True, False]],
    "short tensor": lambda lib: grid(lib)[:, lib.tensor([True, False])],
}


@pytest.mark.parametrize("name", sorted(INDEXED))
def test_bool_index(name: str) -> None:
    same(INDEXED[name])


def assign(
    key: Callable[[Any], Any], value: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    def call(lib: Any) -> Any:
        x = grid(lib)
        x[key(lib)] = value(lib)
        return x

    return call


ASSIGNED: dict[str, Callable[[Any], Any]] = {
    "list mask = scalar": assign(lambda lib: [True, False, True], lambda lib: -1.0),
    "tensor mask = row": assign(
        lambda lib: lib.tensor([True, False, True]), lambda lib: lib.ones(4)
    ),
    "2-d mask = values": assign(
        lambda lib: grid(lib) > 5, lambda lib: -lib.arange(6.0)
    ),
    "mask, slice = block": assign(
        lambda lib: ([True, False, True], slice(1, 3)), lambda lib: lib.zeros(2, 2)
    ),
    # values that do not broadcast: RuntimeError with torch's messages
    "mask = bad": assign(lambda lib: [True, False, True], lambda lib: lib.ones(3)),
    "int index = bad": assign(lambda lib: lib.tensor([0, 1]), lambda lib: lib.ones(3)),
    "row = bad": assign(lambda lib: 0, lambda lib: lib.ones(3)),
    "rows = bad": assign(lambda lib: slice(0, 2), lambda lib: lib.ones(3, 4)),
    "column = bad": assign(lambda lib: (slice(None), 1), lambda lib: lib.ones(2)),
    "rows = too many dims": assign(
        lambda lib: slice(0, 2), lambda lib: lib.ones(2, 2, 4)
    ),
    "element = vector": assign(lambda lib: (0, 0), lambda lib: lib.ones(2)),
    "rows = leading ones": assign(
        lambda lib: slice(0, 2), lambda lib: lib.ones(1, 1, 4)
    ),
}


@pytest.mark.parametrize("name", sorted(ASSIGNED))
def test_index_assignment(name: str) -> None:
    same(ASSIGNED[name])


def test_bool_list_index_gradient() -> None:
    grads = []
    for lib in (at, torch):
        x = grid(lib).requires_grad_(True)
        (x[[True, False, True]] * lib.arange(4.0)).sum().backward()
        grads.append(np.asarray(x.grad.tolist()))
    np.testing.assert_array_equal(grads[0], grads[1])


# ---------------------------------------------------- mixed-dtype products
SHAPES = [
    ((2, 2), (2, 2)),
    ((2, 2), (2,)),
    ((3, 2, 2), (2,)),
    ((2,), (2, 2)),
    ((2,), (3, 2, 2)),
    ((2, 2), (3, 2, 2)),
    ((3, 2, 2), (3, 2, 2)),
    ((3, 2, 2), (2, 2)),
    ((2,), (2,)),
    ((4, 3, 2, 2), (3, 2, 2)),
]
PAIRS = [
    ("float32", "float64"),
    ("float64", "float32"),
    ("int64", "float32"),
    ("float32", "bfloat16"),
    ("float16", "float32"),
    ("int64", "int32"),
    ("complex64", "float32"),
]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtypes", PAIRS, ids=str)
def test_matmul_refuses_mixed_dtypes(
    shapes: tuple[tuple[int, ...], tuple[int, ...]], dtypes: tuple[str, str]
) -> None:
    def operands(lib: Any) -> tuple[Any, Any]:
        (sa, sb), (da, db) = shapes, dtypes
        return lib.ones(sa, dtype=getattr(lib, da)), lib.ones(
            sb, dtype=getattr(lib, db)
        )

    same(lambda lib: operands(lib)[0] @ operands(lib)[1])
    same(lambda lib: lib.matmul(*operands(lib)))
    same(lambda lib: operands(lib)[0].matmul(operands(lib)[1]))


@pytest.mark.parametrize("dtypes", PAIRS[:3], ids=str)
def test_bmm_dot_addmm_refuse_mixed_dtypes(dtypes: tuple[str, str]) -> None:
    def ones(lib: Any, *shape: int, which: int) -> Any:
        return lib.ones(shape, dtype=getattr(lib, dtypes[which]))

    same(lambda lib: lib.bmm(ones(lib, 1, 2, 2, which=0), ones(lib, 1, 2, 2, which=1)))
    same(lambda lib: lib.dot(ones(lib, 2, which=0), ones(lib, 2, which=1)))
    for w in ((0, 1, 0), (0, 0, 1), (1, 0, 0), (0, 1, 1)):
        same(
            lambda lib, w=w: lib.addmm(
                ones(lib, 2, which=w[0]),
                ones(lib, 2, 2, which=w[1]),
                ones(lib, 2, 2, which=w[2]),
            )
        )


def test_matmul_one_dtype_still_works() -> None:
    same(lambda lib: lib.ones(2, 3, dtype=lib.int64) @ lib.ones(3, dtype=lib.int64))
    same(lambda lib: lib.arange(6.0).reshape(2, 3) @ lib.arange(3.0))


def test_matmul_under_autocast_casts_first() -> None:
    def run(lib: Any, other: str) -> Any:
        a = lib.ones(2, 2)
        b = lib.ones(2, 2, dtype=getattr(lib, other))
        with lib.autocast("cpu", dtype=lib.bfloat16):
            return a @ b

    same(lambda lib: run(lib, "bfloat16"))  # both cast: no refusal
    same(lambda lib: run(lib, "float32"))
    same(lambda lib: run(lib, "float64"))  # float64 is not cast: bf16 != double
