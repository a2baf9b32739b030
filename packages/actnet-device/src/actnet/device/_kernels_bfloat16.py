"""bfloat16 products and reductions as PyTorch's CPU computes them: the operands
widened to float32 (exactly: every bfloat16 is a float32), products and sums in
float32, and the result rounded to bfloat16 once.

Elementwise operators need nothing here: ml_dtypes' NumPy loops for bfloat16
already compute each element in float32 and round it once. Accumulations do:
NumPy would sum bfloat16 in bfloat16 (a sum of 1000 ones is 256 there), and
NumPy's matmul of bfloat16 runs a slow generic loop. So `Kernels.matmul`,
`reduce` and `cumulative` send a bfloat16 result here, and these call the
backend's own kernel on float32 copies in scratch memory (the `cpu` device's
threaded, BLAS-backed matmul included), then round into `out`.

    >>> import numpy as np, ml_dtypes
    >>> from actnet.device import get_device
    >>> cpu = get_device("cpu")
    >>> ones = cpu.from_host(np.ones(1000, ml_dtypes.bfloat16))
    >>> cpu.to_host(cpu.sum(ones))
    array(1000, dtype=bfloat16)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from actnet.device import _dtypes as dt

if TYPE_CHECKING:
    from actnet.device._kernels import Kernels

Array = Any  # a numpy.ndarray or cupy.ndarray

_FLOAT32: Final = dt.float32
# The reductions that accumulate (max, min, any and all are exact in bfloat16).
WIDENED_REDUCTIONS: Final = frozenset(("sum", "prod", "mean", "var"))


def _widened(kernels: Kernels, x: Array) -> tuple[Any, Array]:
    """A float32 copy of `x` in scratch memory: (the holder, its array)."""
    held = kernels.scratch(tuple(x.shape), _FLOAT32)
    kernels.xp.copyto(held.native, x, casting="unsafe")
    return held, held.native


def matmul(kernels: Kernels, a: Array, b: Array, out: Array) -> None:
    """out = a @ b for bfloat16 operands: the float32 product of the widened
    operands (each product of two bfloat16 is exact in float32, the sums are
    float32's), rounded to bfloat16 once."""
    held_a, wa = _widened(kernels, a)
    held_b, wb = _widened(kernels, b)
    held_out = kernels.scratch(tuple(out.shape), _FLOAT32)
    kernels.matmul(wa, wb, held_out.native)
    kernels.xp.copyto(out, held_out.native, casting="unsafe")
    del held_a, held_b, held_out  # the scratch goes back to the arena here


def reduce(
    kernels: Kernels,
    name: str,
    x: Array,
    axis: tuple[int, ...] | None,
    keepdims: bool,
    out: Array,
    correction: float,
) -> None:
    """A sum, product, mean or variance with a bfloat16 result, accumulated in
    float32 and rounded once."""
    held_x, wx = _widened(kernels, x) if x.dtype != _FLOAT32 else (None, x)
    held_out = kernels.scratch(tuple(out.shape), _FLOAT32)
    kernels.reduce(name, wx, axis, keepdims, held_out.native, correction)
    kernels.xp.copyto(out, held_out.native, casting="unsafe")
    del held_x, held_out


def cumulative(
    kernels: Kernels,
    name: str,
    x: Array,
    axis: int,
    include_initial: bool,
    out: Array,
) -> None:
    """A cumulative sum or product with a bfloat16 result: the running value is
    float32's, each element rounded once."""
    held_x, wx = _widened(kernels, x) if x.dtype != _FLOAT32 else (None, x)
    held_out = kernels.scratch(tuple(out.shape), _FLOAT32)
    kernels.cumulative(name, wx, axis, include_initial, held_out.native)
    kernels.xp.copyto(out, held_out.native, casting="unsafe")
    del held_x, held_out
