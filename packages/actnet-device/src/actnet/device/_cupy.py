"""The CUDA backend: CuPy, the optional extra `actnet-device[cuda]`.

CuPy is imported when the first `cuda` device is made, not before. Each arena is
one `cudaMalloc` (not CuPy's memory pool: the device's allocator is the pool), and
buffers are `cupy.ndarray` views of it. The operators are `Kernels`' own, on
`cupy` instead of `numpy`; this module overrides only where CuPy differs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from actnet.device._backend import Backend


def _import_cupy() -> tuple[Any, Any]:
    """cupy and cupyx (with cupyx.scipy.special loaded), imported on first use."""
    try:
        import cupy  # type: ignore[import-not-found]  # the optional [cuda] extra
        import cupyx  # type: ignore[import-not-found]  # comes with cupy
        import cupyx.scipy.special  # type: ignore[import-not-found]  # comes with cupy
    except ImportError as exc:
        raise RuntimeError(
            "the cuda device needs CuPy: pip install 'actnet-device[cuda]'"
        ) from exc
    return cupy, cupyx


class CuPyBackend(Backend):
    kind = "cuda"

    def __init__(self, index: int) -> None:
        cupy, self._cupyx = _import_cupy()
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except cupy.cuda.runtime.CUDARuntimeError as exc:
            raise RuntimeError(f"no CUDA device is available ({exc})") from exc
        if index >= count:
            raise RuntimeError(f"cuda:{index} does not exist; this machine has {count}")
        self.xp = cupy
        self._index = index
        self._cuda = cupy.cuda
        super().__init__()

    def new_segment(self, nbytes: int) -> Any:
        cuda = self._cuda
        with cuda.Device(self._index):
            ptr = cuda.runtime.malloc(nbytes)
        memory = cuda.UnownedMemory(ptr, nbytes, None, self._index)
        return cuda.MemoryPointer(memory, 0)

    def free_segment(self, segment: Any) -> None:
        with self._cuda.Device(self._index):
            self._cuda.runtime.free(segment.ptr)

    def array_at(
        self,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        segment: Any,
        offset: int,
        strides: tuple[int, ...] | None = None,
    ) -> Any:
        return self.xp.ndarray(shape, dtype, memptr=segment + offset, strides=strides)

    def address(self, arr: Any) -> int:
        return int(arr.data.ptr)

    def reshape_view(self, arr: Any, shape: tuple[int, ...]) -> Any | None:
        # NumPy decides whether strides allow the reshape, on a zero-byte probe
        # with the same shape and strides; the view is then built on arr's memory.
        probe = np.lib.stride_tricks.as_strided(
            np.empty(1, arr.dtype), arr.shape, arr.strides
        )
        try:
            shaped = np.reshape(probe, shape, copy=False)
        except ValueError as exc:
            if "copy" in str(exc):
                return None
            raise
        return self.xp.ndarray(
            shaped.shape, arr.dtype, memptr=arr.data, strides=shaped.strides
        )

    def to_host(self, arr: Any) -> np.ndarray[Any, Any]:
        host: np.ndarray[Any, Any] = self.xp.asnumpy(arr)
        return host

    def from_host(self, host: np.ndarray[Any, Any], out: Any) -> None:
        out.set(np.ascontiguousarray(host))

    def synchronize(self) -> None:
        self._cuda.Device(self._index).synchronize()

    def erf(self, x: Any, out: Any) -> None:
        erf = self._cupyx.scipy.special.erf
        self.xp.copyto(out, erf(x.astype(self.xp.float64)), casting="unsafe")

    def ufunc_at(self, name: str, out: Any, key: Any, values: Any) -> None:
        cupyx = self._cupyx
        scatter = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max,
                   "minimum": cupyx.scatter_min}.get(name)  # fmt: skip
        if scatter is not None:
            scatter(out, key, values)
            return
        # CuPy has no multiply.at: do it on the host, where NumPy has.
        host = self.to_host(out)
        host_key = tuple(
            self.to_host(k) if isinstance(k, self.xp.ndarray) else k for k in key
        )
        host_values = (
            self.to_host(values) if isinstance(values, self.xp.ndarray) else values
        )
        getattr(np, name).at(host, host_key, host_values)
        out.set(host)

    def sort(
        self, x: Any, axis: int, descending: bool, indices: bool, out: Any
    ) -> None:
        xp = self.xp  # CuPy's sorts are stable and take no `kind`
        if not descending:
            order = xp.argsort(x, axis=axis)
        else:
            n = x.shape[axis]
            order = (n - 1) - xp.flip(
                xp.argsort(xp.flip(x, axis=axis), axis=axis), axis=axis
            )
        xp.copyto(out, order if indices else xp.take_along_axis(x, order, axis=axis))

    def unique(self, x: Any) -> tuple[Any, Any, Any, Any]:
        values, first, inverse, counts = self.xp.unique(
            x.reshape(-1), return_index=True, return_inverse=True, return_counts=True
        )
        return values, first, inverse.reshape(x.shape), counts
