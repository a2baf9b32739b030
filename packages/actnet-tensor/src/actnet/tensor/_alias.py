"""Which tensors alias one another: views that write through, as in PyTorch.

A view (`x[0]`, `x.view(12)`, `x.t()`, `x.detach()`, `x.data`, ...) shares its
values with the tensor it was taken from: an in-place change of either is seen
by both, and by every other view of the same values. actnet keeps value
semantics underneath (NDArrays never change once someone holds them), so
aliasing is kept by bookkeeping, as PyTorch's functionalization does it over
immutable values: tensors that alias each other are the members of one
`Storage`, each with the chain of view operations that takes the storage's full
values to its own. After an in-place change of one member, _views.py writes its
new values back into the full values and recomputes every other member from
them.

This module only records the relation (the view operations call `aliased`);
_views.py acts on it. A member keeps its Storage; the Storage knows its members
weakly, so an alias costs nothing once it is gone.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast, final

from actnet.device import Buffer
from actnet.tensor._grad_mode import _state

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor
    from actnet.tensor._tensor_base import TensorBase

T = TypeVar("T", bound="TensorBase")

# One view operation: fn(tensor, *args) makes the view again (with its graph when
# recorded); None is the identity of detach() and .data.
Step = tuple[Callable[..., Any], tuple[Any, ...]] | None


@final
class Storage:
    """The values several tensors show, by shape; `members` weakly."""

    __slots__ = ("members", "prune_at", "shape")

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.members: list[weakref.ref[TensorBase]] = []
        self.shape = shape
        self.prune_at = 16

    def add(self, t: TensorBase) -> None:
        members = self.members
        members.append(weakref.ref(t))
        if len(members) >= self.prune_at:  # dead references go, now and then
            members[:] = [r for r in members if r() is not None]
            self.prune_at = max(16, 2 * len(members))

    def live(self) -> list[Tensor]:
        """The members still alive (and still members: `.data = ...` leaves)."""
        out = []
        keep = []
        for r in self.members:
            t = r()
            if t is not None and t._alias is not None and t._alias.storage is self:
                out.append(t)
                keep.append(r)
        self.members[:] = keep
        return out  # type: ignore[return-value]  # every TensorBase is a Tensor


@final
class Alias:
    """A member's place: its storage, the view chain from the storage's full
    values, and `base`: for a view that autograd follows, the tensor its chain
    starts from there (PyTorch's `._base`), kept alive as PyTorch keeps it."""

    __slots__ = ("base", "chain", "overlapping", "storage")

    def __init__(
        self,
        storage: Storage,
        chain: tuple[Step, ...],
        base: Tensor | None,
        overlapping: bool,
    ) -> None:
        self.storage = storage
        self.chain = chain
        self.base = base
        self.overlapping = overlapping  # expanded: elements share one location


replaying = False  # set by _views while it remakes members (no new members)
_IDENTITY: Final = None


def aliased(
    out: TensorBase,
    a: TensorBase,
    step: Step,
    *,
    differentiable: bool = True,
    overlapping: bool = False,
) -> None:
    """Record that `out` is a view of `a` made by `step` (`fn(a, *args)`).

    `differentiable`: autograd follows the view (False for detach and .data,
    and for a view taken without recording of a tensor that requires grad: an
    in-place change of it is not recorded against `a`).
    """
    if replaying:
        return
    info = a._alias
    if info is None:
        storage = Storage(a.shape)
        info = a._alias = Alias(storage, (), None, False)
        storage.add(a)
    storage = info.storage
    chain = info.chain if step is _IDENTITY else (*info.chain, step)
    base = None
    if differentiable and (_state.enabled or not a._requires_grad):
        # every TensorBase is a Tensor (_tensor_base.py)
        base = info.base if info.base is not None else cast("Tensor", a)
    out._alias = Alias(storage, chain, base, overlapping or info.overlapping)
    storage.add(out)


def shares_memory(a: Buffer, b: Buffer) -> bool:
    """Whether two buffers show memory of one block."""
    return (a if a.base is None else a.base) is (b if b.base is None else b.base)


def alias_of(a: TensorBase, out: T) -> T:
    """`out` (a new tensor over a's values) as an alias of a outside the graph:
    detach() and .data."""
    aliased(out, a, _IDENTITY, differentiable=False)
    return out
