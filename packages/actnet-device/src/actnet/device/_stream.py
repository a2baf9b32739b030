"""Recording conformance streams: `Stream` and the seeded data the streams load.

`actnet.device.testing` (public) re-exports `Stream` and `Ref`; the stream builders
of `testing` and `_fused_streams` use the helpers here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._device import Device
from actnet.device._opset import OPS


@dataclass(frozen=True)
class Ref:
    """A symbolic value of a stream (a Buffer once the stream runs)."""

    id: int


@dataclass(frozen=True)
class _Step:
    kind: str  # "load", "run", "view", "read", "drop"
    outputs: tuple[Ref, ...] = ()
    name: str = ""  # operator or view method
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    data: np.ndarray[Any, Any] | None = None
    loose: bool = False


@dataclass
class Stream:
    """A recorded, deterministic stream of device operations.

    >>> s = Stream("example")
    >>> x = s.load(np.arange(6.0).reshape(2, 3))
    >>> y = s.run("sum", x, axis=1)
    >>> s.read(y)
    """

    name: str = "stream"
    steps: list[_Step] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count, repr=False)

    def _ref(self) -> Ref:
        return Ref(next(self._ids))

    def load(self, array: Any) -> Ref:
        """A buffer made by from_host from a copy of `array`."""
        ref = self._ref()
        self.steps.append(_Step("load", (ref,), data=np.array(array, copy=True)))
        return ref

    def run(self, op: str, *args: Any, n_outputs: int = 1, **kwargs: Any) -> Any:
        """Launch operator `op`; Refs among args (also inside lists) are inputs.
        Returns one Ref, or a tuple of `n_outputs` Refs for multi-output ops."""
        if op not in OPS:
            raise ValueError(f"unknown operator {op!r}")
        outputs = tuple(self._ref() for _ in range(n_outputs))
        step = _Step("run", outputs, op, args, tuple(sorted(kwargs.items())))
        self.steps.append(step)
        return outputs[0] if n_outputs == 1 else outputs

    def view(self, ref: Ref, method: str, *args: Any) -> Ref:
        """A view of `ref` (`reshape`, `transpose`, `__getitem__`, ...)."""
        out = self._ref()
        self.steps.append(_Step("view", (out,), method, (ref, *args)))
        return out

    def read(self, ref: Ref, *, loose: bool = False) -> None:
        """Copy `ref` to the host; the values every device must agree on."""
        self.steps.append(_Step("read", (ref,), loose=loose))

    def drop(self, ref: Ref) -> None:
        """Forget `ref` (its block may be reused by what follows)."""
        self.steps.append(_Step("drop", (ref,)))


def _data(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Any:
    dtype = np.dtype(dtype)
    if dtype == dt.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "u":
        return rng.integers(0, 50, shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(-50, 50, shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(
            dtype
        )
    return rng.standard_normal(shape).astype(dtype)


def _positive(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Any:
    return (rng.random(shape) * 2 + 0.5).astype(dtype)


# Inputs that keep each unary operator inside its domain (what is compared is the
# arithmetic, not the handling of NaN from different libms).


def _held(device: Device, dtypes: Sequence[Any]) -> list[np.dtype[Any]]:
    return [np.dtype(d) for d in dtypes if np.dtype(d) in device.dtypes]
