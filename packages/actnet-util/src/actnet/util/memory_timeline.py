"""The memory timeline of one step: the device's bytes by category after every
operator, from the allocator's exact figures (PyTorch's memory visualiser,
`torch.cuda.memory._record_memory_history` and its "Active Memory Timeline", is
the model).

    >>> timeline = memory_timeline(train_step, x, y)
    >>> timeline.peak.operator, timeline.peak.where, timeline.peak.total_bytes
    ('matmul', 'blocks.1.attn', 145012736)
    >>> timeline.plot("memory_timeline.png")       # stacked areas, peak named
    >>> timeline.to_json("memory_timeline.json")   # MemoryTimeline.from_json

One event per operator the step runs on the device (the outermost one: a
`cross_entropy`, not the `log_softmax` inside it; also `alloc`, `from_host` and
`copy_to`), in the order run, as `Device.record_memory()` samples it: the bytes in
use once it returned (the temporaries dropped as it returned excepted), split by
category, whose sum is exactly the allocator's `used_bytes` then; the most bytes in
use while it ran (`peak_bytes`: scratch and temporaries it freed included); the
module it ran in (its `named_modules()` path from the outermost module running,
"" for that one, and its class) and the phase ("forward" inside a module,
"backward" inside `backward()`/`grad()`, "optimizer" inside an optimizer's
`step()`, else None).

The categories come from the labels the layers put on the memory they allocate
(`Buffer.info`, what `Device.memory_snapshot()` shows):

- parameters: ("parameter", ...) and a module's buffers ("buffer", ...): the
  model's state;
- optimizer state: ("optimizer state", ...): moments, step counts;
- inputs: ("input", ...): tensors made by a creation function (the batch);
- gradients: ("gradient", ...): what backward accumulated into `.grad`;
- saved for backward: ("saved for backward", op): what the graph keeps for
  backward, saved tensors and (recording opens `actnet.tensor.
  explain_saved_memory`) what a Function's forward keeps on its ctx (from when
  it is saved until it is freed: an output the caller still holds after
  backward, such as the logits, keeps the label);
- temporaries: ("activation", op), ("constant", ...), kernel scratch, and what
  the step's operators made that is not labelled: results not saved for
  backward (a layer's output on its way to the next, the gradients of
  activations in backward, an optimizer's intermediates);
- other: memory without a label from before the step, or with a label of
  another kind.

`peak` is the event with the most bytes in use (the first, on a tie), and its
largest holders: the live blocks then, grouped by category, what made them (the
device operator, for what the step made; the label's owner, for state such as
the optimizer's) and the module they were made in.

Recording watches every operator call (`Device.record_memory`), which makes the
step several times slower while it lasts; outside it nothing is watched.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, Final

import actnet.tensor as at
from actnet.device import Device, MemoryRecording, get_device
from actnet.nn import Module
from actnet.nn.optim import Optimizer
from actnet.nn.utils import write_atomic
from actnet.tensor import Tensor
from actnet.util.plots import _figure, _write

__all__ = [
    "CATEGORIES",
    "MemoryEvent",
    "MemoryHolder",
    "MemoryPeak",
    "MemoryTimeline",
    "category",
    "memory_timeline",
    "record_memory_timeline",
]

# Bottom to top of the plot: what lives across steps first, as PyTorch's does.
CATEGORIES: Final = (
    "parameters",
    "optimizer state",
    "inputs",
    "gradients",
    "saved for backward",
    "temporaries",
    "other",
)
_KIND_CATEGORY: Final = {
    "parameter": "parameters",
    "buffer": "parameters",
    "optimizer state": "optimizer state",
    "input": "inputs",
    "gradient": "gradients",
    "saved for backward": "saved for backward",
    "activation": "temporaries",
    "constant": "temporaries",
}
_COLORS: Final = {
    "parameters": "darkgreen",
    "optimizer state": "goldenrod",
    "inputs": "dimgray",
    "gradients": "mediumblue",
    "saved for backward": "firebrick",
    "temporaries": "mediumpurple",
    "other": "silver",
}
# Categories whose holders are named by the operator that made them.
_MADE_BY_OPERATOR: Final = frozenset({"saved for backward", "temporaries", "other"})
_SCRATCH: Final = "scratch"  # actnet-device's label of a kernel's scratch memory
_FORMAT: Final = "actnet.memory_timeline"
_VERSION: Final = 1
_HOLDERS: Final = 8  # how many holders of the peak are kept


def category(info: Any) -> str:
    """The category (one of `CATEGORIES`) of memory labelled `info`.

    >>> category(("saved for backward", "Linear")), category(None)
    ('saved for backward', 'other')
    """
    if type(info) is tuple and info:
        return _KIND_CATEGORY.get(info[0], "other")
    return "temporaries" if info == _SCRATCH else "other"


def _detail(info: Any) -> str | None:
    """What a holder's label says beyond its category (the Function, the
    optimizer's state), None where that says nothing more."""
    if type(info) is tuple and len(info) > 1:
        if info[0] in ("parameter", "buffer", "gradient"):
            return None  # what initialised a parameter is no help here
        return str(info[1])
    if info is None or info == _SCRATCH:
        return None if info is None else _SCRATCH
    return repr(info)


@dataclass(frozen=True)
class MemoryEvent:
    """The device's memory after one operator (see the module's docstring)."""

    operator: str
    module: str | None  # named_modules() path from the outermost module running
    module_type: str | None  # the module's class name
    phase: str | None  # "forward", "backward", "optimizer" or None
    bytes: Mapping[str, int]  # by category, every one of CATEGORIES
    used_bytes: int  # the allocator's counter (memory_stats().used_bytes) then
    peak_bytes: int  # the most bytes in use while the operator ran

    @property
    def total_bytes(self) -> int:
        """The bytes of the categories together: `used_bytes`, counted from the
        live blocks rather than read from the allocator's counter."""
        return sum(self.bytes.values())

    @property
    def where(self) -> str | None:
        """The module as text: its path, or its class for the outermost one."""
        return _where(self.module, self.module_type)


@dataclass(frozen=True)
class MemoryHolder:
    """Blocks live at the peak, grouped: `nbytes` in `blocks` blocks of one
    category and detail (the device operator that made them, or for state what
    their label names, as "AdamW.exp_avg"), made in one module (`made_in`: its
    path, or its class for the outermost one; None: made outside modules, or
    before the step)."""

    category: str
    detail: str | None
    made_in: str | None
    nbytes: int
    blocks: int

    def __str__(self) -> str:
        text = self.category
        if self.detail is not None:
            text += f" ({self.detail})"
        if self.made_in is not None:
            text += f" in {self.made_in}"
        return text


@dataclass(frozen=True)
class MemoryPeak:
    """The event with the most bytes in use, and its largest holders."""

    index: int  # into MemoryTimeline.events
    operator: str
    where: str | None
    phase: str | None
    total_bytes: int
    holders: tuple[MemoryHolder, ...]  # largest first


@dataclass(frozen=True)
class MemoryTimeline:
    """One step's memory, operator by operator (see the module's docstring)."""

    device: str
    events: tuple[MemoryEvent, ...]
    peak: MemoryPeak | None  # None when the step ran no operator

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the timeline as JSON (atomically); `from_json` reads it back."""
        data = {
            "format": _FORMAT,
            "version": _VERSION,
            "device": self.device,
            "categories": list(CATEGORIES),
            "events": [
                {
                    "operator": e.operator,
                    "module": e.module,
                    "module_type": e.module_type,
                    "phase": e.phase,
                    "bytes": dict(e.bytes),
                    "used_bytes": e.used_bytes,
                    "peak_bytes": e.peak_bytes,
                }
                for e in self.events
            ],
            "peak": None if self.peak is None else _peak_json(self.peak),
        }
        target = Path(path)
        write_atomic(target, json.dumps(data, indent=1).encode() + b"\n")
        return target

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> MemoryTimeline:
        """The timeline `to_json` wrote to `path`."""
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a memory timeline written by to_json")
        if data.get("version") != _VERSION:
            raise ValueError(
                f"{path} is a memory timeline of version {data.get('version')}; "
                f"this actnet reads version {_VERSION}"
            )
        events = tuple(
            MemoryEvent(
                operator=e["operator"],
                module=e["module"],
                module_type=e["module_type"],
                phase=e["phase"],
                bytes={c: int(e["bytes"][c]) for c in CATEGORIES},
                used_bytes=int(e["used_bytes"]),
                peak_bytes=int(e["peak_bytes"]),
            )
            for e in data["events"]
        )
        peak = data["peak"]
        return cls(
            device=data["device"],
            events=events,
            peak=None if peak is None else _peak_from_json(peak),
        )

    def plot(self, path: str | os.PathLike[str]) -> Path:
        """A PNG of the timeline: the categories stacked by operator (MiB), the
        phases shaded, the peak within each operator as a line where it passes
        the bytes after it, and the peak's operator and largest holders named."""
        return _plot(self, path)


def _where(module: str | None, module_type: str | None) -> str | None:
    if module is None:
        return None
    return module if module else f"({module_type})"


def _peak_json(peak: MemoryPeak) -> dict[str, Any]:
    return {
        "index": peak.index,
        "operator": peak.operator,
        "where": peak.where,
        "phase": peak.phase,
        "total_bytes": peak.total_bytes,
        "holders": [
            {
                "category": h.category,
                "detail": h.detail,
                "made_in": h.made_in,
                "nbytes": h.nbytes,
                "blocks": h.blocks,
            }
            for h in peak.holders
        ],
    }


def _peak_from_json(peak: dict[str, Any]) -> MemoryPeak:
    return MemoryPeak(
        index=int(peak["index"]),
        operator=peak["operator"],
        where=peak["where"],
        phase=peak["phase"],
        total_bytes=int(peak["total_bytes"]),
        holders=tuple(
            MemoryHolder(
                category=h["category"],
                detail=h["detail"],
                made_in=h["made_in"],
                nbytes=int(h["nbytes"]),
                blocks=int(h["blocks"]),
            )
            for h in peak["holders"]
        ),
    )


# ------------------------------------------------------------------ recording
class _Where:
    """The context of an operator as it returns: (module path, module class,
    phase), found by walking the Python stack (as OutOfMemoryError.module is
    found: the Module calls running)."""

    def __init__(self) -> None:
        self._call: CodeType = Module.__call__.__code__
        self._backward = frozenset({at.backward.__code__, at.grad.__code__})
        self._names: dict[tuple[int, int], str | None] = {}  # (parent, child) ids

    def __call__(self) -> tuple[str | None, str | None, str | None]:
        chain: list[Module] = []  # the modules running, innermost first
        phase = None
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if code is self._call:
                chain.append(frame.f_locals[code.co_varnames[0]])
            elif phase is None:
                if code in self._backward:
                    phase = "backward"
                elif code.co_name == "step" and code.co_argcount:
                    first = frame.f_locals.get(code.co_varnames[0])
                    if isinstance(first, Optimizer):
                        phase = "optimizer"
            frame = frame.f_back
        if not chain:
            return None, None, phase
        return self._path(chain), type(chain[0]).__name__, phase or "forward"

    def _path(self, chain: list[Module]) -> str:
        """The innermost module's path from the outermost, through each call
        between (a module called by one it does not belong to starts afresh)."""
        parts: list[str] = []
        for parent, child in zip(chain[:0:-1], chain[-2::-1], strict=True):
            name = self._name(parent, child)
            if name is None:
                parts = []
            elif name:
                parts.append(name)
        return ".".join(parts)

    def _name(self, parent: Module, child: Module) -> str | None:
        key = (id(parent), id(child))
        if key not in self._names:
            self._names[key] = next(
                (name for name, m in parent.named_modules() if m is child), None
            )
        return self._names[key]


class TimelineRecording:
    """What `record_memory_timeline` yields: `timeline` is set when it ends."""

    def __init__(self) -> None:
        self.timeline: MemoryTimeline | None = None


@contextlib.contextmanager
def record_memory_timeline(device: Device | str) -> Iterator[TimelineRecording]:
    """Record the memory timeline of what runs on `device` inside the block (in
    the calling thread).

    >>> with record_memory_timeline("cpu") as rec:
    ...     output, loss = trainer.train_step(x, y)
    >>> rec.timeline.peak.operator
    'matmul'
    """
    dev = get_device(device)
    result = TimelineRecording()
    # explain_saved_memory: what a graph keeps on a Function's ctx counts as
    # saved for backward (it is labelled only while asked, to cost nothing else)
    with at.explain_saved_memory(), dev.record_memory(context=_Where()) as rec:
        yield result
    result.timeline = _timeline(rec)


def memory_timeline(
    step_fn: Callable[..., Any],
    *args: Any,
    device: Device | str | None = None,
    **kwargs: Any,
) -> MemoryTimeline:
    """Run `step_fn(*args, **kwargs)` once and return its memory timeline on
    `device` (default: the device of the first Tensor or Module among the
    arguments).

    >>> timeline = memory_timeline(trainer.train_step, x, y)
    >>> timeline.plot("memory_timeline.png")
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable, got {type(step_fn).__name__}")
    dev = _device_of(device, (*args, *kwargs.values()))
    with record_memory_timeline(dev) as rec:
        step_fn(*args, **kwargs)
    assert rec.timeline is not None  # set as the block ended
    return rec.timeline


def _device_of(device: Device | str | None, values: tuple[Any, ...]) -> Device:
    if device is not None:
        return get_device(device)
    for v in values:
        if isinstance(v, Tensor):
            return v.device
        if isinstance(v, Module):
            for p in v.parameters():
                return p.device
    raise ValueError(
        "memory_timeline cannot tell the device from the arguments (no Tensor "
        "or Module with parameters among them); pass device="
    )


def _timeline(rec: MemoryRecording) -> MemoryTimeline:
    events = []
    for s in rec.samples:
        split = dict.fromkeys(CATEGORIES, 0)
        for info, nbytes in s.by_label.items():
            split[category(info)] += nbytes
        # Results the step's operators made that no layer has labelled (a
        # Function's output, an activation's gradient) are temporaries; "other"
        # keeps unlabelled memory from before the step.
        split["other"] -= s.unlabelled_made_bytes
        split["temporaries"] += s.unlabelled_made_bytes
        module, module_type, phase = s.context
        events.append(
            MemoryEvent(
                operator=s.operator,
                module=module,
                module_type=module_type,
                phase=phase,
                bytes=split,
                used_bytes=s.used_bytes,
                peak_bytes=s.peak_bytes,
            )
        )
    peak = None
    if rec.peak_index is not None:
        event = events[rec.peak_index]
        peak = MemoryPeak(
            index=rec.peak_index,
            operator=event.operator,
            where=event.where,
            phase=event.phase,
            total_bytes=event.total_bytes,
            holders=_holders(rec, events),
        )
    return MemoryTimeline(device=rec.device.name, events=tuple(events), peak=peak)


def _holders(
    rec: MemoryRecording, events: list[MemoryEvent]
) -> tuple[MemoryHolder, ...]:
    """The peak's live blocks grouped by category, what made them and where:
    for what the step made and holds for its own work (saved for backward,
    temporaries), the device operator that made it (exact, from the recording);
    for state (optimizer state, inputs), what its label says."""
    groups: dict[tuple[str, str | None, str | None], list[int]] = {}
    for block in rec.peak_blocks:
        kind = category(block.info)
        detail = _detail(block.info)
        made_in = None
        if block.made_by is not None:
            event = events[block.made_by]
            made_in = event.where
            if block.info is None:
                kind = "temporaries"  # as _timeline counts it
            if kind in _MADE_BY_OPERATOR:
                detail = event.operator
        key = (kind, detail, made_in)
        group = groups.setdefault(key, [0, 0])
        group[0] += block.nbytes
        group[1] += 1
    ranked = sorted(groups.items(), key=lambda kv: -kv[1][0])[:_HOLDERS]
    return tuple(
        MemoryHolder(category=c, detail=d, made_in=m, nbytes=n, blocks=b)
        for (c, d, m), (n, b) in ranked
    )


# ------------------------------------------------------------------- the plot
def _unit(nbytes: int) -> tuple[str, float]:
    """The unit to draw `nbytes` (the largest value) in, and its size."""
    for name, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= 2 * size:
            return name, float(size)
    return "bytes", 1.0


def _plot(timeline: MemoryTimeline, path: str | os.PathLike[str]) -> Path:
    fig, (ax,) = _figure()
    fig.set_size_inches(11.0, 5.6)
    events = timeline.events
    xs = list(range(len(events)))
    top = max((e.peak_bytes for e in events), default=0)
    unit, size = _unit(top)
    shown = [c for c in CATEGORIES if any(e.bytes[c] for e in events)]
    if events:
        ax.stackplot(
            xs,
            *[[e.bytes[c] / size for e in events] for c in shown],
            labels=shown,
            colors=[_COLORS[c] for c in shown],
            alpha=0.85,
            linewidth=0,
        )
        if any(e.peak_bytes > e.total_bytes for e in events):
            ax.plot(
                xs,
                [e.peak_bytes / size for e in events],
                color="black",
                linewidth=0.5,
                alpha=0.6,
                label="peak within the operator",
            )
        _shade_phases(ax, events)
    peak = timeline.peak
    if peak is not None:
        _annotate_peak(ax, peak, events[peak.index], unit, size)
    ax.set_xlabel("operator, in the order the step ran them")
    ax.set_ylabel(f"device memory ({unit})")
    ax.set_title(f"memory timeline of one step on {timeline.device}", pad=14)
    ax.set_xlim(0, max(len(events) - 1, 1))
    # room above the data for the peak's note
    ax.set_ylim(0, max(top / size, 1.0) * 1.6)
    ax.grid(True, alpha=0.3)
    if events:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return _write(fig, path)


def _shade_phases(ax: Any, events: tuple[MemoryEvent, ...]) -> None:
    """Each run of events of one phase named above the plot; backward and the
    optimizer shaded."""
    colors = {"forward": "tab:red", "backward": "tab:blue", "optimizer": "tab:orange"}
    start = 0
    for i in range(1, len(events) + 1):
        if i < len(events) and events[i].phase == events[start].phase:
            continue
        phase = events[start].phase
        if phase is not None:
            color = colors.get(phase, "gray")
            if phase != "forward":
                ax.axvspan(start - 0.5, i - 0.5, color=color, alpha=0.07, linewidth=0)
            ax.text(
                (start + i - 1) / 2,
                1.0,
                phase,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize="small",
                color=color,
            )
        start = i


def _annotate_peak(
    ax: Any, peak: MemoryPeak, event: MemoryEvent, unit: str, size: float
) -> None:
    where = f" in {peak.where}" if peak.where is not None else ""
    phase = f" ({peak.phase})" if peak.phase is not None else ""
    head = f"peak {peak.total_bytes / size:.2f} {unit} after {peak.operator}"
    largest = sorted(event.bytes.items(), key=lambda kv: -kv[1])[:3]
    split = ", ".join(f"{c} {n / size:.2f}" for c, n in largest if n)
    lines = [head + where + phase, f"  {split}", "largest holders:"]
    lines += [f"  {h.nbytes / size:9.2f} {unit}  {h}" for h in peak.holders[:5]]
    ax.axvline(peak.index, color="black", linestyle="--", linewidth=0.8)
    ax.annotate(
        "\n".join(lines),
        xy=(peak.index, peak.total_bytes / size),
        xytext=(0.01, 0.98),
        textcoords="axes fraction",
        va="top",
        ha="left",
        fontsize="small",
        family="monospace",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9},
        arrowprops={"arrowstyle": "->", "color": "black", "linewidth": 0.8},
    )
