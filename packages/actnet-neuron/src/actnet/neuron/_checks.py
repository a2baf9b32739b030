"""Argument checks shared by the functions: they name the argument and what was
expected (Chainer's check_type_forward, kept small)."""

from __future__ import annotations

from typing import Any

from actnet.device import is_bfloat16
from actnet.tensor import Tensor


def check_tensor(
    value: Any, op: str, argument: str = "input", kinds: str = "fc"
) -> Tensor:
    """`value`, after checking it is a Tensor whose dtype kind is one of `kinds`
    ("f" floating, "c" complex, "i"/"u" integers, "b" bool)."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{op}: {argument} must be a Tensor, got {type(value).__name__}"
        )
    # bfloat16's NumPy kind is "V"; it is a floating dtype (computed as PyTorch's
    # CPU computes it: in float32, each result rounded to bfloat16)
    kind = "f" if is_bfloat16(value.dtype) else value.dtype.kind
    if kind not in kinds:
        names = {"f": "floating", "c": "complex", "i": "signed integer",
                 "u": "unsigned integer", "b": "bool"}  # fmt: skip
        allowed = ", ".join(names[k] for k in kinds)
        raise TypeError(
            f"{op}: {argument} must have a {allowed} dtype, got {value.dtype}"
        )
    return value


def check_reduction(reduction: str, op: str) -> str:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
        )
    return reduction
