"""The `cpu` device's matmul: NumPy's BLAS under actnet's thread policy.

NumPy runs a batched product as one BLAS call per matrix, each on OpenBLAS's
threads, which spin while they wait for one another: 64 calls for a
(16, 4, 128, 64) @ (16, 4, 64, 128) attention product, and with one other busy
process on two cores the waits made it 10-75x slower than one thread. The
policy here, for float32, float64, complex64 and complex128 (the dtypes NumPy
hands to BLAS):

- A batch that folds into rows is one product: (..., M, K) @ (K, N) is one
  (B*M, K) @ (K, N) call (a Linear layer over a batch of sequences).
- BLAS itself always runs on one thread (`_threads.single_threaded_blas`):
  OpenBLAS's threads also spin for about 0.1 s after each call they share,
  on a core the compiled kernels and the other parts need.
- A product of fewer than PARALLEL_MIN_FLOPS runs whole on the calling thread:
  waking another costs more than it saves, and far more on a busy machine.
- A larger one is cut into parts, along a batch axis and then along the rows
  or the columns of the result, and `_threads.parallel_for` runs the parts on
  `get_num_threads()` threads, each taking the next part when it is free: a
  thread the scheduler delays does less, and none spins.
- A group of independent products (`matmuls`) is cut into one part per thread
  in all, each product in proportion to its work: threads take whole products
  where they can, and each cut saved is a packing saved.

Each part is NumPy's own matmul of views, so every layout NumPy accepts works
as it does there (BLAS where the strides allow it, NumPy's loop otherwise),
and each result element is still one dot product over the whole K: results
agree with NumPy's to the rounding of that sum (bit for bit where BLAS picks
the same kernel). Other dtypes, and a BLAS whose thread count was not found,
take the reference kernel (`np.matmul` whole).

Example::

    import numpy as np
    from actnet.device import get_device

    cpu = get_device("cpu")
    q = cpu.from_host(np.ones((16, 4, 128, 64), np.float32))
    scores = cpu.matmul(q, q.swapaxes(-1, -2))  # 64 products, shared by threads
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device._kernels import Kernels
from actnet.device._threads import (
    begin_single_threaded_blas,
    controls_blas,
    end_single_threaded_blas,
    get_num_threads,
    parallel_for,
)

Array = Any  # a numpy.ndarray

# From this many floating-point operations (2*M*N*K) a product is shared between
# threads: about 0.2 ms on one core, against some 30 microseconds to wake a
# helper on an idle machine.
PARALLEL_MIN_FLOPS: Final = 1 << 24
# A part is at least this much work (about 50 microseconds), and there are up to
# PARTS_PER_THREAD parts per thread: enough for the others to take over the
# share of a thread the scheduler delays. Not more: each part packs its operands
# for BLAS on its own (a row part packs all of b), and on a quiet machine a
# 2048^3 product ran at 0.94x NumPy's threaded BLAS in 8 parts, 0.99x in 4
# (medians of 8 runs, 2 threads).
PART_MIN_FLOPS: Final = 1 << 22
PARTS_PER_THREAD: Final = 2
# Row and column cuts fall on multiples of ALIGN (64 bytes of float32: whole
# cache lines, and whole tiles of BLAS's kernels) and leave at least MIN_CUT
# rows or columns to a part: BLAS packs the other operand whole for each part,
# which narrower parts do not repay.
ALIGN: Final = 16
MIN_CUT: Final = 64
BLAS_DTYPES: Final = tuple(
    np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128)
)

Part = tuple[Array, Array, Array]  # (a, b, out) views


class MatmulCompiled(Kernels):
    """matmul under the thread policy (see the module's docstring)."""

    def matmul(self, a: Array, b: Array, out: Array) -> None:
        if out.dtype not in BLAS_DTYPES or not controls_blas():
            super().matmul(a, b, out)
            return
        _run([fold(a, b, out)], get_num_threads() * PARTS_PER_THREAD)

    def matmul_add(self, a: Array, b: Array, c: Array, out: Array) -> None:
        if out.dtype not in BLAS_DTYPES or not controls_blas():
            super().matmul_add(a, b, c, out)
            return
        full = np.broadcast_to(c, out.shape)
        fa, fb, fo = fold(a, b, out)
        addend = full if fo is out else _view(full, fo.shape)
        count = get_num_threads() * PARTS_PER_THREAD
        if addend is None:  # c's broadcast does not fold as out does: add after
            _run([(fa, fb, fo)], count)
            np.add(out, full, out=out)
            return
        _run([(fa, fb, fo, addend)], count)

    def matmuls(self, parts: list[Part]) -> None:
        if not controls_blas() or any(o.dtype not in BLAS_DTYPES for *_, o in parts):
            super().matmuls(parts)
            return
        _run([fold(a, b, out) for a, b, out in parts], get_num_threads())


def _run(products: list[tuple[Array, ...]], count: int) -> None:
    """The products, cut into about `count` parts in all (each in proportion
    to its work), on the threads. A group of products (matmuls) asks for one
    part per thread: each thread then takes whole products where it can, and
    every cut saved is a packing of the other operand saved (two gradients of a
    Linear layer side by side: 4-7% less CPU time than each cut in four).
    A product given as (a, b, out, c) is matmul_add's: each part adds its part
    of c (out's shape) right after its product, while that is in cache."""
    flops = [2 * p[2].size * p[0].shape[-1] for p in products]
    total = sum(flops)
    threads = get_num_threads()
    # Not a `with` block: this runs for every product, however small.
    begin_single_threaded_blas()
    try:
        if threads == 1 or total < PARALLEL_MIN_FLOPS:
            for product in products:
                _product(*product)
            return
        parts: list[tuple[int, tuple[Array, ...]]] = []
        for product, work in zip(products, flops, strict=True):
            a, b, out, *addend = product
            if out.ndim == 0 or (addend and min(a.ndim, b.ndim) == 1):
                parts.append((work, product))  # whole
                continue
            cuts = max(1, min(-(-count * work // total), work // PART_MIN_FLOPS))
            pieces = split(*as_matrices(a, b, out), cuts, *addend)
            parts += [(work // len(pieces), piece) for piece in pieces]
        # the largest first: the thread that is free last takes a small one
        order = [part for _, part in sorted(parts, key=lambda p: -p[0])]

        def run(i: int) -> None:
            _product(*order[i])

        parallel_for(run, len(order))
    finally:
        end_single_threaded_blas()


def _product(a: Array, b: Array, out: Array, *addend: Array) -> None:
    """out = a @ b, then out += addend[0] when there is one."""
    np.matmul(a, b, out=out)
    if addend:
        np.add(out, addend[0], out=out)


def fold(a: Array, b: Array, out: Array) -> Part:
    """(..., M, K) @ (K, N) as one (B*M, K) @ (K, N) product (and the same
    with b of shape (K,), or with b's batch axes all of size 1) when a's and
    out's batch axes merge into their rows without a copy; else unchanged."""
    if a.ndim < 3 or any(size != 1 for size in b.shape[:-2]):
        return a, b, out
    matrix = b.reshape(b.shape[-2:]) if b.ndim > 2 else b  # drops 1s: a view
    rows = _view(a, (-1, a.shape[-1]))
    flat_out = _view(out, (-1, out.shape[-1]) if matrix.ndim == 2 else (-1,))
    if rows is None or flat_out is None:
        return a, b, out
    return rows, matrix, flat_out


def _view(x: Array, shape: tuple[int, ...]) -> Array | None:
    """x reshaped to `shape` as a view of its memory, or None when that needs a
    copy."""
    try:
        return np.reshape(x, shape, copy=False)
    except ValueError:
        return None


def as_matrices(a: Array, b: Array, out: Array) -> Part:
    """The operands and result as stacks of matrices (views): a 1-d a is a row
    (1, K) and its axis in out a new one of size 1, a 1-d b a column (K, 1)."""
    if a.ndim == 1:
        a = a[None, :]
        out = out[..., None, :]
    if b.ndim == 1:
        b = b[:, None]
        out = out[..., None]
    return a, b, out


def split(
    a: Array, b: Array, out: Array, count: int, *also: Array
) -> list[tuple[Array, ...]]:
    """About `count` parts of the product a @ b -> out (stacks of matrices,
    batch axes broadcast as matmul does): first along the longest batch axis of
    out, then along out's rows or columns, whichever is longer. Each part is
    (a, b, out) views, followed by the same part of each array in `also` (of
    out's shape: matmul_add's addend)."""
    batch = out.shape[:-2]
    parts: list[tuple[Array, ...]] = [(a, b, out, *also)]
    if batch:
        axis = int(np.argmax(batch))
        pieces = min(batch[axis], count)
        parts = [
            (
                _take(a, axis, len(batch), s),
                _take(b, axis, len(batch), s),
                *(x[s] for x in (out, *also)),
            )
            for s in _cuts(batch[axis], pieces, 1, axis)
        ]
        count = max(1, count // pieces)
    rows, columns = out.shape[-2:]
    count = min(count, max(rows, columns) // MIN_CUT)
    if count < 2:
        return parts
    if rows >= columns:
        cuts = _cuts(rows, count, ALIGN, -2)
        return [(p[0][s], p[1], *(x[s] for x in p[2:])) for p in parts for s in cuts]
    cuts = _cuts(columns, count, ALIGN, -1)
    return [(p[0], p[1][s], *(x[s] for x in p[2:])) for p in parts for s in cuts]


def _cuts(length: int, pieces: int, align: int, axis: int) -> list[tuple[Any, ...]]:
    """Index tuples cutting `axis` (counted from the front when >= 0, else from
    the back) into at most `pieces` ranges of a multiple of `align` (the last
    one takes the rest)."""
    step = -(-length // pieces)
    step = -(-step // align) * align
    lead: tuple[Any, ...] = (slice(None),) * axis if axis >= 0 else (Ellipsis,)
    tail: tuple[Any, ...] = (slice(None),) * (-axis - 1) if axis < 0 else ()
    return [
        (*lead, slice(start, min(start + step, length)), *tail)
        for start in range(0, length, step)
    ]


def _take(x: Array, axis: int, batch_ndim: int, index: tuple[Any, ...]) -> Array:
    """x's part for out's batch `index` (a cut along out's batch `axis`): x itself
    where matmul broadcasts it along that axis (absent or of size 1)."""
    own = axis - (batch_ndim - (x.ndim - 2))  # the axis in x, batch right-aligned
    if own < 0 or x.shape[own] == 1:
        return x
    return x[(slice(None),) * own + (index[axis],)]
