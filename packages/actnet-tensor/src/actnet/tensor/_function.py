"""Function: the extension point for new differentiable operations.

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    y = Square.apply(x)

`forward` runs without recording the graph; `backward` receives one gradient per
output and returns one per forward argument (None for non-tensors and for inputs
that need none: see `ctx.needs_input_grad`). `Function.apply` is the only entry.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from itertools import islice
from typing import Any, ClassVar, Final

import actnet.ndarray as xp
from actnet.tensor import _recipes
from actnet.tensor._floating import INEXACT
from actnet.tensor._grad_mode import _state
from actnet.tensor._graph import Edge, Node, edge_of
from actnet.tensor._saved import (
    Saved,
    SavedOutput,
    explaining,
    label_kept,
    saved,
)
from actnet.tensor._shape import to
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import _make


class FunctionCtx:
    """What forward leaves for backward. Any other attribute may be set on it."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Any, ...] | None = ()
        self._freed = False
        self._non_differentiable: set[int] | None = None  # made when marked
        self._node_ref: weakref.ref[Node] | None = None  # weak: node -> ctx is strong

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for backward; an in-place change to one before backward is
        an error there."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward takes Tensors or None, got {type(t).__name__}"
                )
        self._saved = tuple(None if t is None else Saved(t) for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to read "
                "saved tensors after they were freed); specify retain_graph=True"
            )
        assert self._saved is not None and self._node_ref is not None
        node = self._node_ref()
        assert node is not None  # backward runs on a live node
        return tuple(None if s is None else s.get(node) for s in self._saved)

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """These outputs get no gradient (indices, masks)."""
        if self._non_differentiable is None:
            self._non_differentiable = set()
        self._non_differentiable.update(id(t) for t in tensors)


# How many attributes FunctionCtx.__init__ sets; any after them a forward set.
_CTX_FIELDS: Final = len(vars(FunctionCtx(())))


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`.

    `contracts = True` marks a contraction (a matmul, a convolution,
    attention): what selective checkpointing's `dots_saveable` keeps."""

    contracts: ClassVar[bool] = False

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise TypeError("a Function subclass must define a static backward(ctx, ...)")

    def __init__(self) -> None:
        raise TypeError("Functions are not instantiated: call Function.apply")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.forward is Function.forward or cls.backward is Function.backward:
            raise TypeError(f"{cls.__name__} must define both forward and backward")
        needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
        ctx = FunctionCtx(needs)
        snapshot = None
        if _recipes.in_use and _recipes.noting():
            assert _recipes.snapshot is not None
            snapshot = _recipes.snapshot(args)
            _recipes.inside.depth += 1
        previous = _state.enabled
        _state.enabled = False
        try:
            result = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.enabled = previous
            if snapshot is not None:
                _recipes.inside.depth -= 1
        outputs = result if isinstance(result, tuple) else (result,)
        for out in outputs:
            if not isinstance(out, Tensor):
                raise TypeError(
                    f"{cls.__name__}.forward must return Tensors, "
                    f"got {type(out).__name__}"
                )
        if not (previous and True in needs):
            if snapshot is not None and _recipes.note is not None:
                _recipes.note(cls, args, kwargs, outputs, snapshot)
            return result
        node = FunctionNode(cls, ctx, tuple([edge_of(a) for a in args]), outputs)
        if explaining.depth and len(ctx.__dict__) > _CTX_FIELDS:
            # forward kept more on ctx: label its memory (see
            # explain_saved_memory; a dict keeps its order, FunctionCtx's own
            # attributes come first)
            label_kept(
                islice(ctx.__dict__.values(), _CTX_FIELDS, None), saved(cls.__name__)
            )
        ctx._node_ref = weakref.ref(node)
        marked = ctx._non_differentiable
        wrapped = []
        for nr, out in enumerate(outputs):
            if (marked and id(out) in marked) or out.dtype not in INEXACT:
                wrapped.append(out)
                continue
            if out.grad_fn is not None or _is_argument(out, args):
                out = _make(out.array)  # an input returned as is: a new output tensor
            out._requires_grad = True
            out.grad_fn = node
            out._output_nr = nr
            wrapped.append(out)
        if ctx._saved:
            # An output saved for its own backward is kept weakly (its values and
            # version), as the built-in operations do: a strong reference would make
            # a cycle output -> node -> ctx -> output that only the GC could free.
            ctx._saved = tuple(
                SavedOutput(s.tensor, s.tensor._output_nr)
                if isinstance(s, Saved)
                and s.tensor is not None
                and s.tensor.grad_fn is node
                else s
                for s in ctx._saved
            )
        if snapshot is not None and _recipes.note is not None:
            _recipes.note(cls, args, kwargs, tuple(wrapped), snapshot)
        return tuple(wrapped) if isinstance(result, tuple) else wrapped[0]


def _is_argument(out: Tensor, args: tuple[Any, ...]) -> bool:
    for a in args:  # noqa: SIM110  # not any(...): a generator costs more here
        if out is a:
            return True
    return False


class FunctionNode(Node):
    """The node of one Function.apply: calls the Function's backward."""

    __slots__ = ("ctx", "dtypes", "function", "metas", "num_outputs")

    def __init__(
        self,
        function: type[Function],
        ctx: FunctionCtx,
        edges: tuple[Edge, ...],
        outputs: Sequence[Tensor],
    ) -> None:
        super().__init__(edges)
        self.function = function
        self.ctx = ctx
        self.num_outputs = len(outputs)
        # What a missing gradient's zeros need; a one-output node always gets its
        # gradient (the engine runs a node only when one arrived).
        self.metas = (
            [(o.shape, o.dtype, o.device) for o in outputs] if len(outputs) > 1 else []
        )
        # A gradient reaches backward in its output's dtype, as in PyTorch (whose
        # engine casts it): a bfloat16 output that met float32 (a residual sum
        # under autocast) gets a float32 gradient from that sum.
        self.dtypes = tuple([o.dtype for o in outputs])

    def name(self) -> str:
        return f"{self.function.__name__}Backward"

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        filled = grads
        if self.metas:
            filled = [
                g
                if g is not None
                else _make(xp.zeros(shape, dtype=dtype, device=device))
                for g, (shape, dtype, device) in zip(grads, self.metas, strict=True)
            ]
        for i, dtype in enumerate(self.dtypes):
            g = filled[i]
            if g is not None and g.array.dtype != dtype:
                filled = list(filled)
                filled[i] = to(g, None, dtype)
        result = self.function.backward(self.ctx, *filled)
        grads_in = result if isinstance(result, tuple) else (result,)
        expected = len(self.next_edges)
        if len(grads_in) != expected:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {expected}, got {len(grads_in)})"
            )
        needs = self.ctx.needs_input_grad
        for i, (g, edge) in enumerate(zip(grads_in, self.next_edges, strict=True)):
            if g is None or (type(g) is Tensor and edge is not None):
                continue  # the usual cases, checked no further
            if not isinstance(g, Tensor):
                raise TypeError(f"{self.name()}: gradient {i} is a {type(g).__name__}")
            if edge is None and needs[i]:
                raise RuntimeError(
                    f"{self.name()}: gradient {i} for an input without grad"
                )
        return grads_in

    def release(self) -> bool:
        had = bool(self.ctx._saved)
        self.ctx._saved = None
        self.ctx._freed = had
        return had
