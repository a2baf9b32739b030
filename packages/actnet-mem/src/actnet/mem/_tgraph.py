"""TGraph: the book-keeping of a Tomasulo-style issue queue.

An operation is issued with the nodes it waits on; it is *ready* once all of them
are done; it is marked done when it has run; its node is recycled (its SlotVec
slot reused) once it is both done and released by whoever issued it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from actnet.mem._slotvec import Handle, SlotVec

Op = TypeVar("Op")


class _Node(Generic[Op]):
    __slots__ = ("done", "op", "pending", "released", "seq", "successors")

    def __init__(self, op: Op, seq: int) -> None:
        self.op = op
        self.seq = seq  # issue order
        self.pending = 0  # predecessors not yet done
        self.successors: list[Handle] = []  # nodes waiting on this one
        self.done = False
        self.released = False


class TGraph(Generic[Op]):
    """Dependency book-keeping for out-of-order issue.

    >>> g = TGraph[str]()
    >>> load = g.add("load")
    >>> mul = g.add("mul", [load])
    >>> [g.op(n) for n in g.ready()]
    ['load']
    >>> g.mark_done(load)
    >>> [g.op(n) for n in g.ready()]
    ['mul']

    Not thread-safe: the issuing thread owns it.
    """

    __slots__ = ("_nodes", "_ready", "_seq")

    def __init__(self) -> None:
        self._nodes: SlotVec[_Node[Op]] = SlotVec()
        self._ready: dict[Handle, int] = {}  # ready, not yet done -> issue number
        self._seq = 0

    def add(self, op: Op, deps: Iterable[Handle] = ()) -> Handle:
        """Issue `op` after every node in `deps` (live nodes of this graph)."""
        dep_list = list(dict.fromkeys(deps))  # duplicates count once
        dep_nodes = [self._node(dep, "deps") for dep in dep_list]
        node = _Node(op, self._seq)
        handle = self._nodes.insert(node)
        self._seq += 1
        for dep_node in dep_nodes:
            if not dep_node.done:
                dep_node.successors.append(handle)
                node.pending += 1
        if node.pending == 0:
            self._ready[handle] = node.seq
        return handle

    def add_dep(self, node: Handle, dep: Handle) -> None:
        """Make the not-yet-done `node` also wait on `dep`; a cycle is refused."""
        target = self._node(node, "node")
        source = self._node(dep, "dep")
        if target.done:
            raise ValueError(f"node {node} is already done; it cannot wait on {dep}")
        if source.done or node in source.successors:
            return
        if node == dep or self._reaches(node, dep):
            raise ValueError(f"adding {dep} -> {node} would make a cycle")
        source.successors.append(node)
        target.pending += 1
        self._ready.pop(node, None)

    def ready(self) -> list[Handle]:
        """Nodes not yet done whose predecessors are all done, in issue order."""
        return sorted(self._ready, key=self._ready.__getitem__)

    def mark_done(self, node: Handle) -> None:
        """Record that `node`'s operation has run; its successors may become ready."""
        record = self._node(node, "node")
        if record.done:
            raise ValueError(f"node {node} is already done")
        if record.pending:
            raise ValueError(
                f"node {node} still waits on {record.pending} predecessor(s); "
                f"it cannot be done before them"
            )
        record.done = True
        del self._ready[node]
        for successor in record.successors:
            succ = self._nodes[successor]
            succ.pending -= 1
            if succ.pending == 0:
                self._ready[successor] = succ.seq
        record.successors = []
        if record.released:
            self._nodes.remove(node)

    def release(self, node: Handle) -> None:
        """The issuer no longer needs `node`; it is recycled once it is also done."""
        record = self._node(node, "node")
        if record.released:
            raise ValueError(f"node {node} was already released")
        record.released = True
        if record.done:
            self._nodes.remove(node)

    def op(self, node: Handle) -> Op:
        return self._node(node, "node").op

    def is_done(self, node: Handle) -> bool:
        return self._node(node, "node").done

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def __len__(self) -> int:
        """Nodes not yet recycled."""
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"TGraph({len(self)} nodes, {len(self._ready)} ready)"

    def _node(self, handle: Handle, argument: str) -> _Node[Op]:
        if type(handle) is not Handle:
            raise TypeError(
                f"{argument} must hold Handles returned by TGraph.add, "
                f"got {type(handle).__name__}"
            )
        # StaleHandleError (a KeyError) names unknown, recycled and foreign nodes.
        return self._nodes[handle]

    def _reaches(self, start: Handle, goal: Handle) -> bool:
        """Whether `goal` is reachable from `start` along successor edges."""
        stack = [start]
        seen = {start}
        while stack:
            for successor in self._nodes[stack.pop()].successors:
                if successor == goal:
                    return True
                if successor not in seen:
                    seen.add(successor)
                    stack.append(successor)
        return False
