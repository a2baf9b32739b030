"""The autograd graph: Node, AccumulateGrad, and the edges between them.

A Node is the backward of one operation: `next_edges` says where the gradient of
each differentiable input goes (the input's own node and which of its outputs the
input was, or None); `backward(grads)` maps the gradients of the outputs to those
of the inputs. Leaves end in an AccumulateGrad node that adds into `.grad`.
"""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from actnet.tensor import _tensor_base
from actnet.tensor._copy_on_write import sole_buffer
from actnet.tensor._grad_mode import _state
from actnet.tensor._tensor_base import Hook, RemovableHandle, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

Edge = tuple["Node", int] | None


class Node(ABC):
    """The backward of one operation."""

    __slots__ = ("__weakref__", "_freed", "_output_hooks", "next_edges")

    num_outputs = 1

    def __init__(self, next_edges: tuple[Edge, ...]) -> None:
        self.next_edges = next_edges
        self._output_hooks: dict[int, dict[int, Hook]] | None = None
        self._freed = False

    def name(self) -> str:
        return type(self).__name__

    @abstractmethod
    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        """The gradients of the inputs (one per next edge) from those of the outputs."""

    def release(self) -> bool:
        """Drop what forward saved; whether anything was saved. Nodes that save
        values override this."""
        return False

    def add_output_hook(self, output_nr: int, hook: Hook) -> RemovableHandle:
        if self._output_hooks is None:
            self._output_hooks = {}
        return RemovableHandle(self._output_hooks.setdefault(output_nr, {}), hook)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad(Node):
    """The end of the graph at a leaf: adds the gradient into `leaf.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable: TensorBase) -> None:
        if variable.dtype.kind == "c":
            raise NotImplementedError(_tensor_base.COMPLEX_AUTOGRAD)
        super().__init__(())
        self.variable = weakref.ref(variable)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        grad = grads[0]
        leaf = self.variable()
        if grad is None or leaf is None:  # a leaf that is gone gets no gradient
            return ()
        extra = leaf._extra
        if extra is not None and extra.hooks:
            for hook in list(extra.hooks.values()):
                replaced = hook(grad)
                if replaced is not None:
                    grad = replaced
        accumulate(leaf, grad)
        if extra is not None and extra.post_accumulate_hooks:
            for post in list(extra.post_accumulate_hooks.values()):
                post(leaf)
        return ()


def _accumulator_edge(leaf: TensorBase) -> tuple[AccumulateGrad, int]:
    extra = leaf._extra_()
    edge = extra.acc_edge
    if edge is None:
        edge = extra.acc_edge = (AccumulateGrad(leaf), 0)
    return edge


def edge_of(t: Any) -> Edge:
    """Where the gradient of input `t` goes (None when it does not require grad)."""
    if not isinstance(t, TensorBase) or not t._requires_grad:
        return None
    node = t.grad_fn
    if node is not None:
        return (node, t._output_nr)
    extra = t._extra
    if extra is not None and extra.acc_edge is not None:
        return extra.acc_edge
    return _accumulator_edge(t)


def needs_grad(*inputs: Any) -> bool:
    """Whether an operation on `inputs` records its node: the graph is being
    recorded and some input requires grad."""
    if not _state.enabled:
        return False
    for t in inputs:  # noqa: SIM110  # not any(...): a generator costs more here
        if isinstance(t, TensorBase) and t._requires_grad:
            return True
    return False


# ------------------------------------------------------ accumulating into .grad
_GRADIENT_INFO: Final = ("gradient", "backward")


def accumulate(t: TensorBase, grad: Tensor) -> None:
    """t.grad += grad: in place (copy-on-write) when no graph is being built, as part
    of the new graph under create_graph. A gradient that type promotion widened
    (a float32 leaf added to a float64 tensor) is cast to the leaf's dtype, as
    PyTorch's engine does."""
    have, want = grad.array.buffer.native.dtype, t.array.buffer.native.dtype
    if have is not want and have != want:
        grad = grad.to(dtype=want)
    log = _tensor_base.grad_writes
    if log is not None:  # a captured step records (see _compile)
        log.append(t)
    current = t._grad
    if current is None:
        if not grad.array.buffer.is_contiguous:
            # PyTorch's layout contract: a gradient that arrived as a transposed
            # or broadcast view (of `w.t()`, of `w.sum(0)`) is stored dense, so
            # that `p.grad.view(-1)` works as there (LBFGS flattens gradients so)
            grad = grad.contiguous()
        # t's own Tensor around the gradient's values: the one that arrived may be
        # another tensor's gradient too (an addition passes its gradient to both
        # inputs), and t.grad is updated in place later.
        if not _state.enabled:
            values = grad.array.buffer
            if values.base is None:
                values.info = _GRADIENT_INFO  # explain the bytes: a gradient now
        t._grad = _make(grad.array, grad._requires_grad, grad.grad_fn, grad._output_nr)
    elif _state.enabled:
        t._grad = current + grad
    else:  # into t.grad's buffer when it alone holds it (the usual case)
        mine = sole_buffer(current)
        if mine is not None:
            other = grad.array.buffer
            if other.native.shape == mine.native.shape and (
                other.native.dtype == mine.native.dtype
            ):
                mine.device.add(mine, other, out=mine)
                current._version += 1
                return
        current.add_(grad)  # copy-on-write
