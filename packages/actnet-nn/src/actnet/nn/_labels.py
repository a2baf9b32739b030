"""Labels of device memory: what a buffer holds, as `Device.memory_snapshot()`
shows it ("parameter", "buffer", "optimizer state", ...)."""

from __future__ import annotations

from actnet.ndarray import NDArray, buffer_of


def label(data: NDArray, info: tuple[str, str]) -> None:
    """Name the memory under `data` with (kind, owner), unless it is a view: a
    view's memory is its base's, which keeps the base's label."""
    buf = buffer_of(data)
    if buf.base is None:
        buf.info = info
