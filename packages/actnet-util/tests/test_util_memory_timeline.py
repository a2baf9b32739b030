"""memory_timeline: the categories of every operator add up to the allocator's
bytes (against memory_stats() read between operators, and against the
allocator's counter in a model step), each category holds what it should (the
parameters' blocks, the optimizer's state once made, the saved tensors rising
through forward and falling through backward), the peak is the largest event,
the JSON round-trips, the PNG is drawn, and the Trainer writes both."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.device import get_device
from actnet.tensor import Tensor
from actnet.util import MemoryTimeline, memory_timeline, record_memory_timeline
from actnet.util.memory_timeline import CATEGORIES, category
from actnet.util.trainer import Trainer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rounded(nbytes: int, alignment: int = 256) -> int:
    """The bytes of the block holding `nbytes` (the allocator's rounding)."""
    return max(-(-nbytes // alignment) * alignment, alignment)


def tensor_bytes(tensors: list[Tensor]) -> int:
    return sum(rounded(t.numel() * t.dtype.itemsize) for t in tensors)


def setup(device: str, seed: int = 0) -> tuple[nn.Module, Any, Callable[..., Any]]:
    """A small model with every kind of layer state, AdamW, and its step."""
    at.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(8, 32),
        nn.LayerNorm(32),
        nn.GELU(),
        nn.Dropout(0.2),
        nn.Linear(32, 5),
    ).to(device)
    opt = nn.optim.AdamW(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    def step(x: Tensor, y: Tensor) -> Tensor:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    return model, opt, step


def batch(device: str) -> tuple[Tensor, Tensor]:
    return at.randn(16, 8, device=device), at.randint(0, 5, (16,), device=device)


def test_categories_add_up_to_memory_stats_between_operators() -> None:
    d = get_device("reference:40")
    x = d.from_host(np.ones((8, 8), np.float32), info=("input", "x"))
    w = d.from_host(np.ones((8, 8), np.float32), info=("parameter", "w"))
    used: list[int] = []  # memory_stats() before each next operator: the oracle
    with record_memory_timeline(d) as rec:
        y = d.matmul(x, w)
        y.info = ("saved for backward", "matmul")
        used.append(d.memory_stats().used_bytes)
        z = d.exp(y)  # not labelled: a temporary the step made
        used.append(d.memory_stats().used_bytes)
        g = d.add(y, 1.0, info=("gradient", "backward"))
        used.append(d.memory_stats().used_bytes)
    timeline = rec.timeline
    assert timeline is not None
    assert [e.operator for e in timeline.events] == ["matmul", "exp", "add"]
    assert [e.total_bytes for e in timeline.events] == used
    assert [e.used_bytes for e in timeline.events] == used
    one = rounded(8 * 8 * 4)
    expected = [
        {"inputs": one, "parameters": one, "saved for backward": one},
        {
            "inputs": one,
            "parameters": one,
            "saved for backward": one,
            "temporaries": one,
        },
        {
            "inputs": one,
            "parameters": one,
            "saved for backward": one,
            "temporaries": one,
            "gradients": one,
        },
    ]
    for e, want in zip(timeline.events, expected, strict=True):
        assert e.bytes == {c: want.get(c, 0) for c in CATEGORIES}
    assert g.shape == z.shape == (8, 8)


def test_a_model_step_categories() -> None:
    device = "reference:41"
    model, opt, step = setup(device)
    x, y = batch(device)
    first = memory_timeline(step, x, y)
    second = memory_timeline(step, x, y)
    params = tensor_bytes(list(model.parameters()))
    state = tensor_bytes(  # the step counts stay on "cpu", as PyTorch's do
        [
            v
            for s in opt.state.values()
            for v in s.values()
            if isinstance(v, Tensor) and v.device == x.device
        ]
    )
    assert state == 2 * params  # exp_avg and exp_avg_sq
    for timeline in (first, second):
        events = timeline.events
        assert timeline.device == "reference:41"
        phases = [e.phase for e in events]
        n_fwd, n_bwd = phases.count("forward"), phases.count("backward")
        assert phases == (
            ["forward"] * n_fwd
            + ["backward"] * n_bwd
            + ["optimizer"] * (len(events) - n_fwd - n_bwd)
        )
        assert n_fwd > 5 and n_bwd > 5 and len(events) > n_fwd + n_bwd
        for e in events:  # every byte in a category, and all of them counted
            assert e.total_bytes == e.used_bytes
            assert e.bytes["other"] == 0
            assert e.bytes["parameters"] == params
            assert e.bytes["inputs"] == tensor_bytes([x, y])
            assert e.peak_bytes >= e.used_bytes
            # only .grad counts as gradients (an activation's is a temporary)
            assert e.bytes["gradients"] <= params
        forward, backward = events[:n_fwd], events[n_fwd : n_fwd + n_bwd]
        saved = [e.bytes["saved for backward"] for e in events]
        assert saved[:n_fwd] == sorted(saved[:n_fwd])  # rises through forward
        top = saved[n_fwd - 1]
        assert top == max(saved) > 0
        bwd = saved[n_fwd : n_fwd + n_bwd]
        assert bwd == sorted(bwd, reverse=True)  # falls through backward
        assert bwd[-1] < top / 2
        assert all(e.bytes["gradients"] == 0 for e in forward)  # set_to_none
        assert events[-1].bytes["gradients"] == params
        assert {e.where for e in forward} == {
            "0",
            "1",
            "2",
            "3",
            "4",
            "(CrossEntropyLoss)",
        }
        assert all(e.module is None for e in backward)
    # the optimizer's state appears in the first step's optimizer phase, and
    # is there all through the second
    assert all(
        e.bytes["optimizer state"] == 0 for e in first.events if e.phase != "optimizer"
    )
    assert first.events[-1].bytes["optimizer state"] == state
    assert all(e.bytes["optimizer state"] == state for e in second.events)


def test_the_peak_is_the_largest_event_and_names_its_holders() -> None:
    device = "reference:42"
    _, _, step = setup(device)
    x, y = batch(device)
    step(x, y)  # the optimizer's state made: a step as every later one
    timeline = memory_timeline(step, x, y)
    peak = timeline.peak
    assert peak is not None
    totals = [e.total_bytes for e in timeline.events]
    assert peak.index == totals.index(max(totals))
    event = timeline.events[peak.index]
    assert (peak.operator, peak.where, peak.phase) == (
        event.operator,
        event.where,
        event.phase,
    )
    assert peak.total_bytes == max(totals)
    sizes = [h.nbytes for h in peak.holders]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 8
    for c in CATEGORIES:  # the holders are the peak's blocks, grouped
        assert sum(h.nbytes for h in peak.holders if h.category == c) <= event.bytes[c]
    kinds = {h.category for h in peak.holders}
    assert {"parameters", "optimizer state", "saved for backward"} <= kinds
    made_in = {h.made_in for h in peak.holders if h.category == "saved for backward"}
    assert made_in <= {"0", "1", "2", "3", "4", "(CrossEntropyLoss)"}


def test_json_round_trips(tmp_path: Path) -> None:
    device = "reference:43"
    _, _, step = setup(device)
    timeline = memory_timeline(step, *batch(device))
    path = timeline.to_json(tmp_path / "timeline.json")
    assert MemoryTimeline.from_json(path) == timeline
    data = json.loads(path.read_text())
    assert data["categories"] == list(CATEGORIES)
    assert len(data["events"]) == len(timeline.events)
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a memory timeline"):
        MemoryTimeline.from_json(tmp_path / "other.json")
    data["version"] = 99
    (tmp_path / "newer.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="version 99"):
        MemoryTimeline.from_json(tmp_path / "newer.json")


def _drawn(path: Path) -> None:
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 600
    assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 20


def test_plot_writes_a_png(tmp_path: Path) -> None:
    device = "reference:44"
    _, _, step = setup(device)
    timeline = memory_timeline(step, *batch(device))
    assert timeline.plot(tmp_path / "timeline.png") == tmp_path / "timeline.png"
    _drawn(tmp_path / "timeline.png")
    empty = memory_timeline(lambda: None, device=device)  # no operator ran
    assert empty.events == () and empty.peak is None
    empty.plot(tmp_path / "empty.png")
    assert (tmp_path / "empty.png").read_bytes().startswith(PNG_SIGNATURE)


def test_trainer_writes_the_timeline_of_one_step(tmp_path: Path) -> None:
    device = "reference:45"
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((64, 8)).astype(np.float32)
    ys = rng.integers(0, 5, 64)
    batches = [(xs[i : i + 16], ys[i : i + 16]) for i in range(0, 64, 16)]
    losses = []
    for folder in (None, tmp_path / "run"):
        model, opt, _ = setup(device)
        trainer = Trainer(
            model,
            nn.CrossEntropyLoss(),
            opt,
            progress="none",
            memory_timeline=folder,
            memory_timeline_step=2,
        )
        losses.append(trainer.fit(batches, epochs=1).steps["loss"])
    assert losses[0] == losses[1]  # recording changes nothing
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "memory_timeline.json",
        "memory_timeline.png",
    ]
    _drawn(tmp_path / "run" / "memory_timeline.png")
    timeline = MemoryTimeline.from_json(tmp_path / "run" / "memory_timeline.json")
    assert {e.phase for e in timeline.events} == {"forward", "backward", "optimizer"}
    # step 2: the optimizer's state is there from its first operator
    assert timeline.events[0].bytes["optimizer state"] > 0
    with pytest.raises(ValueError, match="memory_timeline_step"):
        Trainer(model, nn.CrossEntropyLoss(), opt, memory_timeline_step=0)


def test_a_compiled_step_recorded_inside_a_timeline_replays_the_same() -> None:
    device = "cpu"  # AdamW's step counts live there: a capture needs one device
    losses = []
    for record in (False, True):
        _, _, step = setup(device)
        compiled = at.compile(step)
        x, y = batch(device)
        run: list[Tensor] = []
        for call in range(4):  # eager, recorded (capture), then replays
            if record and call in (1, 2):
                timeline = memory_timeline(
                    lambda out, f, a, b: out.append(f(a, b)), run, compiled, x, y
                )
                for e in timeline.events:
                    assert e.total_bytes == e.used_bytes
                if call == 1:  # the recording runs the operators eagerly
                    assert {e.phase for e in timeline.events} >= {"forward", "backward"}
            else:
                run.append(compiled(x, y))
        losses.append([float(v) for v in run])
    assert losses[0] == losses[1]


def test_arguments_and_nothing_left_running() -> None:
    with pytest.raises(TypeError, match="step_fn must be callable"):
        memory_timeline(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pass device="):
        memory_timeline(lambda: None)
    assert category(("parameter", "Linear.weight")) == "parameters"
    assert category(("buffer", "BatchNorm1d.running_mean")) == "parameters"
    assert category("scratch") == "temporaries"
    assert category(None) == category(("no such kind", "x")) == "other"
    assert sys.getprofile() is None
