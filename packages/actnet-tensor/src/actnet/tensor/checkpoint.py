"""Activation checkpointing: `torch.utils.checkpoint`'s place in actnet.

    from actnet.tensor.checkpoint import checkpoint
    y = checkpoint(block, x)   # block's activations are not kept
    y.sum().backward()         # ...they are recomputed here, then freed

`checkpoint(function, *args)` runs `function(*args)` as usual, recording the
graph, but the tensors its operations save for backward are not kept
(`saved_tensors_hooks` packs each as its number). The first time backward needs
one of them, `function` runs again on the same arguments, with the random
generator where it was (dropout draws the same masks) and graph recording on;
what that run saves, in the same order, stands in for what the first run would
have kept, and each is let go once backward has read it. PyTorch's
non-reentrant checkpoint (`use_reentrant=False`) works this way: `grad` and
`backward(inputs=...)` work through it, and the inputs need not require grad.

The recomputation must save the same tensors as the first run (the same
operations, on arguments of the same shapes and dtypes): a different number of
them is an error (`CheckpointError`), as PyTorch's determinism check reports.
Values an operation keeps otherwise (a Function's attributes on its ctx, an
index array a node holds) are kept as usual.

Selective checkpointing keeps some saved tensors and recomputes the rest op by
op, without running the whole function again (JAX's `jax.checkpoint(policy=)`,
PyTorch's selective activation checkpointing):

    from actnet.tensor.checkpoint import checkpoint, dots_saveable
    y = checkpoint(block, x, policy=dots_saveable)  # matmul outputs kept

`selective_checkpoint(policy)` is the same as a block, and
`actnet.tensor.compile(step, policy=dots_saveable)` records the step so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from actnet.device import default_generator
from actnet.tensor._grad_mode import enable_grad
from actnet.tensor._saved import saved_tensors_hooks
from actnet.tensor._selective import (
    CheckpointError,
    Policy,
    dots_saveable,
    nothing_saveable,
    selective_checkpoint,
)
from actnet.tensor._tensor import Tensor

__all__ = [
    "CheckpointError",
    "checkpoint",
    "dots_saveable",
    "nothing_saveable",
    "selective_checkpoint",
]

T = TypeVar("T")


class _Frame:
    """One checkpointed call: what its recomputation needs, and the tensors
    recomputed and not yet read."""

    def __init__(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        rng_state: dict[str, int] | None,
    ) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.saved = 0  # tensors the first run saved (each packed as its number)
        self.recomputed: dict[int, Tensor] = {}

    def pack(self, tensor: Tensor) -> int:
        number = self.saved
        self.saved += 1
        return number

    def unpack(self, number: int) -> Tensor:
        if number not in self.recomputed:
            # the first read of this backward (or a second backward, with
            # retain_graph: what the first read is gone too)
            self.recompute()
        return self.recomputed.pop(number)

    def recompute(self) -> None:
        found: list[Tensor] = []

        def keep(tensor: Tensor) -> int:
            found.append(tensor.detach())
            return len(found) - 1

        now = default_generator.get_state()
        if self.rng_state is not None:
            default_generator.set_state(self.rng_state)
        try:
            with enable_grad(), saved_tensors_hooks(keep, found.__getitem__):
                self.function(*self.args, **self.kwargs)
        finally:
            if self.rng_state is not None:
                default_generator.set_state(now)
        if len(found) != self.saved:
            raise CheckpointError(
                f"checkpoint: recomputing {_name(self.function)} saved {len(found)} "
                f"tensors for backward, its first run saved {self.saved}: the "
                "function must run the same operations on the same arguments"
            )
        self.recomputed = dict(enumerate(found))


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", type(function).__name__)


def checkpoint(
    function: Callable[..., T],
    *args: Any,
    use_reentrant: bool = False,
    preserve_rng_state: bool = True,
    policy: Policy | None = None,
    **kwargs: Any,
) -> T:
    """function(*args, **kwargs), its saved tensors recomputed in backward
    instead of kept (see the module doc). `preserve_rng_state`: recompute with
    the default generator where the first run started it, so random operations
    (dropout) draw the same values; the generator then goes on from where it
    was. Only the non-reentrant form is built (`use_reentrant=False`,
    PyTorch's recommendation): `use_reentrant=True` is refused.

    With a `policy` (selective checkpointing: `dots_saveable`, or any callable
    taking the Function class that made a tensor and returning True to keep
    it), the function runs once: the saved tensors the policy keeps are kept,
    and each of the others is recomputed in backward, alone, from the
    operation that made it (`selective_checkpoint`). Operations that draw
    random numbers keep their outputs then."""
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {function!r}")
    if not isinstance(use_reentrant, bool):
        raise TypeError(
            f"checkpoint: use_reentrant must be a bool, got {use_reentrant!r}"
        )
    if use_reentrant:
        raise ValueError(
            "checkpoint: use_reentrant=True is not available; actnet builds the "
            "non-reentrant checkpoint (use_reentrant=False), which PyTorch "
            "recommends and which supports grad() and inputs that need no grad"
        )
    if not isinstance(preserve_rng_state, bool):
        raise TypeError(
            f"checkpoint: preserve_rng_state must be a bool, got {preserve_rng_state!r}"
        )
    if policy is not None:
        with selective_checkpoint(policy):
            return function(*args, **kwargs)
    state = default_generator.get_state() if preserve_rng_state else None
    frame = _Frame(function, args, kwargs, state)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)
