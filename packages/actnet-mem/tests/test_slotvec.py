from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from actnet.mem import Handle, SlotVec, StaleHandleError


def test_insert_get_set_remove() -> None:
    sv = SlotVec[str]()
    a = sv.insert("a")
    b = sv.insert("b")
    assert (sv[a], sv[b], len(sv)) == ("a", "b", 2)
    sv[a] = "A"
    assert sv[a] == "A"
    assert sv.remove(a) == "A"
    assert a not in sv
    assert b in sv
    assert len(sv) == 1


def test_freed_slot_is_reused_with_a_new_generation() -> None:
    sv = SlotVec[int]()
    first = sv.insert(1)
    sv.remove(first)
    second = sv.insert(2)
    assert second.slot == first.slot
    assert second.generation != first.generation
    with pytest.raises(StaleHandleError, match="stale"):
        sv[first]
    assert sv[second] == 2


def test_stale_handle_never_aliases() -> None:
    sv = SlotVec[int]()
    h = sv.insert(1)
    sv.remove(h)
    sv.insert(99)
    for action in (lambda: sv[h], lambda: sv.remove(h), lambda: sv.__setitem__(h, 5)):
        with pytest.raises(StaleHandleError):
            action()
    assert [v for _, v in sv] == [99]


def test_handle_from_another_slotvec_is_rejected() -> None:
    one, two = SlotVec[int](), SlotVec[int]()
    h = one.insert(1)
    two.insert(2)
    assert h not in two
    with pytest.raises(StaleHandleError, match="another SlotVec"):
        two[h]


def test_stale_handle_error_is_a_key_error_with_a_readable_message() -> None:
    sv = SlotVec[int]()
    h = sv.insert(1)
    sv.remove(h)
    with pytest.raises(KeyError) as info:
        sv.remove(h)
    assert str(info.value).startswith("Handle(")


def test_non_handle_is_a_type_error() -> None:
    sv = SlotVec[int]()
    sv.insert(1)
    with pytest.raises(TypeError, match="handle must be a Handle"):
        sv[(0, 0, 0)]  # type: ignore[index]  # a plain tuple on purpose
    assert (0, 0, 0) not in sv


def test_handles_are_hashable_immutable_values() -> None:
    sv = SlotVec[str]()
    h = sv.insert("x")
    assert {h: 1}[Handle(h.slot, h.generation, h.owner)] == 1
    with pytest.raises(AttributeError):
        h.slot = 3  # type: ignore[misc]  # immutability is what is tested


def test_iteration_gives_pairs_in_slot_order_and_dict_works() -> None:
    sv = SlotVec[str]()
    hs = [sv.insert(c) for c in "abcd"]
    sv.remove(hs[1])
    assert dict(sv) == {hs[0]: "a", hs[2]: "c", hs[3]: "d"}
    assert [v for _, v in sv] == ["a", "c", "d"]


def test_mutation_during_iteration_is_detected() -> None:
    sv = SlotVec[int]()
    sv.insert(1)
    sv.insert(2)
    with pytest.raises(RuntimeError, match="during iteration"):
        for _h, v in sv:
            sv.insert(v)


def test_none_is_a_storable_value() -> None:
    sv = SlotVec[int | None]()
    h = sv.insert(None)
    assert h in sv
    assert sv[h] is None
    assert sv.remove(h) is None


def test_clear() -> None:
    sv = SlotVec[int]()
    hs = [sv.insert(i) for i in range(5)]
    sv.clear()
    assert len(sv) == 0
    assert not any(h in sv for h in hs)


class SlotVecMachine(RuleBasedStateMachine):
    """SlotVec against a dict of the live handles, with stale handles kept around."""

    counter: Any = None  # the session's operation counter, set by the test

    live = Bundle("live")

    def __init__(self) -> None:
        super().__init__()
        self.sv = SlotVec[int]()
        self.other = SlotVec[int]()
        self.model: dict[Handle, int] = {}
        self.dead: list[Handle] = []

    def _count(self) -> None:
        if self.counter is not None:
            self.counter.count += 1

    @rule(target=live, value=st.integers())
    def insert(self, value: int) -> Handle:
        self._count()
        h = self.sv.insert(value)
        assert h not in self.model
        assert h not in self.dead
        self.model[h] = value
        return h

    @rule(h=consumes(live))
    def remove(self, h: Handle) -> None:
        self._count()
        assert self.sv.remove(h) == self.model.pop(h)
        self.dead.append(h)

    @rule(h=live, value=st.integers())
    def set(self, h: Handle, value: int) -> None:
        self._count()
        self.sv[h] = value
        self.model[h] = value

    @rule(data=st.data())
    def stale_access_raises(self, data: st.DataObject) -> None:
        self._count()
        if not self.dead:
            return
        h = data.draw(st.sampled_from(self.dead))
        before = dict(self.sv)
        with pytest.raises(StaleHandleError):
            self.sv[h]
        with pytest.raises(StaleHandleError):
            self.sv.remove(h)
        with pytest.raises(StaleHandleError):
            self.sv[h] = 0
        assert dict(self.sv) == before

    @rule(h=live)
    def foreign_handle_raises(self, h: Handle) -> None:
        self._count()
        with pytest.raises(StaleHandleError):
            self.other[h]

    @invariant()
    def matches_model(self) -> None:
        assert len(self.sv) == len(self.model)
        assert dict(self.sv) == self.model
        for h, value in self.model.items():
            assert h in self.sv
            assert self.sv[h] == value
        assert not any(h in self.sv for h in self.dead)


def test_slotvec_state_machine(operations: object) -> None:
    SlotVecMachine.counter = operations
    run_state_machine_as_test(
        SlotVecMachine,
        settings=settings(max_examples=400, stateful_step_count=100),
    )
