from __future__ import annotations

import pytest

from actnet.mem import (
    Allocator,
    TraceEvent,
    mixed_size_trace,
    replay,
    training_step_trace,
)
from actnet.mem.demo import main


def well_formed(trace: list[TraceEvent]) -> dict[int, int]:
    """Check every key is malloc'd once and freed at most once, after its malloc;
    return the sizes of the keys still live at the end."""
    live: dict[int, int] = {}
    seen: set[int] = set()
    for event in trace:
        if event.op == "malloc":
            assert event.key not in seen
            seen.add(event.key)
            live[event.key] = event.nbytes
        elif event.op == "free":
            assert event.key in live
            del live[event.key]
    return live


@pytest.mark.parametrize("batch", [8, 64, 512])
def test_training_trace_keeps_exactly_the_persistent_state(batch: int) -> None:
    widths = (20, 30, 10)
    trace = training_step_trace(4, batch=batch, widths=widths)
    live = well_formed(trace)
    params = 20 * 30 + 30 + 30 * 10 + 10
    # parameters, AdamW's two state tensors, and the last step's gradients
    assert sum(live.values()) == 4 * params * 4
    assert next(e.info for e in trace if e.op == "mark").startswith("step 0: batch ")


def test_mixed_trace_frees_everything() -> None:
    trace = mixed_size_trace(2000, live_target=100, min_size=1, max_size=1000)
    assert well_formed(trace) == {}
    sizes = [e.nbytes for e in trace if e.op == "malloc"]
    assert min(sizes) >= 1 and max(sizes) <= 1000


def test_replay_measures_against_an_independent_count() -> None:
    trace = mixed_size_trace(3000, live_target=200, seed=3)
    live = peak = 0
    for event in trace:
        if event.op == "malloc":
            live += event.nbytes
            peak = max(peak, live)
        elif event.op == "free":
            live -= next(
                e.nbytes for e in trace if e.op == "malloc" and e.key == event.key
            )
    allocator = Allocator(alignment=64)
    result = replay(allocator, trace)
    assert result.peak_requested == peak
    assert result.peak_used == allocator.peak_bytes() >= peak
    assert result.peak_reserved == allocator.peak_total_bytes()
    assert result.fragmentation == result.peak_reserved / peak
    assert allocator.used_bytes() == 0


def test_replay_rejects_a_key_reused_while_live() -> None:
    trace = [TraceEvent("malloc", 1, 10), TraceEvent("malloc", 1, 10)]
    with pytest.raises(ValueError, match="reuses key 1"):
        replay(Allocator(), trace)


def test_demo_prints_the_table_and_the_fragmentation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--steps", "3", "--batch", "128"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line[:5].strip().isdigit()]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    expected = replay(Allocator(), training_step_trace(3, batch=128)).fragmentation
    assert f"fragmentation (reserved peak / live peak): {expected:.4f}" in out


def test_demo_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--steps", "0"])
    assert info.value.code == 2
    assert "--steps must be >= 1" in capsys.readouterr().err
