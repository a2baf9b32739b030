"""What backward keeps: saved tensors, and the memory labels that say so.

Inputs are saved as Tensors with their version; an in-place change before
backward is an error. Outputs that backward needs are saved as their values, plus
a weak reference to the output to read its version (a strong one would make a
reference cycle output -> node -> output).

Every buffer an operation allocates is labelled (`Buffer.info`), so that the
device's memory snapshot explains it: ("activation", op) when made, ("saved for
backward", op) once a node keeps it; a new leaf's is ("parameter" | "input",
the function that made it).

Inside `saved_tensors_hooks(pack, unpack)` (PyTorch's
`torch.autograd.graph.saved_tensors_hooks`), a tensor is not kept: the node
keeps what `pack(tensor)` returns, and backward reads `unpack(packed)`. That is
how `actnet.tensor.checkpoint` drops activations and recomputes them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

from actnet.device import Buffer
from actnet.ndarray import NDArray
from actnet.tensor._graph import Node
from actnet.tensor._tensor_base import TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_ACTIVATIONS: dict[str, tuple[str, str]] = {}


def activation(op: str) -> tuple[str, str]:
    """The label of a buffer that operation `op` made (one tuple per op, shared)."""
    made = _ACTIVATIONS.get(op)
    if made is None:
        made = _ACTIVATIONS[op] = ("activation", op)
    return made


_SAVED: dict[str, tuple[str, str]] = {}


def saved(op: str) -> tuple[str, str]:
    """The label of a buffer kept for backward that `op` made (one tuple per op)."""
    kept = _SAVED.get(op)
    if kept is None:
        kept = _SAVED[op] = ("saved for backward", op)
    return kept


def label(data: NDArray, info: tuple[str, str]) -> NDArray:
    """Label the buffer an operation allocated, so memory snapshots explain it (a
    view shares its owner's label, and is left alone)."""
    buf = data.buffer
    if buf.base is None:
        buf.info = info
    return data


def leaf(data: NDArray, requires_grad: bool, info: str) -> Tensor:
    """A new leaf around `data` (what the creation functions return), its memory
    labelled: a parameter (it requires grad) or an input, and the function that
    made it. A view is labelled through its owner when the owner has no label
    yet (randn draws flat numbers and reshapes them)."""
    buf = data.buffer
    if buf.base is None or buf.info is None:
        buf.info = ("parameter" if requires_grad else "input", info)
    t = _make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def label_kept(values: Iterable[Any], info: tuple[str, str]) -> None:
    """Label as `info` ("saved for backward", the Function) the memory of the
    tensors, arrays and buffers in `values` (nested in tuples and lists) that
    has no label yet or is an activation: what a Function's forward keeps on
    its ctx for backward, beside `save_for_backward`."""
    for value in values:
        t = type(value)
        if t is NDArray:
            buf = value.buffer
        elif t is tuple or t is list:
            label_kept(value, info)
            continue
        elif t is Buffer:
            buf = value
        elif t in _PLAIN:
            continue
        elif isinstance(value, TensorBase):
            buf = value.array.buffer
        else:
            continue
        made_by = buf.info  # a view's is its owner's (they share it)
        if made_by is None or made_by is SAVED_INPUT or _is_activation(made_by):
            buf.info = info


# What a forward keeps on ctx most often besides arrays: skipped at once.
_PLAIN: Final = frozenset({int, float, bool, str, type(None)})


class _Explaining:
    """How many `explain_saved_memory` blocks are open, in all threads."""

    def __init__(self) -> None:
        self.depth = 0  # guarded by _lock; read without it (a flag)


explaining = _Explaining()


class explain_saved_memory:
    """Within this block (its effect is global while any is open), memory a
    graph keeps for backward beyond what is labelled as it is saved is labelled
    too, so that memory snapshots and actnet-util's memory timeline count it as
    saved for backward: what a Function's forward sets on `ctx` (statistics,
    masks, attention probabilities: tensors, arrays and buffers, in tuples and
    lists) and the outputs operations save for their own backward (exp's),
    ("saved for backward", the Function or op). Outside, nothing is checked,
    so that it costs nothing.

    >>> with explain_saved_memory():
    ...     loss = model(x).sum()  # LayerNorm's statistics: saved for backward
    """

    def __enter__(self) -> None:
        with _lock:
            explaining.depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with _lock:
            explaining.depth -= 1


def _is_activation(made_by: Any) -> bool:
    return type(made_by) is tuple and made_by[0] == "activation"


# ------------------------------------------------------------ the hooks
class _HookStack(threading.local):
    def __init__(self) -> None:
        self.pairs: list[tuple[Callable[[Tensor], Any], Callable[[Any], Any]]] = []


_stack = _HookStack()
_lock = threading.Lock()  # guards _in_use and explaining.depth
_in_use = 0  # hook contexts open in all threads: 0 keeps saving at full speed


class saved_tensors_hooks:  # PyTorch's name
    """Within this context (in this thread), tensors that operations save for
    backward are replaced by `pack_hook(tensor)`, and backward gets them back
    as `unpack_hook(packed)`, which must return a Tensor of the same values. The
    innermost context applies; a tensor saved before it opened is unaffected.

    >>> with saved_tensors_hooks(lambda t: t.numpy(), at.tensor):
    ...     y = (x * x).sum()   # x is kept as a NumPy array until backward
    """

    def __init__(
        self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Any]
    ) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks takes two callables: pack, unpack")
        self.pair = (pack_hook, unpack_hook)

    def __enter__(self) -> None:
        global _in_use
        with _lock:
            _in_use += 1
        _stack.pairs.append(self.pair)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _in_use
        _stack.pairs.pop()
        with _lock:
            _in_use -= 1


def _hooks() -> tuple[Callable[[Tensor], Any], Callable[[Any], Any]] | None:
    """The innermost hooks of this thread, if any."""
    return _stack.pairs[-1] if _in_use and _stack.pairs else None


def _modified(node: Node, saved: int, now: int) -> RuntimeError:
    """The error of a saved input changed in place before backward read it."""
    return RuntimeError(
        "one of the tensors needed for gradient computation has been modified by an "
        f"in-place operation: {node.name()} saved version {saved}, it is now at "
        f"version {now}"
    )


class _Packed:
    """A saved tensor as its pack hook made it, a weak reference to the tensor
    (to check its version while it lives) and the unpack hook."""

    __slots__ = ("packed", "ref", "unpack")

    def __init__(
        self,
        tensor: Tensor,
        hooks: tuple[Callable[[Tensor], Any], Callable[[Any], Any]],
    ) -> None:
        self.ref = weakref.ref(tensor)
        self.packed = hooks[0](tensor)
        self.unpack = hooks[1]

    def get(self, node: Node, version: int) -> Tensor:
        tensor = self.ref()
        if tensor is not None and tensor._version != version:
            raise _modified(node, version, tensor._version)
        unpacked = self.unpack(self.packed)
        if not isinstance(unpacked, TensorBase):
            raise TypeError(
                f"unpack_hook must return a Tensor, got {type(unpacked).__name__}"
            )
        return cast("Tensor", unpacked)  # every TensorBase is a Tensor


# ------------------------------------------------------------ saved values
SAVED_INPUT: Final = ("saved for backward", "input")
SAVED_OUTPUT: Final = ("saved for backward", "output")


class Saved:
    """A saved input: the Tensor and its version when saved (under
    saved_tensors_hooks: no tensor, and what the pack hook made)."""

    __slots__ = ("packed", "tensor", "version")

    tensor: Tensor | None
    packed: _Packed  # set only when tensor is None

    def __init__(self, tensor: Tensor) -> None:
        self.version = tensor._version
        if _in_use:
            hooks = _hooks()
            if hooks is not None:
                self.tensor = None
                self.packed = _Packed(tensor, hooks)
                return
        self.tensor = tensor
        # Label the memory (a view shares its owner's label): saved for backward,
        # and still which op made it.
        buf = tensor.array.buffer
        made_by = buf.info
        if made_by is None:
            buf.info = SAVED_INPUT
        elif made_by[0] == "activation":
            buf.info = ("saved for backward", made_by[1])

    def get(self, node: Node) -> Tensor:
        tensor = self.tensor
        if tensor is None:
            return self.packed.get(node, self.version)
        if tensor._version != self.version:
            raise _modified(node, self.version, tensor._version)
        return tensor


class SavedOutput:
    """A saved output: its values and a weak reference to read its version
    (under saved_tensors_hooks: what the pack hook made of the output)."""

    __slots__ = ("data", "output_nr", "packed", "ref", "version")

    data: NDArray | None
    packed: _Packed  # set only when data is None

    def __init__(self, output: Tensor, output_nr: int = 0) -> None:
        self.version = output._version
        self.output_nr = output_nr
        if _in_use:
            hooks = _hooks()
            if hooks is not None:
                self.data = None
                self.packed = _Packed(output, hooks)
                return
        self.data = output.array
        self.ref = weakref.ref(output)
        if explaining.depth:  # labelled as Saved labels an input
            buf = self.data.buffer
            made_by = buf.info
            if made_by is None:
                buf.info = SAVED_OUTPUT
            elif made_by[0] == "activation":
                buf.info = saved(made_by[1])

    def get(self, node: Node) -> Tensor:
        if self.data is None:
            values = self.packed.get(node, self.version).array
            return _make(values, True, node, self.output_nr)
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
