"""In-place changes through views, as in PyTorch: the rules every in-place
operation follows before (`before_write`) and after (`changed`) it writes.

After an in-place change of a tensor that aliases others (_alias.py), its new
values go back into the storage's full values and every other member is made
again from them by its view chain; the version counter of every member goes up,
as PyTorch's views share theirs. When the change is recorded for autograd and
the tensor is a view, its base takes the change as PyTorch's CopySlices does
(the base's old values lose their gradient where the view lies; the view's new
values get it there), and the views of that base that autograd follows take
their history from the base again.

`writable_buffer` is the entry for the layers above that write a tensor's
buffer themselves (the optimizers): a tensor that shares its values with live
aliases first moves, with all of them, to a private copy laid out so that their
buffers are views of one block, and the write then shows in all of them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.device import Buffer
from actnet.ndarray import NDArray, from_buffer
from actnet.ndarray import sole_buffer as sole_array_buffer
from actnet.tensor import _alias
from actnet.tensor._alias import Step, shares_memory
from actnet.tensor._copy_on_write import sole_buffer
from actnet.tensor._grad_mode import _state
from actnet.tensor._graph import Edge, Node, edge_of
from actnet.tensor._indexing import index
from actnet.tensor._shape import reshape, unbroadcast
from actnet.tensor._tensor_base import TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_getrefcount = sys.getrefcount


# ------------------------------------------------------------- before writing
def before_write(t: Tensor, op: str) -> None:
    """Refuse an in-place `op` on t where PyTorch refuses it."""
    if t._requires_grad and t.grad_fn is None and _state.enabled:
        raise RuntimeError(
            f"a leaf tensor that requires grad is being used in an in-place operation "
            f"({op}); wrap it in no_grad() or use the out-of-place operation"
        )
    info = t._alias
    if info is None:
        return
    if info.overlapping:
        raise RuntimeError(
            f"unsupported operation ({op}): more than one element of the written-to "
            "tensor refers to a single memory location (it is an expanded view). "
            "Please clone() the tensor before performing the operation."
        )
    base = info.base
    if (
        base is not None
        and _state.enabled
        and base._requires_grad
        and base.grad_fn is None
    ):
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an "
            f"in-place operation ({op}); wrap it in no_grad() or change the leaf "
            "itself"
        )


# -------------------------------------------------------------- after writing
def changed(t: Tensor) -> Tensor:
    """t's values changed in place (unrecorded): its version goes up and its
    aliases take the change."""
    t._version += 1
    written(t)
    return t


def written(t: Tensor) -> None:
    """t has new values (and, when recorded, a new history): its aliases take
    them, and the base of a recorded view takes the change into its history."""
    info = t._alias
    if info is None:
        return
    members = info.storage.live()
    if len(members) < 2:
        return
    recorded = _state.enabled and t._requires_grad
    base = info.base
    full = _full(members, t)
    head = None  # the tensor whose history changed, when recorded
    if recorded:
        if base is not None:
            _copy_slices(base, t, _relative(t, base))
            head = base
        else:
            head = t
    remade = head is not None and head is base  # t too is made again, from base
    for u in members:
        if u is head or (u is t and not remade):
            continue
        place = u._alias
        assert place is not None
        if head is not None and place.base is head:
            made = _replay(head, _relative(u, head))
            u.array = made.array
            u.grad_fn, u._requires_grad = made.grad_fn, made._requires_grad
            u._output_nr = made._output_nr
        else:
            u.array = _values(full, place.chain)
        if u is not t:
            u._version += 1
    if head is not None and head is not t:
        head._version += 1


def _relative(u: TensorBase, base: TensorBase) -> tuple[Step, ...]:
    """u's view chain from `base` (a member whose chain u's chain extends)."""
    assert u._alias is not None and base._alias is not None
    return u._alias.chain[len(base._alias.chain) :]


def _replay(t: Tensor, chain: Sequence[Step]) -> Tensor:
    """t's view by `chain`, recorded as the current mode says; no new members."""
    previous = _alias.replaying
    _alias.replaying = True
    try:
        for step in chain:
            if step is not None:
                fn, args = step
                t = fn(t, *args)
    finally:
        _alias.replaying = previous
    return t


def _values(full: NDArray, chain: Sequence[Step]) -> NDArray:
    """The values the view `chain` shows of `full` (unrecorded)."""
    return _replay(_make(full), chain).array


def _positions(shape: tuple[int, ...], chain: Sequence[Step], device: Any) -> NDArray:
    """The flat positions in an array of `shape` that the view `chain` shows, in
    the view's order (every view operation is a selection of positions)."""
    count = xp.arange(math.prod(shape), dtype=xp.int64, device=device)
    return xp.reshape(_values(xp.reshape(count, shape), chain), (-1,))


def _basic_key(chain: Sequence[Step]) -> Any:
    """The key of a chain that is one index with a basic key, else None (such a
    write-back is `full.at[key].set(values)`, without positions)."""
    if len(chain) != 1 or chain[0] is None or chain[0][0] is not index:
        return None
    return chain[0][1][0]


def _scatter(full: NDArray, chain: Sequence[Step], values: NDArray) -> NDArray:
    """`full` with the view `chain` showing `values`."""
    if not chain or all(step is None for step in chain):
        return values
    key = _basic_key(chain)
    if key is not None:
        return full.at[key].set(values)
    at = _positions(full.shape, chain, full.device)
    flat = xp.reshape(full, (-1,)).at[at].set(xp.reshape(values, (-1,)))
    return xp.reshape(flat, full.shape)


def _full(members: list[Tensor], t: Tensor) -> NDArray:
    """The storage's full values, t's new values in them."""
    info = t._alias
    assert info is not None
    if not info.chain:
        return t.array
    others = [u for u in members if u is not t]
    root = next((u for u in others if u._alias and not u._alias.chain), None)
    if root is not None:
        old = root.array
    else:  # no member shows all of it: the positions no member shows are unseen
        old = xp.zeros(info.storage.shape, dtype=t.dtype, device=t.device)
        for u in others:
            assert u._alias is not None
            old = _scatter(old, u._alias.chain, u.array)
    return _scatter(old, info.chain, t.array)


class SetItemBackward(Node):
    """base[key] = value, recorded (an index assignment, or a view's in-place
    change taken by its base): the old values lose their gradient at key; the
    value gets the gradient read at key."""

    __slots__ = ("key", "value_shape")

    def __init__(
        self, edges: tuple[Edge, ...], key: Any, value_shape: tuple[int, ...]
    ) -> None:
        super().__init__(edges)
        self.key, self.value_shape = key, value_shape

    def backward(self, grads: list[Tensor | None]) -> tuple[Tensor | None, ...]:
        g = grads[0]
        assert g is not None
        old = None
        if self.next_edges[0]:
            zeros = xp.zeros_like(g.array)
            mask = _make(xp.ones_like(g.array).at[self.key].set(zeros[self.key]))
            old = g * mask
        new = None
        if len(self.next_edges) > 1 and self.next_edges[1]:
            new = unbroadcast(index(g, self.key), self.value_shape)
        return old, new


def _copy_slices(base: Tensor, view: Tensor, chain: Sequence[Step]) -> None:
    """base takes the recorded in-place change of its view (PyTorch's
    CopySlices): its new history is its old one with the view's values put in."""
    old = _make(base.array, base._requires_grad, base.grad_fn, base._output_nr)
    previous = _alias.replaying
    _alias.replaying = True
    try:
        key = _basic_key(chain)
        if key is not None:
            data = old.array.at[key].set(view.array)
            node = SetItemBackward((edge_of(old), edge_of(view)), key, view.shape)
            new = _make(data, True, node)
        else:
            at = _positions(base.shape, chain, base.device)
            flat_old, flat_view = reshape(old, (-1,)), reshape(view, (-1,))
            data = flat_old.array.at[at].set(flat_view.array)
            edges = (edge_of(flat_old), edge_of(flat_view))
            node = SetItemBackward(edges, (at,), flat_view.shape)
            new = reshape(_make(data, True, node), base.shape)
    finally:
        _alias.replaying = previous
    base.array, base.grad_fn = new.array, new.grad_fn
    base._requires_grad, base._output_nr = True, new._output_nr


# ----------------------------------------------------- for the layers above
def writable_buffer(t: TensorBase) -> Buffer:
    """t's device buffer, for the caller to update in place; t's version goes up.

    For the layers above that write tensors themselves (actnet.nn's optimizers):
    t's own buffer when nothing else holds it, otherwise (copy-on-write, as the
    in-place methods do) a private copy that t holds from now on, so no array
    anyone else holds ever changes. When t shares its values with live views
    (`p.data`, `p[0]`, ...), they all move to that copy with it, and the write
    shows in each of them. No graph is recorded: use it under no_grad() on
    tensors that are not part of one.
    """
    info = t._alias
    if info is not None:
        members = info.storage.live()
        if len(members) > 1:
            return _shared_buffer(t, members)  # type: ignore[arg-type]  # a Tensor
    buf = sole_buffer(t)
    if buf is None:
        old = t.array.buffer
        buf = old.device.copy(old)
        buf.info = old.info
        t.array = from_buffer(buf)
    t._version += 1
    return buf


def _shared_buffer(t: Tensor, members: list[Tensor]) -> Buffer:
    info = t._alias
    assert info is not None
    data = t.array
    # aliases of t's NDArray itself, which is held by each member's `.array`, the
    # local and getrefcount's argument: when nothing else holds it, its buffer is
    # written where it is
    if all(u.array is data for u in members) and _getrefcount(data) == len(members) + 2:
        buf = sole_array_buffer(data)
        if buf is not None:
            for u in members:
                u._version += 1
            return buf
    del data
    # the full values (through t when no member shows them all), in a new block
    full = xp.asarray(_full(members, t), copy=True)
    for u in members:
        place = u._alias
        assert place is not None
        u.array = _values(full, place.chain)
        u._version += 1
    buf = t.array.buffer
    if not shares_memory(buf, full.buffer):
        raise RuntimeError(
            f"writable_buffer: this tensor is a view of shape {t.shape} that cannot "
            "be laid out over its base's values; write through an in-place method "
            "(copy_, add_, ...) instead"
        )
    return buf
