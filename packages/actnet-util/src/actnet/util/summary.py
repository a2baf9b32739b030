"""`summary(model, *example_inputs)`: what each module of a model holds and uses,
measured by running it once on the device's allocator (torchinfo's summary
estimates what this measures).

    >>> print(summary(model, at.randn(16, 64)))
    module      type        output       params  param bytes   saved    peak
    (model)     Sequential  (16, 10)     19,210       76,840   8,192  20,480
      0         Linear      (16, 256)    16,640       66,560   4,096   ...

Per module (`named_modules()` order, nested modules indented):
- `output_shape`: the shape of what its forward returned (a tuple of shapes for a
  tuple of tensors, None for anything else);
- `parameters`, `parameter_bytes`: its own parameters (not its children's; the
  model's row counts them all), bytes as the tensors hold them;
- `saved_bytes`: the bytes its forward (with its children's) allocated and left
  allocated when it returned, its output excepted: what the graph keeps for
  backward (saved activations, masks), exactly, from the allocator's blocks. A
  tensor a module saves that another made (a Linear's input) counts where it was
  made: the model's row is the whole step's;
- `peak_bytes`: the most bytes in use on the device while its forward ran, above
  those in use when it started (from the allocator's exact peak: everything its
  forward and its children allocated and had not yet freed).

The forward runs with gradients enabled (so that what is saved is saved), in the
model's current mode; its result and graph are dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import actnet.tensor as at
from actnet.device import Buffer, Device
from actnet.nn import Module
from actnet.tensor import Tensor

__all__ = ["ModuleSummary", "Summary", "summary"]


@dataclass(frozen=True)
class ModuleSummary:
    """One module's row (see the module's docstring)."""

    path: str  # "" for the model itself
    kind: str  # the module's class name
    depth: int  # 0 for the model
    output_shape: Any
    parameters: int
    parameter_bytes: int
    saved_bytes: int
    peak_bytes: int


@dataclass(frozen=True)
class Summary:
    """The rows, in `named_modules()` order; `str()` is the table."""

    rows: tuple[ModuleSummary, ...]
    device: str

    @property
    def parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    @property
    def parameter_bytes(self) -> int:
        return sum(r.parameter_bytes for r in self.rows)

    @property
    def saved_bytes(self) -> int:
        """What the whole forward left for backward (the model's row)."""
        return self.rows[0].saved_bytes

    def __iter__(self) -> Iterator[ModuleSummary]:
        return iter(self.rows)

    def __str__(self) -> str:
        header = ("module", "type", "output", "params", "param bytes", "saved", "peak")
        lines = [
            (
                "  " * r.depth + (r.path.rsplit(".", 1)[-1] if r.path else "(model)"),
                r.kind,
                "-" if r.output_shape is None else str(r.output_shape),
                f"{r.parameters:,}",
                f"{r.parameter_bytes:,}",
                f"{r.saved_bytes:,}",
                f"{r.peak_bytes:,}",
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(7)]
        left = 3  # the text columns are left-aligned, the numbers right-aligned

        def fmt(row: tuple[str, ...]) -> str:
            return "  ".join(
                cell.ljust(w) if i < left else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        total = (
            f"total: {self.parameters:,} parameters ({self.parameter_bytes:,} "
            f"bytes), {self.saved_bytes:,} bytes saved for backward, peak "
            f"{self.rows[0].peak_bytes:,} bytes above the start on {self.device}"
        )
        return "\n".join([fmt(header), *(fmt(r) for r in lines), total])


class _Run:
    """The measurement of one forward: a stack of the modules running."""

    def __init__(self, device: Device) -> None:
        self.allocator = device.allocator
        # [module, used at start, peak so far, the blocks live at its start]
        self.stack: list[list[Any]] = []
        self.kept: dict[int, int] = {}  # id(module) -> bytes it left allocated
        self.peaks: dict[int, int] = {}  # id(module) -> peak above its start
        self.shapes: dict[int, Any] = {}

    def enter(self, module: Module, _args: Any) -> None:
        allocator = self.allocator
        if self.stack:  # the parent's peak so far, before the child restarts it
            parent = self.stack[-1]
            parent[2] = max(parent[2], allocator.peak_bytes())
        allocator.reset_peak()
        live = set(allocator.blocks())
        self.stack.append([module, allocator.used_bytes(), 0, live])

    def leave(self, module: Module, _args: Any, output: Any) -> None:
        allocator = self.allocator
        _, start, peak, before = self.stack.pop()
        peak = max(peak, allocator.peak_bytes())
        self.peaks[id(module)] = peak - start
        self.shapes[id(module)] = _shape(output)
        self.kept[id(module)] = _kept(allocator, before, output)
        if self.stack:  # the child's peak is part of its parent's
            parent = self.stack[-1]
            parent[2] = max(parent[2], peak)


_OUTPUT = object()  # a label put on the output's buffers for a moment


def _kept(allocator: Any, before: set[Any], output: Any) -> int:
    """The bytes of the blocks allocated since `before` and still live, less
    those of `output`'s tensors: what the forward left for backward."""
    owners: list[tuple[Buffer, Any]] = []
    for t in _tensors(output):
        buf = t.array.buffer
        owner = buf.base if buf.base is not None else buf
        owners.append((owner, owner.info))
        owner.info = _OUTPUT
    try:
        return sum(
            b.size
            for b in allocator.blocks()
            if b not in before and b.info[2] is not _OUTPUT
        )
    finally:
        for owner, label in owners:
            owner.info = label


def _tensors(output: Any) -> list[Tensor]:
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, tuple | list):
        return [o for o in output if isinstance(o, Tensor)]
    return []


def _shape(output: Any) -> Any:
    if isinstance(output, Tensor):
        return tuple(output.shape)
    if isinstance(output, tuple | list) and all(isinstance(o, Tensor) for o in output):
        return tuple(tuple(o.shape) for o in output)
    return None


def summary(model: Module, *example_inputs: Any, **kwargs: Any) -> Summary:
    """Run `model(*example_inputs, **kwargs)` once and measure each module (see
    the module's docstring)."""
    if not isinstance(model, Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    params = list(model.parameters())
    tensors = [x for x in (*example_inputs, *kwargs.values()) if isinstance(x, Tensor)]
    if not params and not tensors:
        raise ValueError(
            "summary needs a model with parameters or a Tensor input (to know "
            "the device to measure)"
        )
    device = (params or tensors)[0].device
    run = _Run(device)
    modules = list(model.named_modules())
    handles = []
    for _, m in modules:
        handles.append(m.register_forward_pre_hook(run.enter))
        handles.append(m.register_forward_hook(run.leave))
    try:
        with at.enable_grad():
            model(*example_inputs, **kwargs)
    finally:
        for h in handles:
            h.remove()
    rows = []
    for path, m in modules:
        own = list(m.parameters(recurse=False))
        rows.append(
            ModuleSummary(
                path=path,
                kind=type(m).__name__,
                depth=0 if not path else path.count(".") + 1,
                output_shape=run.shapes.get(id(m)),
                parameters=sum(p.numel() for p in own),
                parameter_bytes=sum(p.numel() * p.dtype.itemsize for p in own),
                saved_bytes=run.kept.get(id(m), 0),
                peak_bytes=run.peaks.get(id(m), 0),
            )
        )
    return Summary(rows=tuple(rows), device=device.name)
