"""Captured training steps (`actnet.tensor.compile`) against eager execution of
the same steps as the oracle: bitwise-equal losses, parameters and optimizer
state; how often a step records and replays (signatures, the cache, rebound
state, a replaced optimizer); CaptureError; fresh results; the memory plan;
refused arguments."""

from __future__ import annotations

import gc
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn import functional as F
from actnet.tensor import Tensor

VOCAB = 23
CONTEXT = 8
MODELS = ["mlp", "cnn", "lm"]
BATCH = {"mlp": 16, "cnn": 8, "lm": 4}


class _LM(nn.Module):
    """Two pre-norm transformer blocks with dropout over token and position
    embeddings, a final LayerNorm and a vocabulary head."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 16)
        self.pos = nn.Embedding(CONTEXT, 16)
        self.blocks = nn.Sequential(
            nn.TransformerBlock(16, 2, dropout=0.1),
            nn.TransformerBlock(16, 2, dropout=0.1),
        )
        self.ln = nn.LayerNorm(16)
        self.head = nn.Linear(16, VOCAB)

    def forward(self, idx: Tensor) -> Tensor:
        x = self.emb(idx) + self.pos(at.arange(idx.shape[1]))
        out: Tensor = self.head(self.ln(self.blocks(x)))
        return out


@dataclass
class _Run:
    """A model, its optimizer (the step reads `opt` each time it runs Python, so
    replacing it is seen), an optional scheduler and clipping."""

    model: nn.Module
    opt: Any
    sched: Any = None
    clip: bool = False
    keep: list[Any] = field(default_factory=list)  # what an event holds on to


def _make(kind: str, steps: int = 100) -> _Run:
    at.manual_seed(0)
    opt: Any
    sched: Any
    if kind == "mlp":
        model: nn.Module = nn.Sequential(
            nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)
        )
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return _Run(model, opt)
    if kind == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(4 * 4 * 4, 10),
        )
        opt = nn.optim.AdamW(model.parameters(), lr=1e-2)
        sched = nn.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.05, total_steps=steps + 1
        )
        return _Run(model, opt, sched, clip=True)
    assert kind == "lm"
    model = _LM()
    opt = nn.optim.AdamW(
        model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1
    )
    warmup = 10

    def warmup_cosine(s: int) -> float:
        return min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps))

    sched = nn.optim.lr_scheduler.LambdaLR(opt, warmup_cosine)
    return _Run(model, opt, sched, clip=True)


def _batches(kind: str, sizes: list[int], seed: int = 0) -> list[tuple[Tensor, Tensor]]:
    rng = np.random.default_rng(seed)
    out = []
    x: np.ndarray
    for n in sizes:
        if kind == "mlp":
            x = rng.standard_normal((n, 64)).astype(np.float32)
            y = rng.integers(0, 10, n)
        elif kind == "cnn":
            x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
            y = rng.integers(0, 10, n)
        else:
            x = rng.integers(0, VOCAB, (n, CONTEXT))
            y = rng.integers(0, VOCAB, (n, CONTEXT))
        out.append((at.tensor(x), at.tensor(y)))
    return out


def _step_fn(run: _Run, set_to_none: bool = True) -> Callable[..., Tensor]:
    """The training step: forward, cross-entropy (times `scale`), backward,
    optional clipping, the optimizer's step. `x` is cast to float32 when it is
    float64 (a dtype change of the signature)."""

    def step(x: Tensor, y: Tensor, scale: float = 1.0) -> Tensor:
        run.opt.zero_grad(set_to_none=set_to_none)
        if x.dtype == np.float64:
            x = x.float()
        out = run.model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        if scale != 1.0:
            loss = loss * scale
        loss.backward()
        if run.clip:
            nn.utils.clip_grad_norm_(run.model.parameters(), 1.0)
        run.opt.step()
        return loss

    return step


def _state(run: _Run) -> list[tuple[str, np.ndarray]]:
    """Every parameter and every optimizer state value, as NumPy copies."""
    out = []
    for name, p in run.model.named_parameters():
        out.append((name, p.detach().numpy().copy()))
        for key in sorted(run.opt.state[p]):
            value = run.opt.state[p][key]
            if isinstance(value, Tensor):
                out.append((f"{name}/{key}", value.detach().numpy().copy()))
            else:
                out.append((f"{name}/{key}", np.asarray(value)))
    return out


def _assert_same_state(
    got: list[tuple[str, np.ndarray]], want: list[tuple[str, np.ndarray]]
) -> None:
    assert [n for n, _ in got] == [n for n, _ in want]
    for (name, a), (_, b) in zip(got, want, strict=True):
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name


@dataclass
class _Trace:
    losses: list[float]
    state: list[tuple[str, np.ndarray]]
    counts: list[tuple[int, int]]  # (recordings, replays) after each call
    step: Any


Event = Callable[[_Run], None]


def _train(
    kind: str,
    batches: list[tuple[Any, ...]],
    compiled: bool,
    *,
    set_to_none: bool = True,
    cache_size: int = 8,
    events: dict[int, Event] | None = None,
    steps: int = 100,
) -> _Trace:
    """Train on `batches` (each (x, y) or (x, y, scale)), eagerly or captured;
    events[i](run) runs before call i, outside the step."""
    run = _make(kind, steps)
    step = _step_fn(run, set_to_none)
    f: Any = at.compile(step, cache_size=cache_size) if compiled else step
    losses, counts = [], []
    for i, batch in enumerate(batches):
        if events and i in events:
            events[i](run)
        losses.append(f(*batch).item())
        if compiled:
            counts.append((f.recordings, f.replays))
        if run.sched is not None:
            run.sched.step()
    return _Trace(losses, _state(run), counts, f)


def _expected_counts(keys: list[Any], cache_size: int = 8) -> list[tuple[int, int]]:
    """(recordings, replays) after each call, for calls with these signatures:
    per signature call 1 eager, call 2 records, later calls replay; the least
    recently used signature beyond cache_size is forgotten."""
    calls: dict[Any, int] = {}
    recordings = replays = 0
    out = []
    for key in keys:
        calls[key] = calls.pop(key, 0) + 1  # most recently used last
        while len(calls) > cache_size:
            del calls[next(iter(calls))]
        if calls[key] == 2:
            recordings += 1
        elif calls[key] > 2:
            replays += 1
        out.append((recordings, replays))
    return out


# ------------------------------------------------------------------ 100 steps
@pytest.mark.parametrize("kind", MODELS)
def test_hundred_captured_steps_equal_eager_bitwise(kind: str) -> None:
    batches = _batches(kind, [BATCH[kind]] * 100)
    eager = _train(kind, batches, compiled=False)
    captured = _train(kind, batches, compiled=True)
    assert captured.losses == eager.losses
    assert len(set(eager.losses)) > 90  # the steps train: every loss differs
    _assert_same_state(captured.state, eager.state)
    assert any("/" in name for name, _ in eager.state)  # optimizer state compared
    assert captured.step.recordings == 1
    assert captured.step.replays == 98


# --------------------------------------------------------- the last short batch


@pytest.mark.parametrize(
    "set_to_none",
    [
        False,
        True,
    ],
)
def test_short_last_batch_has_its_own_recording(set_to_none: bool) -> None:
    sizes = [8] * 5 + [3]
    epochs = 4
    batches = _batches("cnn", sizes) * epochs
    steps = len(batches)
    eager = _train("cnn", batches, compiled=False, set_to_none=set_to_none, steps=steps)
    captured = _train(
        "cnn", batches, compiled=True, set_to_none=set_to_none, steps=steps
    )
    assert captured.losses == eager.losses
    _assert_same_state(captured.state, eager.state)
    # The short batch: eager, recorded, then replayed from its third appearance.
    deltas = []
    for i in range(len(sizes) - 1, steps, len(sizes)):
        before = captured.counts[i - 1]
        after = captured.counts[i]
        deltas.append((after[0] - before[0], after[1] - before[1]))
    assert deltas == [(0, 0), (1, 0), (0, 1), (0, 1)]
    assert captured.counts == _expected_counts([x.shape[0] for x, _ in batches])
    assert captured.step.recordings == 2
    assert captured.step.replays == steps - 4


# ---------------------------------------------------------- signature changes
def _signature_batches() -> tuple[list[tuple[Any, ...]], list[Any]]:
    """Batches of four signatures: A (16 rows), B (A with scale 0.5), C (8 rows),
    D (16 rows of float64), each as (x, y, scale), and their keys."""
    b16 = _batches("mlp", [16] * 12, seed=1)
    b8 = _batches("mlp", [8] * 12, seed=2)
    order = "AAABBBAACCCDDDABCDAB"
    batches: list[tuple[Any, ...]] = []
    for i, key in enumerate(order):
        if key == "C":
            x, y = b8[i % 12]
        else:
            x, y = b16[i % 12]
        if key == "D":
            x = at.tensor(x.numpy().astype(np.float64))
        batches.append((x, y, 0.5 if key == "B" else 1.0))
    return batches, list(order)


@pytest.mark.parametrize(
    "set_to_none",
    [
        False,
        True,
    ],
)
def test_signature_change_records_anew_and_going_back_replays(
    set_to_none: bool,
) -> None:
    batches, keys = _signature_batches()
    eager = _train("mlp", batches, compiled=False, set_to_none=set_to_none)
    captured = _train("mlp", batches, compiled=True, set_to_none=set_to_none)
    assert captured.losses == eager.losses
    _assert_same_state(captured.state, eager.state)
    assert captured.counts == _expected_counts(keys)
    assert captured.step.recordings == 4  # one per signature, never again


def test_cache_size_one_alternating_never_replays() -> None:
    batches, _ = _signature_batches()
    # A B A B ...: each call forgets the other signature, so each is a first call.
    alternating = [batches[i % 2 * 3] for i in range(8)]
    eager = _train("mlp", alternating, compiled=False)
    captured = _train("mlp", alternating, compiled=True, cache_size=1)
    assert captured.losses == eager.losses
    _assert_same_state(captured.state, eager.state)
    assert (captured.step.recordings, captured.step.replays) == (0, 0)
    # A A B B A A ...: each pair is an eager call and a recording, no replay.
    pairs = [batches[i // 2 % 2 * 3] for i in range(8)]
    eager = _train("mlp", pairs, compiled=False)
    captured = _train("mlp", pairs, compiled=True, cache_size=1)
    assert captured.losses == eager.losses
    _assert_same_state(captured.state, eager.state)
    assert (captured.step.recordings, captured.step.replays) == (4, 0)
    assert captured.counts == _expected_counts([b[2] for b in pairs], cache_size=1)


# ------------------------------------------------------------------ rebinding
def _rebind_one(run: _Run) -> None:
    p = next(iter(run.model.parameters()))
    p.data = p.array * 0.5
    assert p.dtype == np.float32


def _rebind_all(run: _Run) -> None:
    for p in run.model.parameters():
        p.data = p.array * 0.5


def _other_state_dict() -> dict[str, Tensor]:
    at.manual_seed(7)
    other = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    return {k: v.detach().clone() for k, v in other.state_dict().items()}


def _load_copy(run: _Run) -> None:
    run.model.load_state_dict(_other_state_dict())  # copies into the parameters


def _load_assign(run: _Run) -> None:
    run.model.load_state_dict(_other_state_dict(), assign=True)


def _load_assign_keep(run: _Run) -> None:
    sd = _other_state_dict()
    run.keep.append(sd)  # the caller keeps the dict: its tensors share buffers
    run.model.load_state_dict(sd, assign=True)


def _new_optimizer(run: _Run) -> None:
    run.opt = nn.optim.SGD(run.model.parameters(), lr=0.05, momentum=0.5)
    gc.collect()  # the old optimizer is gone


@pytest.mark.parametrize(
    ("event", "records_again"),
    [
        (_rebind_one, True),
        (_rebind_all, True),
        (_load_copy, False),
        (_load_assign, True),
        (_load_assign_keep, "twice"),
        (_new_optimizer, True),
    ],
    ids=[
        "rebind-one",
        "rebind-all",
        "load-copy",
        "load-assign",
        "load-assign-kept",
        "new-optimizer",
    ],
)
def test_rebinding_state_records_again(event: Event, records_again: bool | str) -> None:
    batches = _batches("mlp", [16] * 10)
    events = {5: event}
    eager = _train("mlp", batches, compiled=False, events=events)
    captured = _train("mlp", batches, compiled=True, events=events)
    assert captured.losses == eager.losses
    _assert_same_state(captured.state, eager.state)
    before = captured.counts[4]
    assert before == (1, 3)
    # The call after the event records again (or replays), later ones replay.
    if records_again == "twice":
        # The recording's optimizer step copies the parameters the kept dict
        # shares (copy-on-write): that recording is right once, then records again.
        assert captured.counts[5:] == [(2, 3), (3, 3), (3, 4), (3, 5), (3, 6)]
    elif records_again:
        assert captured.counts[5:] == [(2, 3), (2, 4), (2, 5), (2, 6), (2, 7)]
    else:
        assert captured.counts[5:] == [(1, 4), (1, 5), (1, 6), (1, 7), (1, 8)]


def test_state_dict_held_across_the_recording_call() -> None:
    batches = _batches("mlp", [16] * 6)

    def hold(run: _Run) -> None:
        run.keep.append(run.model.state_dict())  # live tensors: shared buffers

    events: dict[int, Event] = {1: hold}
    eager = _train("mlp", batches, compiled=False, events=events)
    captured = _train("mlp", batches, compiled=True, events=events)
    assert captured.losses == eager.losses
    _assert_same_state(captured.state, eager.state)


# --------------------------------------------------------------- CaptureError
def _print(t: Tensor) -> None:
    print(t, file=io.StringIO())


_READS: list[tuple[str, Callable[[Tensor], Any]]] = [
    ("item()", lambda t: t.sum().item()),
    ("float()", lambda t: float(t.sum())),
    ("int()", lambda t: int(t.sum())),
    ("bool()", lambda t: bool(t.sum() > 0)),
    ("tolist()", lambda t: t.tolist()),
    ("print()", _print),
    ("numpy()", lambda t: t.numpy()),
]


def _assert_device_usable(x: Tensor) -> None:
    assert x.device.capturing is False
    got = (x * 2 + 1).sum().item()
    want = float((x.numpy() * 2 + 1).sum(dtype=np.float32))
    assert got == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize(("read", "fn"), _READS, ids=[r for r, _ in _READS])
def test_host_read_inside_the_step_raises_capture_error(
    read: str, fn: Callable[[Tensor], Any]
) -> None:
    def step(x: Tensor) -> Any:
        y = x * 2
        fn(y)
        return y

    f = at.compile(step)
    x = at.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) - 5)
    assert np.array_equal(f(x).numpy(), x.numpy() * 2)  # call 1: eager
    with pytest.raises(at.CaptureError) as info:
        f(x)  # call 2 records
    message = str(info.value)
    assert read in message
    assert "reads device data on the host" in message
    assert "test_compile_steps.py" in message  # the caller's line
    assert f.recordings == 0
    _assert_device_usable(x)


def test_item_in_a_training_step_raises_capture_error() -> None:
    run = _make("mlp")
    step = _step_fn(run)

    def reading_step(x: Tensor, y: Tensor) -> Any:
        return step(x, y).item()

    f = at.compile(reading_step)
    ((x, y),) = _batches("mlp", [16])
    assert isinstance(f(x, y), float)
    with pytest.raises(at.CaptureError, match=r"item\(\)"):
        f(x, y)
    _assert_device_usable(x)
    assert math.isfinite(
        float(step(x, y).detach().numpy())
    )  # eager training still works


@pytest.mark.parametrize(
    "op",
    [
        "nonzero",
        "unique",
        "mask",
    ],
)
def test_data_dependent_shape_raises_capture_error(op: str) -> None:
    def step(x: Tensor) -> Any:
        y = x * 2
        if op == "nonzero":
            return y.nonzero()
        if op == "unique":
            return at.unique(y)
        return y[y > 0]

    f = at.compile(step)
    x = at.tensor(np.array([1.0, -1.0, 2.0, -2.0], dtype=np.float32))
    f(x)
    # A mask's refusal may word it otherwise; the others say so.
    match = None if op == "mask" else "depends on the data"
    with pytest.raises(at.CaptureError, match=match):
        f(x)
    _assert_device_usable(x)


# ----------------------------------------------------------- fresh results
def test_results_are_fresh_detached_and_keep_their_structure() -> None:
    def results(compiled: bool) -> list[Any]:
        run = _make("mlp")

        def step(x: Tensor, y: Tensor) -> Any:
            run.opt.zero_grad()
            logits = run.model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            run.opt.step()
            return loss, {"logits": logits, "n": 3, "more": [loss * 2]}, "tag"

        f: Any = at.compile(step) if compiled else step
        return [f(x, y) for x, y in _batches("mlp", [16] * 5)]

    def values(r: Any) -> list[np.ndarray]:
        return [
            r[0].detach().numpy().copy(),
            r[1]["logits"].detach().numpy().copy(),
            r[1]["more"][0].detach().numpy().copy(),
        ]

    eager = results(False)
    captured = results(True)
    for i in range(1, 5):  # the recording's result and the replays'
        r = captured[i]
        assert type(r) is tuple and len(r) == 3
        assert type(r[1]) is dict and list(r[1]) == ["logits", "n", "more"]
        assert r[1]["n"] == 3 and r[2] == "tag"
        assert type(r[1]["more"]) is list and len(r[1]["more"]) == 1
        for t in (r[0], r[1]["logits"], r[1]["more"][0]):
            assert isinstance(t, Tensor)
            assert t.requires_grad is False and t.grad_fn is None
        for got, want in zip(values(r), values(eager[i]), strict=True):
            assert np.array_equal(got, want)
    # Call 3's result stays as it was through calls 4 and 5.
    kept = values(captured[2])
    again = values(eager[2])
    assert not np.array_equal(kept[0], values(captured[3])[0])
    for got, want in zip(kept, again, strict=True):
        assert np.array_equal(got, want)
    assert captured[2][0] is not captured[3][0]


def test_results_do_not_change_with_later_calls() -> None:
    run = _make("mlp")
    f = at.compile(_step_fn(run))
    batches = _batches("mlp", [16] * 4)
    results = []
    for x, y in batches:
        loss = f(x, y)  # call 1 is eager: its loss has a graph
        results.append((loss, loss.detach().numpy().copy()))
    for loss, _ in results[1:]:
        assert loss.requires_grad is False and loss.grad_fn is None
    for loss, value in results:
        assert np.array_equal(loss.detach().numpy(), value)
    assert len({float(v) for _, v in results}) == 4
    assert (f.recordings, f.replays) == (1, 2)


# ----------------------------------------------------------------- memory plan
@pytest.mark.parametrize("kind", MODELS)
def test_memory_plan_is_tight_and_disjoint(kind: str) -> None:
    run = _make(kind)
    f = at.compile(_step_fn(run))
    batches = _batches(kind, [BATCH[kind]] * 3)
    f(*batches[0])
    assert f.memory_plan is None  # nothing recorded yet
    f(*batches[1])
    f(*batches[2])
    assert (f.recordings, f.replays) == (1, 1)
    plan = f.memory_plan
    assert plan is not None
    buffers = plan.buffers
    assert buffers and plan.kernel_calls > 0 and plan.host_steps == 1
    assert plan.state_buffers > 0
    assert plan.lower_bound_bytes <= plan.peak_bytes <= 1.10 * plan.lower_bound_bytes
    horizon = max(b.last_use for b in buffers) + 1
    brute = max(
        sum(b.nbytes for b in buffers if b.first_use <= i <= b.last_use)
        for i in range(horizon)
    )
    assert plan.lower_bound_bytes == brute
    for b in buffers:
        assert 0 <= b.first_use <= b.last_use
        assert b.offset >= 0
        assert b.offset + b.nbytes <= plan.peak_bytes
    for i, a in enumerate(buffers):
        for b in buffers[i + 1 :]:
            if a.nbytes == 0 or b.nbytes == 0:
                continue
            if a.first_use <= b.last_use and b.first_use <= a.last_use:
                assert (
                    a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset
                ), (a, b)


# ------------------------------------------------------------------ refusals
def test_arguments_that_require_grad_are_refused() -> None:
    ran = []

    def step(*args: Any, **kwargs: Any) -> int:
        ran.append(1)
        return 0

    f = at.compile(step)
    x = at.ones(3)
    w = at.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"argument 1 requires grad"):
        f(x, w)
    with pytest.raises(ValueError, match=r"argument 'w' requires grad"):
        f(x, w=w)
    with pytest.raises(ValueError, match=r"argument 0\[1\] requires grad"):
        f([x, w])
    with pytest.raises(ValueError, match=r"argument 'd'\['w'\] requires grad"):
        f(d={"x": x, "w": w})
    assert ran == [] and f.recordings == 0


def test_unhashable_arguments_are_refused() -> None:
    ran = []

    def step(x: Tensor, extra: Any) -> Tensor:
        ran.append(1)
        return x * 2

    f = at.compile(step)
    x = at.ones(3)
    with pytest.raises(TypeError, match=r"argument 1 is a ndarray"):
        f(x, np.array([1, 2]))
    with pytest.raises(TypeError, match=r"argument 'extra' is a set"):
        f(x, extra={1, 2})
    with pytest.raises(TypeError, match=r"argument 1\[1\] is a ndarray"):
        f(x, [1, np.array([1, 2])])
    assert ran == []
    # A list of ints is part of the signature, by value.
    for _ in range(3):
        assert np.array_equal(f(x, [1, 2]).numpy(), np.full(3, 2.0, np.float32))
    assert (f.recordings, f.replays) == (1, 1)
