"""What backward keeps: saved tensors, and the memory labels that say so.

Inputs are saved as Tensors with their version; an in-place change before
backward is an error. Outputs that backward needs are saved as their values, plus
a weak reference to the output to read its version (a strong one would make a
reference cycle output -> node -> output).

Every buffer an operation allocates is labelled (`Buffer.info`), so that the
device's memory snapshot explains it: ("activation", op) when made, ("saved for
backward", op) once a node keeps it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Final

from actnet.ndarray import NDArray
from actnet.tensor._graph import Node
from actnet.tensor._tensor_base import _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_ACTIVATIONS: dict[str, tuple[str, str]] = {}


def activation(op: str) -> tuple[str, str]:
    """The label of a buffer that operation `op` made (one tuple per op, shared)."""
    made = _ACTIVATIONS.get(op)
    if made is None:
        made = _ACTIVATIONS[op] = ("activation", op)
    return made


def label(data: NDArray, info: tuple[str, str]) -> NDArray:
    """Label the buffer an operation allocated, so memory snapshots explain it (a
    view shares its owner's label, and is left alone)."""
    buf = data.buffer
    if buf.base is None:
        buf.info = info
    return data


_SAVED_INPUT: Final = ("saved for backward", "input")


class Saved:
    """A saved input: the Tensor and its version when saved."""

    __slots__ = ("tensor", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.version = tensor._version
        # Label the memory (a view shares its owner's label): saved for backward,
        # and still which op made it.
        buf = tensor.array.buffer
        made_by = buf.info
        if made_by is None:
            buf.info = _SAVED_INPUT
        elif made_by[0] == "activation":
            buf.info = ("saved for backward", made_by[1])

    def get(self, node: Node) -> Tensor:
        if self.tensor._version != self.version:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified "
                f"by an in-place operation: {node.name()} saved version "
                f"{self.version}, it is now at version {self.tensor._version}"
            )
        return self.tensor


class SavedOutput:
    """A saved output: its values and a weak reference to read its version."""

    __slots__ = ("data", "output_nr", "ref", "version")

    def __init__(self, output: Tensor, output_nr: int = 0) -> None:
        self.data = output.array
        self.ref = weakref.ref(output)
        self.version = output._version
        self.output_nr = output_nr

    def get(self, node: Node) -> Tensor:
        output = self.ref()
        if output is not None and output._version != self.version:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified "
                f"by an in-place operation: the output of {node.name()}"
            )
        return _make(self.data, True, node, self.output_nr)


class SavingNode(Node):
    """A node that keeps saved values until backward (or release) frees them."""

    __slots__ = ("saved",)
    saved: tuple[Any, ...] | None

    def release(self) -> bool:
        had = self.saved is not None
        self.saved = None
        return had

    def _saved(self) -> tuple[Any, ...]:
        if self.saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to read saved "
                "tensors after they were freed); specify retain_graph=True"
            )
        return self.saved
