"""Buffer: a typed view (shape, strides, offset) into a block of a device's arena."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex, cast, final

import numpy as np

from actnet.device._checks import check_axis, shape_argument

if TYPE_CHECKING:
    # For annotations only. At run time a Buffer imports nothing above it: it uses
    # its device's arena (`_free`, `_backend`, `_segments`, all from `_core`), and
    # `Buffer.device` is typed as the whole Device for the layers above.
    from actnet.device._device import Device
    from actnet.mem import Block

# The cyclic garbage collector can run inside the allocator's critical section (any
# allocation there may start it), and the allocator's lock is not reentrant: an
# owner it finalizes must not free its block then. Such blocks wait here and are
# freed by the next owner freed outside a collection (or by the device's stats).
_collecting = False
_deferred: list[tuple[Device, Block]] = []


def _on_gc(phase: str, info: dict[str, int]) -> None:
    global _collecting
    _collecting = phase == "start"


gc.callbacks.append(_on_gc)


def free_deferred() -> None:
    """Free the blocks of owners finalized during a garbage collection."""
    while _deferred and not _collecting:
        try:
            device, block = _deferred.pop()
        except IndexError:  # another thread took the last one
            return
        device._free(block)


@final
class Buffer:
    """Memory on a device, seen with a shape, strides and a dtype.

    A buffer either owns a block of its device's arena (it came from `alloc`,
    `from_host` or an operator), or is a view of such an owner (`reshape`,
    `transpose`, slicing, `broadcast_to`, `expand_dims`, ...): views share the
    owner's memory and keep it alive. When the last reference to an owner and its
    views goes, the block returns to the device's allocator.

    `info` is whatever the layer above attaches (what the buffer is, which op made
    it); `Device.memory_snapshot()` reports it for every live block.

    Buffers come only from a `Device`. Two attributes are for the layers above
    and are read-only by contract: `device`, the Device that owns the memory, and
    `native`, the backend's own array over it (a NumPy or CuPy array; exports such
    as DLPack start from it).
    """

    __slots__ = ("__weakref__", "_hold", "_meta", "device", "native")

    native: Any  # the backend's array (numpy or cupy) over the arena's memory
    _hold: Block | Buffer  # an owner's block, or a view's owner (one slot for both)
    device: Device
    _meta: list[Any]  # [dtype, shape, info], shared with the block's info

    def __new__(cls, *args: object, **kwargs: object) -> Buffer:
        raise TypeError(
            "Buffer cannot be created directly; use Device.alloc, Device.from_host "
            "or an operator"
        )

    def __del__(self) -> None:
        hold = self._hold
        if type(hold) is not Buffer:  # an owner: give its block back
            if _collecting:
                _deferred.append((self.device, hold))
                return
            self.device._free(hold)
            if _deferred:
                free_deferred()

    # ---------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        shape: tuple[int, ...] = self.native.shape
        return shape

    @property
    def dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = self.native.dtype
        return dtype

    @property
    def ndim(self) -> int:
        return len(self.native.shape)

    @property
    def size(self) -> int:
        return math.prod(self.native.shape)

    @property
    def itemsize(self) -> int:
        return int(self.native.dtype.itemsize)

    @property
    def nbytes(self) -> int:
        """Bytes of the elements this view shows (not of its block)."""
        return self.size * self.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        """Strides in elements."""
        itemsize = self.itemsize
        return tuple(s // itemsize for s in self.native.strides)

    @property
    def offset(self) -> int:
        """Offset of the first element from the start of the block, in elements."""
        owner = self._owner()
        backend = self.device._backend
        delta = backend.address(self.native) - backend.address(owner.native)
        return delta // self.itemsize

    @property
    def base(self) -> Buffer | None:
        """The buffer owning the memory this view shows; None for an owner."""
        hold = self._hold
        return hold if type(hold) is Buffer else None

    def _owner(self) -> Buffer:
        hold = self._hold
        return hold if type(hold) is Buffer else self

    @property
    def is_contiguous(self) -> bool:
        """C-contiguous: reshapes of it are views."""
        return bool(self.native.flags.c_contiguous)

    @property
    def info(self) -> Any:
        return self._meta[2]

    @info.setter
    def info(self, value: Any) -> None:
        self._meta[2] = value

    # --------------------------------------------------------------------- views
    def _view(self, arr: Any) -> Buffer:
        view = new_buffer(Buffer)
        view.native = arr
        view._hold = self._owner()
        view.device = self.device
        view._meta = self._meta
        return view

    def reshape(self, *shape: SupportsIndex | tuple[SupportsIndex, ...]) -> Buffer:
        """A view with another shape (one -1 is inferred). Refused with ValueError
        when the strides cannot express it: copy first."""
        target = shape_argument(shape, "reshape")
        arr = self.device._backend.reshape_view(self.native, target)
        if arr is None:
            raise ValueError(
                f"cannot reshape a buffer of shape {self.shape} and strides "
                f"{self.strides} to {target} without copying; copy it first"
            )
        return self._view(arr)

    def transpose(self, *axes: SupportsIndex | tuple[SupportsIndex, ...]) -> Buffer:
        """A view with the axes permuted (reversed when none are given)."""
        order = shape_argument(axes, "transpose") if axes else None
        if order is not None and sorted(
            check_axis(a, self.ndim) for a in order
        ) != list(range(self.ndim)):
            raise ValueError(f"axes {order} are not a permutation of {self.ndim} axes")
        return self._view(self.native.transpose(order))

    permute = transpose

    @property
    def T(self) -> Buffer:  # NumPy's and PyTorch's name
        return self._view(self.native.transpose())

    def swapaxes(self, axis1: int, axis2: int) -> Buffer:
        a, b = check_axis(axis1, self.ndim), check_axis(axis2, self.ndim)
        return self._view(self.native.swapaxes(a, b))

    def __getitem__(self, key: Any) -> Buffer:
        """Basic indexing (ints, slices, None, Ellipsis) as a view. Integer-array
        and boolean indexing copy: use `Device.index`."""
        items = key if isinstance(key, tuple) else (key,)
        ellipsis = False
        for item in items:
            if item is Ellipsis:
                ellipsis = True
            elif not (
                item is None
                or isinstance(item, slice)
                or (isinstance(item, int | np.integer) and not isinstance(item, bool))
            ):
                raise TypeError(
                    f"a Buffer view takes ints, slices, None and Ellipsis; got "
                    f"{type(item).__name__} (index with Device.index)"
                )
        if not ellipsis:  # with one int per axis, NumPy gives a scalar, not a view
            key = (*items, Ellipsis)
        try:
            return self._view(self.native[key])
        except IndexError as exc:
            raise IndexError(f"{exc} (buffer shape {self.shape})") from None

    def broadcast_to(self, *shape: SupportsIndex | tuple[SupportsIndex, ...]) -> Buffer:
        """A read-only view repeating size-1 axes (strides 0)."""
        target = shape_argument(shape, "broadcast_to")
        arr = self.native
        source = arr.shape
        lead = len(target) - len(source)
        strides: list[int] = [0] * lead if lead >= 0 else []
        if lead >= 0:
            for n, m, s in zip(source, target[lead:], arr.strides, strict=True):
                if n == m:
                    strides.append(s)
                elif n == 1:
                    strides.append(0)
                else:
                    break
        if len(strides) != len(target):
            raise ValueError(f"cannot broadcast shape {source} to {target}")
        backend = self.device._backend
        view = backend.strided_view(arr, target, tuple(strides))
        return self._view(view)

    expand = broadcast_to

    def expand_dims(self, axis: int) -> Buffer:
        """A view with a new axis of size 1 at `axis`."""
        ndim = self.ndim + 1
        a = check_axis(axis, ndim)
        index: list[Any] = [slice(None)] * self.ndim
        index.insert(a, None)
        return self._view(self.native[tuple(index)])

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Buffer:
        """A view without the given size-1 axes (all of them when none given)."""
        if axis is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            axes = tuple(
                check_axis(a, self.ndim)
                for a in (axis if isinstance(axis, tuple) else (axis,))
            )
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(f"cannot squeeze axis {a} of size {self.shape[a]}")
        index = tuple(0 if i in axes else slice(None) for i in range(self.ndim))
        return self._view(self.native[(*index, Ellipsis)])  # Ellipsis: a 0-d view

    def flip(self, axis: int | tuple[int, ...] | None = None) -> Buffer:
        """A view with the elements in reverse order along the axes (all when None)."""
        axes = (
            range(self.ndim)
            if axis is None
            else (axis if isinstance(axis, tuple) else (axis,))
        )
        index = [slice(None)] * self.ndim
        for a in axes:
            index[check_axis(a, self.ndim)] = slice(None, None, -1)
        return self._view(self.native[tuple(index)])

    def diagonal(self, offset: int = 0, axis1: int = -2, axis2: int = -1) -> Buffer:
        """A view of the diagonal over two axes, moved to the last axis."""
        a1, a2 = check_axis(axis1, self.ndim), check_axis(axis2, self.ndim)
        if a1 == a2:
            raise ValueError("axis1 and axis2 must differ")
        backend = self.device._backend
        diag = backend.xp.diagonal(self.native, offset, a1, a2)
        if not diag.size or not getattr(self.native.flags, "writeable", True):
            return self._view(diag)  # nothing to write, or a read-only broadcast
        # NumPy's diagonal is read-only: the same view, writable, from its geometry.
        itemsize = self.itemsize
        start = backend.address(diag) - backend.address(self._owner().native)
        strides = tuple(s // itemsize for s in diag.strides)
        return self.as_strided(diag.shape, strides, start // itemsize)

    def as_strided(
        self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int = 0
    ) -> Buffer:
        """A view of the owner's memory with any shape, element strides and element
        offset from the start of the block, as long as it stays inside the block."""
        shape, strides = tuple(shape), tuple(strides)
        if len(shape) != len(strides):
            raise ValueError(f"shape {shape} and strides {strides} differ in length")
        if any(n < 0 for n in shape):
            raise ValueError(f"shape {shape} has a negative extent")
        owner = self._owner()
        block = owner._hold
        assert type(block) is not Buffer
        itemsize = self.itemsize
        capacity = owner.native.nbytes // itemsize
        if math.prod(shape):
            low = offset + sum(
                s * (n - 1) for n, s in zip(shape, strides, strict=True) if s < 0
            )
            high = offset + sum(
                s * (n - 1) for n, s in zip(shape, strides, strict=True) if s > 0
            )
            if low < 0 or high >= capacity:
                raise ValueError(
                    f"as_strided view (shape {shape}, strides {strides}, offset "
                    f"{offset}) reaches outside the buffer's {capacity} elements"
                )
        arr = self.device._backend.array_at(
            shape,
            self.dtype,
            self.device._segments[block.segment],
            block.offset + offset * itemsize,
            tuple(s * itemsize for s in strides),
        )
        return self._view(arr)

    def __repr__(self) -> str:
        kind = "view" if type(self._hold) is Buffer else "Buffer"
        return (
            f"<{kind} shape={self.shape} dtype={self.dtype} "
            f"device={self.device.name!r}>"
        )

    def __len__(self) -> int:
        if not self.native.shape:
            raise TypeError("len() of a 0-d buffer")
        return int(self.native.shape[0])

    def __bool__(self) -> NoReturn:
        raise TypeError("a Buffer has no truth value; read it with Device.to_host")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Buffer lives in a device's arena and cannot be pickled")


# object.__new__, typed: buffers are made without Buffer.__new__, which refuses.
new_buffer = cast(Callable[[type[Buffer]], Buffer], object.__new__)
