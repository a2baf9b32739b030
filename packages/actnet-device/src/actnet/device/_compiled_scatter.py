"""The `cpu` device's compiled scatter-add of rows: `out[idx] += values`.

NumPy's `np.add.at` (the reference's `ufunc_at`) applies repeated indices one
after another, element by element through its generic loop: about 7 ms to add
2048 rows of 256 float32 into an embedding table's gradient, which one pass of
compiled loops does in a fraction of a millisecond. The kernel here takes the
case an embedding's backward and index_add make (one integer index array along
the first axis, values with one row per index, C-contiguous float32 or float64)
and adds the rows in index order, as `np.add.at` does: the same sums in the same
order, so the same bits. Everything else takes the reference.

Example::

    import numpy as np
    from actnet.device import get_device

    cpu = get_device("cpu")
    table = cpu.zeros((4, 3), np.float32)
    rows = cpu.from_host(np.ones((5, 3), np.float32))
    idx = cpu.from_host(np.array([0, 2, 2, 3, 0]))
    grad = cpu.index_update(table, (idx,), rows, "add")  # rows 0 and 2 get 2
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device._jit import compiled
from actnet.device._kernels import Kernels

Array = Any  # a numpy.ndarray
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))


def _add_rows(out: Array, index: Array, values: Array) -> None:
    """out[index[i]] += values[i] for i in order; out (R, C), index (n,) in
    [-R, R) (checked by the device), values (n, C)."""
    rows = out.shape[0]
    for i in range(index.size):
        r = index[i]
        if r < 0:
            r += rows
        for c in range(out.shape[1]):
            out[r, c] += values[i, c]


class ScatterCompiled(Kernels):
    """ufunc_at's add of whole rows, compiled (see the module's docstring)."""

    def ufunc_at(self, name: str, out: Array, key: Any, values: Array) -> None:
        rows = _rows(name, out, key, values)
        if rows is None:
            super().ufunc_at(name, out, key, values)
            return
        out2, index, values2 = rows
        compiled(_add_rows)(out2, index, values2)


def _rows(name: str, out: Array, key: Any, values: Array) -> tuple[Array, ...] | None:
    """(out, index, values) as the kernel takes them, or None for another case."""
    if name != "add" or type(key) is not tuple or len(key) != 1:
        return None
    index = key[0]
    if (
        not isinstance(index, np.ndarray)
        or index.ndim != 1
        or index.dtype.kind not in "iu"
        or not isinstance(out, np.ndarray)
        or not isinstance(values, np.ndarray)
        or out.ndim < 1
        or out.dtype not in COMPILED_DTYPES
        or values.dtype != out.dtype
        or values.shape != (index.size, *out.shape[1:])
        or not out.flags.c_contiguous
        or not values.flags.c_contiguous
    ):
        return None
    width = int(np.prod(out.shape[1:]))
    return (
        out.reshape(out.shape[0], width),
        index,
        values.reshape(index.size, width),
    )
