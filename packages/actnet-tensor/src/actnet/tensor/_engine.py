"""The engine: `backward()` and `grad()`, one walk of the graph.

The walk visits the nodes reachable from the outputs in topological order and
calls each node's backward once all its gradients have arrived; leaves' gradients
end in AccumulateGrad (backward()) or are captured and returned (grad()).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from actnet.ndarray import from_buffer
from actnet.tensor._autocast_state import _state as _autocast_state
from actnet.tensor._grad_mode import _state, set_grad_enabled
from actnet.tensor._graph import Node, accumulate, edge_of
from actnet.tensor._tensor_base import Hook, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_RETAIN_MESSAGE: Final = (
    "Trying to backward through the graph a second time (or to read saved tensors "
    "after they were freed). Saved values of the graph are freed when you call "
    ".backward() or grad(); specify retain_graph=True if you need to backward "
    "through the graph a second time."
)

_ONES: dict[tuple[tuple[int, ...], Any, Any], Tensor] = {}


def _ones_like(t: Tensor) -> Tensor:
    """The implicit gradient of a one-element output: a ones tensor, shared (its
    values are immutable, and whoever adds into it copies on write)."""
    buf = t.array.buffer
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
        if not isinstance(t, TensorBase):
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
        elif not isinstance(g, TensorBase):
            raise TypeError(f"gradient must be a Tensor, got {type(g).__name__}")
        elif g.shape != t.shape:
            raise RuntimeError(
                f"gradient of shape {g.shape} for an output of shape {t.shape}"
            )
        roots.append((t, g))
    return roots


class _Capture:
    """What grad() asks of the walk: the gradients reaching the inputs' (node,
    output) slots are kept and returned, and only the nodes that lead to one run
    (so nothing reaches AccumulateGrad)."""

    __slots__ = ("needed", "slots", "values")

    def __init__(self, slots: dict[tuple[Node, int], int]) -> None:
        self.slots = slots
        self.values: list[Tensor | None] = [None] * len(slots)
        self.needed: set[Node] = set()

    def prune(self, dependencies: dict[Node, int]) -> None:
        """Find the nodes from which a captured slot can be reached."""
        parents: dict[Node, list[Node]] = {}
        for node in dependencies:
            for edge in node.next_edges:
                if edge is not None:
                    parents.setdefault(edge[0], []).append(node)
        stack = [node for node, _ in self.slots]
        while stack:
            for parent in parents.get(stack.pop(), ()):
                if parent not in self.needed:
                    self.needed.add(parent)
                    stack.append(parent)

    def take(self, node: Node, grads: list[Tensor | None]) -> bool:
        """Keep the gradients of node's captured slots; whether node must run."""
        for nr, g in enumerate(grads):
            index = self.slots.get((node, nr))
            if index is not None:
                self.values[index] = _sum(self.values[index], g)
        return node in self.needed


def _run(
    roots: list[tuple[Tensor, Tensor]],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: _Capture | None = None,
) -> None:
    """Walk the graph from `roots` in topological order: count the edges into
    every node reachable from them, then walk."""
    start: dict[Node, list[Tensor | None]] = {}
    for root, root_grad in roots:
        edge = edge_of(root)
        assert edge is not None
        first, first_nr = edge
        first_slots = start.get(first)
        if first_slots is None:
            first_slots = start[first] = [None] * first.num_outputs
        first_slots[first_nr] = _sum(first_slots[first_nr], root_grad)
    # Iteratively: a graph may be a chain of 10**4 nodes.
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
    if capture is not None:
        capture.prune(dependencies)
    ready = [n for n in start if not dependencies[n]]
    previous = _state.enabled
    _state.enabled = create_graph
    # backward runs in the dtypes forward chose: autocast off (PyTorch's advice
    # is to call backward outside the region; inside, the same happens here)
    previous_autocast = _autocast_state.cpu
    _autocast_state.cpu = False
    queued: list[Callable[[], None]] = []
    _callbacks.running.append(queued)
    try:
        _walk(ready, start, dependencies, retain_graph, capture)
        for callback in queued:  # those queued by the walk, then by each other
            callback()
    finally:
        _callbacks.running.pop()
        _state.enabled = previous
        _autocast_state.cpu = previous_autocast


def _walk(
    ready: list[Node],
    pending: dict[Node, list[Tensor | None]],
    dependencies: dict[Node, int],
    retain_graph: bool,
    capture: _Capture | None,
) -> None:
    """The engine's loop: run each node once all its gradients have arrived (a
    node that none reached only passes the count on)."""
    while ready:
        node = ready.pop()
        grads = pending.pop(node, None)
        input_grads: Sequence[Tensor | None] = ()
        if grads is not None:  # a slot is made only when a gradient arrives
            hooks = node._output_hooks
            if hooks:
                grads = _run_hooks(hooks, grads)
            if capture is None or capture.take(node, grads):
                if node._freed:
                    raise RuntimeError(_RETAIN_MESSAGE)
                input_grads = node.backward(grads)
        if not retain_graph and node.release():
            node._freed = True
        edges = node.next_edges
        if not edges:
            continue
        if len(input_grads) != len(edges):
            input_grads = _one_per_edge(input_grads, len(edges))
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


class _Callbacks(threading.local):
    """Per thread: the callbacks queued by each backward that is running."""

    def __init__(self) -> None:
        self.running: list[list[Callable[[], None]]] = []


_callbacks = _Callbacks()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run `callback()` when the backward that is running in this thread (the
    innermost) has walked its whole graph: PyTorch's engine
    `queue_callback`, for hooks that start work which must end with the backward
    (a data-parallel reduction). RuntimeError outside a backward."""
    if not _callbacks.running:
        raise RuntimeError("queue_callback: no backward is running in this thread")
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    _callbacks.running[-1].append(callback)


def _one_per_edge(grads: Sequence[Tensor | None], n: int) -> list[Tensor | None]:
    """A node's gradients, one per next edge (a node may return fewer)."""
    return [*grads[:n], *([None] * (n - len(grads)))]


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


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of `tensors` into the leaves' `.grad`."""
    if isinstance(tensors, TensorBase):
        tensors = [tensors]
    if isinstance(grad_tensors, TensorBase):
        grad_tensors = [grad_tensors]
    retain = create_graph if retain_graph is None else retain_graph
    if (
        grad_tensors is None
        and inputs is None
        and len(tensors) == 1
        and isinstance(root := tensors[0], TensorBase)
        and root._requires_grad
        and root.array.buffer.native.size == 1
    ):  # loss.backward(): _check_roots' answer without its loop
        _run([(root, _ones_like(root))], retain_graph=retain, create_graph=create_graph)
        return
    roots = _check_roots(tensors, grad_tensors)
    if inputs is not None:  # accumulate into these tensors only
        targets = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
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
    outs = [outputs] if isinstance(outputs, TensorBase) else list(outputs)
    ins = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    if isinstance(grad_outputs, TensorBase):
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
    slots: dict[tuple[Node, int], int] = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase) or not t._requires_grad:
            raise RuntimeError(f"input {i} does not require grad")
        edge = edge_of(t)
        assert edge is not None
        slots[edge] = i
    capture = _Capture(slots)
    _run(roots, retain_graph=retain, create_graph=create_graph, capture=capture)
    if not allow_unused:
        for i, g in enumerate(capture.values):
            if g is None:
                raise RuntimeError(
                    f"input {i} was not used in the graph; pass allow_unused=True "
                    "to get None for it"
                )
    return capture.values
