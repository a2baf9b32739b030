"""TensorBase: what a tensor holds (its fields and metadata), and `_make`, the one
way to build a Tensor.

The operations (the modules above this one) build and take tensors, and the
`Tensor` class has them as its methods: so Tensor is defined at the top, in
_tensor.py, as a subclass of TensorBase, and registers itself here
(`set_tensor_class`) for `_make` to build. Every TensorBase is a Tensor: the
modules below _tensor.py test `isinstance(x, TensorBase)` and name `Tensor` in
annotations only. PyTorch splits the class the same way (`torch._C.TensorBase`,
and `torch.Tensor` above it).
"""

from __future__ import annotations

import builtins
import itertools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast, final

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device
from actnet.ndarray import NDArray
from actnet.tensor._alias import Alias, alias_of
from actnet.tensor._floating import INEXACT

if TYPE_CHECKING:
    from actnet.tensor._graph import AccumulateGrad, Node
    from actnet.tensor._tensor import Tensor

Scalar = builtins.bool | builtins.int | builtins.float | complex
Hook = Callable[["Tensor"], "Tensor | None"]
T = TypeVar("T", bound="TensorBase")
_hook_ids = itertools.count()
_new = cast(Callable[[Any], Any], object.__new__)


@final
class _Extra:
    """What few tensors need: hooks, the leaf's gradient accumulator, retain_grad."""

    __slots__ = ("acc_edge", "hooks", "post_accumulate_hooks", "retains_grad")

    def __init__(self) -> None:
        self.hooks: dict[builtins.int, Hook] | None = None
        # hook(tensor), after the leaf's .grad has taken a gradient
        self.post_accumulate_hooks: dict[builtins.int, Any] | None = None
        # The leaf's edge to its AccumulateGrad node, kept (the node refers back to
        # the leaf weakly, so there is no reference cycle).
        self.acc_edge: tuple[AccumulateGrad, builtins.int] | None = None
        self.retains_grad = False


class RemovableHandle:
    """What register_hook returns: remove() unregisters the hook."""

    __slots__ = ("_hooks", "id")

    def __init__(self, hooks: dict[builtins.int, Hook], hook: Hook) -> None:
        self.id = next(_hook_ids)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# Tensors whose .grad was set, while a captured step records (actnet.tensor
# compile): a replay sets them again (a Python assignment it does not replay).
grad_writes: list[TensorBase] | None = None


class TensorBase:
    """A tensor's fields and metadata; `Tensor` (its subclass) adds the operations.

    `.array` is an immutable `actnet.ndarray.NDArray` of the values, read-only by
    contract for the layers above (they read values through it; an in-place change
    of the tensor moves it to a new array, so an NDArray once taken never
    changes). `.data` is a Tensor, as in PyTorch: a view outside the graph whose
    in-place changes write through. `grad_fn` is the node that made the tensor
    (None for a leaf).
    """

    __slots__ = (
        "__weakref__",
        "_alias",
        "_extra",
        "_grad",
        "_output_nr",
        "_requires_grad",
        "_version",
        "array",
        "grad_fn",
    )

    array: NDArray
    _grad: Tensor | None
    _requires_grad: builtins.bool
    grad_fn: Node | None
    _output_nr: builtins.int  # which output of grad_fn this tensor is
    _version: builtins.int  # in-place changes so far: what backward checks
    _extra: _Extra | None
    _alias: Alias | None  # the tensors it shares values with (_alias.py)

    # NumPy defers to the Tensor's reflected operators, as it does to torch's:
    # `np.float32(2) * t` is a Tensor, not an ndarray made through __array__.
    __array_priority__ = 1000

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        raise TypeError(
            "Tensor cannot be created directly; use actnet.tensor.tensor(data), "
            "zeros, ones, randn, ..."
        )

    # ---------------------------------------------------------------- the data
    @property
    def data(self) -> Tensor:
        """The same values outside the graph, as PyTorch's `.data`: a view whose
        in-place changes write through to this tensor unrecorded
        (`p.data.normal_(0, 0.02)`). The values as an NDArray: `.array`.
        Assigning rebinds this tensor to other values (its views keep the old)."""
        return alias_of(self, _make(self.array))

    @data.setter
    def data(self, value: NDArray | TensorBase) -> None:
        if isinstance(value, TensorBase):
            value = value.array
        if type(value) is not NDArray:
            raise TypeError(
                f"data must be an NDArray or a Tensor, got {type(value).__name__}"
            )
        if self._alias is not None:  # the views keep the values they show
            for member in self._alias.storage.live():
                if member._alias is not None and member._alias.base is self:
                    member._alias.base = None
            self._alias = None
        self.array = value

    @property
    def shape(self) -> tuple[builtins.int, ...]:
        shape: tuple[builtins.int, ...] = self.array.buffer.native.shape  # 2 calls less
        return shape

    @property
    def dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = self.array.buffer.native.dtype  # 2 calls less
        return dtype

    @property
    def device(self) -> Device:
        return self.array.device

    @property
    def is_cuda(self) -> builtins.bool:
        """Whether the tensor is on a CUDA device (model code asks, as DCGAN's
        `if input.is_cuda and self.ngpu > 1`)."""
        return self.array.device.kind == "cuda"

    @property
    def ndim(self) -> builtins.int:
        return self.array.ndim

    def dim(self) -> builtins.int:
        return self.array.ndim

    def size(
        self, dim: builtins.int | None = None
    ) -> tuple[builtins.int, ...] | builtins.int:
        """The shape, or the extent of `dim`."""
        shape = self.array.shape
        if dim is None:
            return shape
        return shape[_dim(dim, len(shape))]

    def numel(self) -> builtins.int:
        return self.array.size

    def __len__(self) -> builtins.int:
        return len(self.array)

    # --------------------------------------------------------------- autograd
    @property
    def is_leaf(self) -> builtins.bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> builtins.bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: builtins.bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Self:
        """Start (or stop) recording operations on this leaf; returns self."""
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be a bool, got {requires_grad!r}")
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf tensors; "
                "use detach() to get a tensor that does not require grad"
            )
        if requires_grad and self.array.dtype not in INEXACT:
            raise RuntimeError(
                f"only floating point and complex tensors can require gradients, "
                f"not {self.array.dtype}"
            )
        self._requires_grad = requires_grad
        return self

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, TensorBase):
                raise TypeError(
                    f"grad must be a Tensor or None, got {type(value).__name__}"
                )
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(
                    f"grad of shape {value.shape} and dtype {value.dtype} does not "
                    f"match the tensor's {self.shape} and {self.dtype}"
                )
        self._grad = value
        if grad_writes is not None:
            grad_writes.append(self)

    def detach(self) -> Tensor:
        """The same values outside the graph: an alias, as in PyTorch (an in-place
        change of either is seen by both)."""
        return alias_of(self, _make(self.array))

    def detach_(self) -> Self:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def as_subclass(self, cls: type[T]) -> T:
        """A `cls` instance (a subclass of Tensor) with the same values and the
        same place in the graph, as PyTorch's `as_subclass`."""
        if not (isinstance(cls, type) and issubclass(cls, TensorBase)):
            raise TypeError(f"as_subclass expects a subclass of Tensor, got {cls!r}")
        made = _make(
            self.array, self._requires_grad, self.grad_fn, self._output_nr, cls
        )
        return cast(T, made)

    def retain_grad(self) -> None:
        """Keep `.grad` of this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError(
                "can't retain_grad on a tensor that does not require grad"
            )
        if self.grad_fn is None:
            return  # leaves keep their gradient anyway
        extra = self._extra_()
        if extra.retains_grad:
            return
        extra.retains_grad = True
        ref = weakref.ref(self)

        def keep(grad: Tensor) -> None:
            target = ref()
            if target is not None:
                target._grad = grad if target._grad is None else target._grad + grad
                if grad_writes is not None:
                    grad_writes.append(target)

        self.grad_fn.add_output_hook(self._output_nr, keep)

    def register_hook(self, hook: Hook) -> RemovableHandle:
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose remove() unregisters it."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that does not require grad"
            )
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        if self.grad_fn is not None:
            return self.grad_fn.add_output_hook(self._output_nr, hook)
        extra = self._extra_()
        if extra.hooks is None:
            extra.hooks = {}
        return RemovableHandle(extra.hooks, hook)

    def register_post_accumulate_grad_hook(
        self, hook: Callable[[Tensor], None]
    ) -> RemovableHandle:
        """Call hook(tensor) after backward has accumulated a gradient into this
        leaf's `.grad` (PyTorch's: for hooks that read the accumulated gradient,
        such as a data-parallel reduction). Returns a handle whose remove()
        unregisters it."""
        if self.grad_fn is not None or not self._requires_grad:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
                if self.grad_fn is not None
                else "cannot register a hook on a tensor that does not require grad"
            )
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        extra = self._extra_()
        if extra.post_accumulate_hooks is None:
            extra.post_accumulate_hooks = {}
        return RemovableHandle(extra.post_accumulate_hooks, hook)

    def _extra_(self) -> _Extra:
        if self._extra is None:
            self._extra = _Extra()
        return self._extra

    # ------------------------------------------------------------ conversions
    def item(self) -> Scalar:
        if self.array.size != 1:
            raise RuntimeError(
                f"item() needs one element, this tensor has {self.numel()}"
            )
        value: Scalar = np.asarray(self.array).reshape(()).item()
        return value

    def numpy(self) -> np.ndarray[Any, Any]:
        """A host NumPy copy of the values."""
        if self._requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy()"
            )
        return np.asarray(self.array)

    def tolist(self) -> Any:
        return np.asarray(self.array).tolist()

    def __dlpack_device__(self) -> tuple[builtins.int, builtins.int]:
        return self.array.__dlpack_device__()

    def __dlpack__(self, **kwargs: Any) -> Any:
        """Export through DLPack with actnet.ndarray's rule: never memory that a
        tensor or array reads again (a copy; with copy=False the storage itself,
        while the tensor moves to a copy of its values)."""
        if self._requires_grad:  # torch's error class and advice
            raise BufferError(
                "can't export a tensor that requires grad through DLPack; "
                "detach() it first"
            )
        return self.array.__dlpack__(**kwargs)

    def __array__(
        self, dtype: Any = None, copy: builtins.bool | None = None
    ) -> np.ndarray[Any, Any]:
        if self._requires_grad:
            raise RuntimeError(
                "can't convert a tensor that requires grad; detach() it first"
            )
        return self.array.__array__(dtype=dtype, copy=copy)

    # Any one-element tensor converts, as in PyTorch (`float(t)` of shape (1, 1));
    # others get the array's refusal.
    def __float__(self) -> builtins.float:
        return float(_one_element(self.array))

    def __int__(self) -> builtins.int:
        return int(_one_element(self.array))

    def __bool__(self) -> builtins.bool:
        return bool(_one_element(self.array))

    def __index__(self) -> builtins.int:
        return _one_element(self.array).__index__()

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (`f"{loss:.4f}"`), as in PyTorch;
        any other with an empty spec only (its str)."""
        if self.array.ndim == 0:
            return format(self.item(), format_spec)
        return object.__format__(self, format_spec)

    def __repr__(self) -> str:
        body = repr(self.array).removeprefix("NDArray(").removesuffix(")")
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn=<{self.grad_fn.name()}>"
        elif self._requires_grad:
            extra = ", requires_grad=True"
        return f"tensor({body}{extra})"


def _one_element(array: NDArray) -> NDArray:
    """A one-element array as 0-d; any other as it is."""
    if array.ndim and array.size == 1:
        return xp.reshape(array, ())
    return array


_tensor_class: type[Tensor] | None = None


def set_tensor_class(cls: type[Tensor]) -> None:
    """Register the class `_make` builds: _tensor.py calls this once, with
    Tensor (defined there, above the operations that build tensors)."""
    global _tensor_class
    _tensor_class = cls


# Autograd through complex values is refused rather than computed wrong: its
# backward formulas are the real ones (a * b's gradient for a is grad * b, where
# PyTorch's conjugate Wirtinger calculus takes grad * conj(b)).
COMPLEX_AUTOGRAD = (
    "autograd of complex tensors is not supported: actnet's backward formulas "
    "do not take PyTorch's conjugate gradients; compute with the real and "
    "imaginary parts (real tensors), or without grad"
)


def _make(
    data: NDArray,
    requires_grad: builtins.bool = False,
    grad_fn: Node | None = None,
    output_nr: builtins.int = 0,
    cls: type[TensorBase] | None = None,
) -> Tensor:
    """A Tensor around `data` (the one way tensors are made)."""
    if grad_fn is not None and data.dtype.kind == "c":
        raise NotImplementedError(COMPLEX_AUTOGRAD)
    t: Tensor = _new(_tensor_class if cls is None else cls)
    t.array = data
    t._grad = None
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._output_nr = output_nr
    t._version = 0
    t._extra = None
    t._alias = None
    return t


# ------------------------------------------------------- argument checks
def _dim(dim: builtins.int, ndim: builtins.int) -> builtins.int:
    """`dim` as an index into `ndim` axes (PyTorch's range: a 0-d tensor has
    dims 0 and -1)."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"dimension out of range (expected to be in range of "
            f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})"
        )
    return dim % max(ndim, 1)


def _shape_args(args: tuple[Any, ...]) -> tuple[builtins.int, ...]:
    """A shape given as ints or as one tuple or list of ints (`reshape(2, 3)`,
    `reshape((2, 3))`)."""
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"expected ints, got {args!r}")
    return tuple(args)
