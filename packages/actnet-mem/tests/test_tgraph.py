from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from actnet.mem import Handle, StaleHandleError, TGraph


def test_ready_follows_dependencies_in_issue_order() -> None:
    g = TGraph[str]()
    a = g.add("a")
    b = g.add("b")
    c = g.add("c", [a, b])
    d = g.add("d", [a])
    assert g.ready() == [a, b]
    g.mark_done(b)
    assert g.ready() == [a]
    g.mark_done(a)
    assert g.ready() == [c, d]
    assert [g.op(n) for n in g.ready()] == ["c", "d"]


def test_node_is_recycled_only_when_done_and_released() -> None:
    g = TGraph[int]()
    a = g.add(1)
    g.release(a)
    assert a in g  # released but not done: still needed by the queue
    g.mark_done(a)
    assert a not in g and len(g) == 0
    b = g.add(2)
    assert b.slot == a.slot  # the slot was reused
    with pytest.raises(StaleHandleError):
        g.op(a)
    g.mark_done(b)
    assert b in g  # done but not released
    g.release(b)
    assert b not in g


def test_unknown_and_stale_dependencies_are_rejected() -> None:
    g = TGraph[int]()
    other = TGraph[int]()
    foreign = other.add(0)
    with pytest.raises(StaleHandleError):
        g.add(1, [foreign])
    a = g.add(1)
    g.mark_done(a)
    g.release(a)
    with pytest.raises(StaleHandleError):
        g.add(2, [a])
    with pytest.raises(TypeError, match="deps must hold Handles"):
        g.add(2, [0])  # type: ignore[list-item]  # wrong type on purpose
    assert len(g) == 0


def test_cycles_are_rejected() -> None:
    g = TGraph[str]()
    a = g.add("a")
    b = g.add("b", [a])
    c = g.add("c", [b])
    with pytest.raises(ValueError, match="cycle"):
        g.add_dep(a, c)
    with pytest.raises(ValueError, match="cycle"):
        g.add_dep(a, a)
    assert g.ready() == [a]


def test_add_dep_delays_a_ready_node() -> None:
    g = TGraph[str]()
    a = g.add("a")
    b = g.add("b")
    g.add_dep(b, a)
    assert g.ready() == [a]
    g.mark_done(a)
    assert g.ready() == [b]
    with pytest.raises(ValueError, match="already done"):
        g.add_dep(a, b)


def test_done_before_predecessors_and_twice_are_errors() -> None:
    g = TGraph[str]()
    a = g.add("a")
    b = g.add("b", [a])
    with pytest.raises(ValueError, match="waits on 1 predecessor"):
        g.mark_done(b)
    g.mark_done(a)
    with pytest.raises(ValueError, match="already done"):
        g.mark_done(a)
    g.release(a)
    with pytest.raises(StaleHandleError):
        g.release(a)


def test_dependency_on_a_done_node_is_satisfied() -> None:
    g = TGraph[str]()
    a = g.add("a")
    g.mark_done(a)
    b = g.add("b", [a, a])
    assert g.ready() == [b]


@dataclass
class ModelNode:
    op: int
    deps: set[Handle]
    done: bool = False
    released: bool = False
    seq: int = field(default=0)


class TGraphMachine(RuleBasedStateMachine):
    counter: Any = None  # the session's operation counter, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.g = TGraph[int]()
        self.model: dict[Handle, ModelNode] = {}
        self.recycled: list[Handle] = []
        self.seq = 0

    def _count(self) -> None:
        if self.counter is not None:
            self.counter.count += 1

    def model_ready(self) -> list[Handle]:
        ready = [
            h
            for h, n in self.model.items()
            if not n.done
            and all(d not in self.model or self.model[d].done for d in n.deps)
        ]
        return sorted(ready, key=lambda h: self.model[h].seq)

    @rule(op=st.integers(), data=st.data())
    def add(self, op: int, data: st.DataObject) -> None:
        self._count()
        live = sorted(self.model, key=lambda h: self.model[h].seq)
        deps = data.draw(st.lists(st.sampled_from(live), max_size=3)) if live else []
        h = self.g.add(op, deps)
        pending = {d for d in deps if not self.model[d].done}
        self.model[h] = ModelNode(op, pending, seq=self.seq)
        self.seq += 1

    @precondition(lambda self: bool(self.model_ready()))
    @rule(data=st.data())
    def mark_done(self, data: st.DataObject) -> None:
        self._count()
        h = data.draw(st.sampled_from(self.model_ready()))
        self.g.mark_done(h)
        self.model[h].done = True
        self._recycle(h)

    @precondition(lambda self: any(not n.released for n in self.model.values()))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        self._count()
        h = data.draw(
            st.sampled_from([h for h, n in self.model.items() if not n.released])
        )
        self.g.release(h)
        self.model[h].released = True
        self._recycle(h)

    @precondition(lambda self: len(self.model) >= 2)
    @rule(data=st.data())
    def add_dep(self, data: st.DataObject) -> None:
        self._count()
        handles = sorted(self.model, key=lambda h: self.model[h].seq)
        node = data.draw(st.sampled_from(handles))
        dep = data.draw(st.sampled_from(handles))
        before = self.g.ready()
        if self.model[node].done:
            with pytest.raises(ValueError, match="already done"):
                self.g.add_dep(node, dep)
        elif node == dep or self._reaches(node, dep):
            with pytest.raises(ValueError, match="cycle"):
                self.g.add_dep(node, dep)
        else:
            self.g.add_dep(node, dep)
            if not self.model[dep].done:
                self.model[node].deps.add(dep)
            return
        assert self.g.ready() == before

    @precondition(lambda self: bool(self.recycled))
    @rule(data=st.data())
    def recycled_handles_are_stale(self, data: st.DataObject) -> None:
        self._count()
        h = data.draw(st.sampled_from(self.recycled))
        with pytest.raises(StaleHandleError):
            self.g.add(0, [h])
        with pytest.raises(StaleHandleError):
            self.g.mark_done(h)

    def _recycle(self, h: Handle) -> None:
        if self.model[h].done and self.model[h].released:
            del self.model[h]
            self.recycled.append(h)

    def _reaches(self, start: Handle, goal: Handle) -> bool:
        # successors of x: live nodes whose pending deps include x
        stack, seen = [start], {start}
        while stack:
            x = stack.pop()
            for h, n in self.model.items():
                if x in n.deps and not self.model[x].done:
                    if h == goal:
                        return True
                    if h not in seen:
                        seen.add(h)
                        stack.append(h)
        return False

    @invariant()
    def matches_model(self) -> None:
        assert self.g.ready() == self.model_ready()
        assert len(self.g) == len(self.model)
        for h, n in self.model.items():
            assert h in self.g
            assert self.g.op(h) == n.op
            assert self.g.is_done(h) == n.done
        assert not any(h in self.g for h in self.recycled)


def test_tgraph_state_machine(operations: object) -> None:
    TGraphMachine.counter = operations
    run_state_machine_as_test(
        TGraphMachine, settings=settings(max_examples=200, stateful_step_count=80)
    )
