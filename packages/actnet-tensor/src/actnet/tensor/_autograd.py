"""The autograd graph (Node, AccumulateGrad) and the engine that walks it.

A Node is the backward of one operation: `next_edges` says where the gradient of
each differentiable input goes (the input's own node and which of its outputs the
input was, or None); `backward(grads)` maps the gradients of the outputs to those
of the inputs. Leaves end in an AccumulateGrad node that adds into `.grad`.
"""

from __future__ import annotations

import sys
import weakref
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from actnet.ndarray import buffer_of, from_buffer
from actnet.tensor._grad_mode import _state, set_grad_enabled
from actnet.tensor._tensor import Hook, RemovableHandle, Tensor, _make

Edge = tuple["Node", int] | None
_getrefcount = sys.getrefcount

_RETAIN_MESSAGE = (
    "Trying to backward through the graph a second time (or to read saved tensors "
    "after they were freed). Saved values of the graph are freed when you call "
    ".backward() or grad(); specify retain_graph=True if you need to backward "
    "through the graph a second time."
)


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

    def __init__(self, variable: Tensor) -> None:
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
        return ()


_GRADIENT_INFO = ("gradient", "backward")


def accumulate(t: Tensor, grad: Tensor) -> None:
    """t.grad += grad: in place (copy-on-write) when no graph is being built, as part
    of the new graph under create_graph. A gradient that type promotion widened
    (a float32 leaf added to a float64 tensor) is cast to the leaf's dtype, as
    PyTorch's engine does."""
    have, want = grad.array.buffer.native.dtype, t.array.buffer.native.dtype
    if have is not want and have != want:
        grad = grad.to(dtype=want)
    if t._grad is None:
        if not _state.enabled:
            buf = buffer_of(grad.array)
            if buf.base is None:
                buf._meta[2] = _GRADIENT_INFO  # explain the bytes: a gradient now
        t._grad = grad
    elif _state.enabled:
        t._grad = t._grad + grad
    else:
        _add_into(t, grad)


def _add_into(t: Tensor, grad: Tensor) -> None:
    """t.grad += grad without a graph: into t.grad's buffer when it alone holds it
    (the usual case: a gradient is nobody else's), else copy-on-write."""
    current = t._grad
    assert current is not None
    data = current.array
    # current.array, `data`, getrefcount's argument: 3 when nothing else holds it;
    # t._grad, `current`, the argument: 3 when the gradient tensor is not shared.
    if _getrefcount(data) == 3 and _getrefcount(current) == 3:
        buf = data.buffer
        other = grad.array.buffer
        mine, theirs = buf.native, other.native
        if (
            _getrefcount(buf) == 3
            and buf.base is None
            and theirs.shape == mine.shape
            and theirs.dtype == mine.dtype
        ):
            buf.device.add(buf, other, out=buf)
            current._version += 1
            return
    del data
    current.add_(grad)


def grad_accumulator(leaf: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad node (one per leaf, for its lifetime)."""
    return _accumulator_edge(leaf)[0]


def _accumulator_edge(leaf: Tensor) -> tuple[AccumulateGrad, int]:
    extra = leaf._extra_()
    edge = extra.acc_edge
    if edge is None:
        edge = extra.acc_edge = (AccumulateGrad(leaf), 0)
    return edge


def edge_of(t: Any) -> Edge:
    """Where the gradient of input `t` goes (None when it does not require grad)."""
    if not isinstance(t, Tensor) or not t._requires_grad:
        return None
    node = t.grad_fn
    if node is not None:
        return (node, t._output_nr)
    extra = t._extra
    if extra is not None and extra.acc_edge is not None:
        return extra.acc_edge
    return _accumulator_edge(t)


# ---------------------------------------------------------------------- engine
_ONES: dict[tuple[tuple[int, ...], Any, Any], Tensor] = {}


def _ones_like(t: Tensor) -> Tensor:
    """The implicit gradient of a one-element output: a ones tensor, shared (its
    values are immutable, and whoever adds into it copies on write)."""
    buf = buffer_of(t.array)
    key = (buf.shape, buf.dtype, buf.device)
    ones = _ONES.get(key)
    if ones is None:
        values = buf.device.full(buf.shape, 1, buf.dtype)
        values.info = ("constant", "implicit output gradient")
        ones = _ONES[key] = _make(from_buffer(values))
    return ones


def _check_roots(
    tensors: Sequence[Tensor], grad_tensors: Sequence[Tensor | None] | None
) -> list[tuple[Tensor, Tensor]]:
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(
            f"got {len(grad_tensors)} gradients for {len(tensors)} outputs"
        )
    roots = []
    for t, g in zip(tensors, grad_tensors, strict=True):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward of a {type(t).__name__}: expected Tensors")
        if not t._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if t.array.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs; pass a "
                    "gradient of the output's shape"
                )
            g = _ones_like(t)
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradient must be a Tensor, got {type(g).__name__}")
        elif g.shape != t.shape:
            raise RuntimeError(
                f"gradient of shape {g.shape} for an output of shape {t.shape}"
            )
        roots.append((t, g))
    return roots


def _run(
    roots: list[tuple[Tensor, Tensor]],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: dict[tuple[Node, int], int] | None = None,
) -> list[Tensor | None]:
    """Walk the graph from `roots` in topological order, calling each node's
    backward once all its gradients have arrived. With `capture`, the gradients
    reaching those (node, output) slots are returned instead of accumulated."""
    start: dict[Node, list[Tensor | None]] = {}
    for root, root_grad in roots:
        edge = edge_of(root)
        assert edge is not None
        first, first_nr = edge
        first_slots = start.get(first)
        if first_slots is None:
            first_slots = start[first] = [None] * first.num_outputs
        first_slots[first_nr] = _sum(first_slots[first_nr], root_grad)
    # Count the edges into every node reachable from the roots (iteratively: a
    # graph may be a chain of 10**4 nodes).
    dependencies: dict[Node, int] = dict.fromkeys(start, 0)
    stack = list(start)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None:
                child = edge[0]
                count = dependencies.get(child)
                if count is None:
                    dependencies[child] = 1
                    stack.append(child)
                else:
                    dependencies[child] = count + 1
    ready = [n for n in start if not dependencies[n]]
    previous = _state.enabled
    _state.enabled = create_graph
    try:
        if capture is None:
            _walk(ready, start, dependencies, retain_graph)
            return []
        return _walk_capturing(ready, start, dependencies, retain_graph, capture)
    finally:
        _state.enabled = previous


def _walk(
    ready: list[Node],
    pending: dict[Node, list[Tensor | None]],
    dependencies: dict[Node, int],
    retain_graph: bool,
) -> None:
    """The engine's loop for backward(): run each node once all its gradients
    have arrived (a node that none reached only passes the count on)."""
    while ready:
        node = ready.pop()
        grads = pending.pop(node, None)
        input_grads: Sequence[Tensor | None] = ()
        if grads is not None:  # a slot is made only when a gradient arrives
            hooks = node._output_hooks
            if hooks:
                grads = _run_hooks(hooks, grads)
            if node._freed:
                raise RuntimeError(_RETAIN_MESSAGE)
            input_grads = node.backward(grads)
        if not retain_graph and node.release():
            node._freed = True
        edges = node.next_edges
        if not edges:
            continue
        if len(input_grads) != len(edges):
            input_grads = _padded(input_grads, len(edges))
        for edge, g in zip(edges, input_grads):  # noqa: B905  # equal lengths
            if edge is None:
                continue
            child, nr = edge
            if g is not None:
                slots = pending.get(child)
                if slots is None:
                    slots = pending[child] = [None] * child.num_outputs
                total = slots[nr]
                slots[nr] = g if total is None else total + g
            count = dependencies[child] - 1
            if count:
                dependencies[child] = count
            else:
                ready.append(child)


def _padded(grads: Sequence[Tensor | None], n: int) -> list[Tensor | None]:
    """A node's gradients, one per next edge (a node may return fewer)."""
    return [*grads[:n], *([None] * (n - len(grads)))]


def _walk_capturing(
    ready: list[Node],
    pending: dict[Node, list[Tensor | None]],
    dependencies: dict[Node, int],
    retain_graph: bool,
    capture: dict[tuple[Node, int], int],
) -> list[Tensor | None]:
    """The engine's loop for grad(): the gradients reaching the `capture` slots
    are returned; only the nodes that lead to one run, and nothing accumulates."""
    needed = _needed(dependencies, capture)
    captured: list[Tensor | None] = [None] * len(capture)
    while ready:
        node = ready.pop()
        arrived = pending.pop(node, None)
        grads: list[Tensor | None] = (
            arrived if arrived is not None else [None] * node.num_outputs
        )
        hooks = node._output_hooks
        if hooks:
            grads = _run_hooks(hooks, grads)
        for nr, g in enumerate(grads):
            index = capture.get((node, nr))
            if index is not None:
                captured[index] = _sum(captured[index], g)
        run = (
            any(g is not None for g in grads)
            and node in needed
            and type(node) is not AccumulateGrad
        )
        if run:
            if node._freed:
                raise RuntimeError(_RETAIN_MESSAGE)
            input_grads = node.backward(grads)
        else:
            input_grads = ()
        if not retain_graph and node.release():
            node._freed = True
        n_grads = len(input_grads)
        for i, edge in enumerate(node.next_edges):
            if edge is None:
                continue
            g = input_grads[i] if i < n_grads else None
            child, nr = edge
            if g is not None:
                slots = pending.get(child)
                if slots is None:
                    slots = pending[child] = [None] * child.num_outputs
                slots[nr] = _sum(slots[nr], g)
            dependencies[child] -= 1
            if dependencies[child] == 0:
                ready.append(child)
    return captured


def _sum(total: Tensor | None, g: Tensor | None) -> Tensor | None:
    """Gradients arriving by several paths add up."""
    if total is None:
        return g
    if g is None:
        return total
    return total + g


def _run_hooks(
    hooks: dict[int, dict[int, Hook]], grads: list[Tensor | None]
) -> list[Tensor | None]:
    grads = list(grads)
    for nr, by_id in hooks.items():
        for hook in list(by_id.values()):
            g = grads[nr]
            if g is None:
                break
            replaced = hook(g)
            if replaced is not None:
                grads[nr] = replaced
    return grads


def _needed(
    dependencies: dict[Node, int], capture: dict[tuple[Node, int], int]
) -> set[Node]:
    """The nodes from which a captured slot can be reached (the rest need not run)."""
    parents: dict[Node, list[Node]] = {}
    for node in dependencies:
        for edge in node.next_edges:
            if edge is not None:
                parents.setdefault(edge[0], []).append(node)
    ancestors: set[Node] = set()
    stack = [node for node, _ in capture]
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in ancestors:
                ancestors.add(parent)
                stack.append(parent)
    return ancestors


def backward(
    tensors: Sequence[Tensor],
    grad_tensors: Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of `tensors` into the leaves' `.grad`."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    if isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    retain = create_graph if retain_graph is None else retain_graph
    if (
        grad_tensors is None
        and inputs is None
        and len(tensors) == 1
        and type(root := tensors[0]) is Tensor
        and root._requires_grad
        and root.array.buffer.native.size == 1
    ):  # loss.backward(): _check_roots' answer without its loop
        _run([(root, _ones_like(root))], retain_graph=retain, create_graph=create_graph)
        return
    roots = _check_roots(tensors, grad_tensors)
    if inputs is not None:  # accumulate into these tensors only
        targets: list[Tensor] = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = _grad(roots, targets, retain, create_graph, allow_unused=True)
        with set_grad_enabled(create_graph):
            for t, g in zip(targets, grads, strict=True):
                if g is not None:
                    accumulate(t, g)
        return
    _run(roots, retain_graph=retain, create_graph=create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, returned (not
    accumulated into .grad)."""
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    roots = _check_roots(outs, grad_outputs)
    retain = create_graph if retain_graph is None else retain_graph
    return tuple(_grad(roots, ins, retain, create_graph, allow_unused))


def _grad(
    roots: list[tuple[Tensor, Tensor]],
    inputs: list[Tensor],
    retain: bool,
    create_graph: bool,
    allow_unused: bool,
) -> list[Tensor | None]:
    capture: dict[tuple[Node, int], int] = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"input {i} does not require grad")
        edge = edge_of(t)
        assert edge is not None
        capture[edge] = i
    result = _run(
        roots, retain_graph=retain, create_graph=create_graph, capture=capture
    )
    if not allow_unused:
        for i, g in enumerate(result):
            if g is None:
                raise RuntimeError(
                    f"input {i} was not used in the graph; pass allow_unused=True "
                    "to get None for it"
                )
    return result
