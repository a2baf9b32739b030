"""Tensor: an NDArray with a gradient, hooks, and a place in the autograd graph."""

from __future__ import annotations

import builtins
import itertools
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast, final

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device, get_device
from actnet.ndarray import NDArray

if TYPE_CHECKING:
    from actnet.tensor._autograd import AccumulateGrad, Node

Scalar = builtins.bool | builtins.int | builtins.float | complex
Hook = Callable[["Tensor"], "Tensor | None"]
_hook_ids = itertools.count()
T = TypeVar("T", bound="Tensor")
_new = cast(Callable[[type["Tensor"]], "Tensor"], object.__new__)
_getrefcount = sys.getrefcount


@final
class _Extra:
    """What few tensors need: hooks, the leaf's gradient accumulator, retain_grad."""

    __slots__ = ("acc_edge", "hooks", "retains_grad")

    def __init__(self) -> None:
        self.hooks: dict[builtins.int, Hook] | None = None
        # The leaf's edge to its AccumulateGrad node, kept (the node refers back to
        # the leaf weakly, so there is no reference cycle).
        self.acc_edge: tuple[AccumulateGrad, builtins.int] | None = None
        self.retains_grad = False


class Tensor:
    """An array with PyTorch's autograd habits.

    `.array` (also `.data`) is an immutable `actnet.ndarray.NDArray`, read-only by
    contract for the layers above (they read values through it); in-place methods
    (`add_`, `t[i] = v`, ...) rebind it, writing into the tensor's own device
    buffer only when nothing else holds that buffer (copy-on-write), so no NDArray
    anyone holds ever changes. A version counter catches in-place changes of
    tensors saved for backward.

    Tensors come from `tensor`, `zeros`, `randn`, ... and from operations.
    """

    __slots__ = (
        "__weakref__",
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
    _output_nr: builtins.int
    _version: builtins.int
    _extra: _Extra | None

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        raise TypeError(
            "Tensor cannot be created directly; use actnet.tensor.tensor(data), "
            "zeros, ones, randn, ..."
        )

    # ---------------------------------------------------------------- the data
    @property
    def data(self) -> NDArray:
        """The values, an immutable NDArray. Assigning rebinds it (no graph)."""
        return self.array

    @data.setter
    def data(self, value: NDArray | Tensor) -> None:
        if isinstance(value, Tensor):
            value = value.array
        if type(value) is not NDArray:
            raise TypeError(
                f"data must be an NDArray or a Tensor, got {type(value).__name__}"
            )
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

    @property
    def is_leaf(self) -> builtins.bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> builtins.bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: builtins.bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
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
        if requires_grad and self.array.dtype.kind not in "fc":
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
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"grad must be a Tensor or None, got {type(value).__name__}"
                )
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(
                    f"grad of shape {value.shape} and dtype {value.dtype} does not "
                    f"match the tensor's {self.shape} and {self.dtype}"
                )
        self._grad = value

    def detach(self) -> Tensor:
        """The same values, outside the graph (sharing the immutable NDArray)."""
        return _make(self.array)

    def as_subclass(self, cls: type[T]) -> T:
        """A `cls` instance (a subclass of Tensor) with the same values and the
        same place in the graph, as PyTorch's `as_subclass`."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"as_subclass expects a subclass of Tensor, got {cls!r}")
        made = _make(
            self.array, self._requires_grad, self.grad_fn, self._output_nr, cls
        )
        return cast(T, made)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

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

        self.grad_fn.add_output_hook(self._output_nr, keep)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
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

    def _extra_(self) -> _Extra:
        if self._extra is None:
            self._extra = _Extra()
        return self._extra

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: builtins.bool | None = None,
        create_graph: builtins.bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) * gradient into every leaf's .grad."""
        _autograd.backward(
            [self],
            None if gradient is None else [gradient],
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=inputs,
        )

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

    def __array__(
        self, dtype: Any = None, copy: builtins.bool | None = None
    ) -> np.ndarray[Any, Any]:
        if self._requires_grad:
            raise RuntimeError(
                "can't convert a tensor that requires grad; detach() it first"
            )
        return self.array.__array__(dtype=dtype, copy=copy)

    def __float__(self) -> builtins.float:
        return float(self.array)

    def __int__(self) -> builtins.int:
        return int(self.array)

    def __bool__(self) -> builtins.bool:
        return bool(self.array)

    def __index__(self) -> builtins.int:
        return self.array.__index__()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`to(device)`, `to(dtype)` or `to(device, dtype)` (differentiable)."""
        device: Device | None = None
        dtype: np.dtype[Any] | None = None
        for arg in (*args, *kwargs.values()):
            if (
                isinstance(arg, Device)
                or (isinstance(arg, str) and ":" in arg)
                or arg in ("cpu", "cuda")
            ):
                device = get_device(arg)
            elif isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            else:
                dtype = _dtype(arg)
        bad = set(kwargs) - {"device", "dtype"}
        if bad:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(bad)}")
        return _ops.to(self, device, dtype)

    def float(self) -> Tensor:
        return _ops.to(self, None, xp.float32)

    def double(self) -> Tensor:
        return _ops.to(self, None, xp.float64)

    def half(self) -> Tensor:
        return _ops.to(self, None, xp.float16)

    def long(self) -> Tensor:
        return _ops.to(self, None, xp.int64)

    def int(self) -> Tensor:
        return _ops.to(self, None, xp.int32)

    def bool(self) -> Tensor:
        return _ops.to(self, None, xp.bool)

    def type_as(self, other: Tensor) -> Tensor:
        return _ops.to(self, None, other.dtype)

    def cpu(self) -> Tensor:
        return _ops.to(self, get_device("cpu"), None)

    def __repr__(self) -> str:
        body = repr(self.array).removeprefix("NDArray(").removesuffix(")")
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn=<{self.grad_fn.name()}>"
        elif self._requires_grad:
            extra = ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _restore,
            (np.asarray(self.array), self.device.name, self._requires_grad),
        )

    __hash__ = object.__hash__  # tensors are hashable by identity, as in PyTorch

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Scalar) -> Tensor:
        return _ops.add(self, other)

    def __sub__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Scalar) -> Tensor:
        return _ops.rsub(self, other)

    def __mul__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Scalar) -> Tensor:
        return _ops.mul(self, other)

    def __truediv__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Scalar) -> Tensor:
        return _ops.rdiv(self, other)

    def __pow__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Scalar) -> Tensor:
        return _ops.rpow(self, other)

    def __matmul__(self, other: Tensor) -> Tensor:
        return _ops.matmul(self, other)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]  # elementwise
        return _ops.compare("equal", self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]  # elementwise
        return _ops.compare("not_equal", self, other)

    def __lt__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.compare("less", self, other)

    def __le__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.compare("less_equal", self, other)

    def __gt__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.compare("greater", self, other)

    def __ge__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.compare("greater_equal", self, other)

    def __and__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.compare(
            "logical_and" if self.dtype == xp.bool else "bitwise_and", self, other
        )

    def __or__(self, other: Tensor | Scalar) -> Tensor:
        return _ops.compare(
            "logical_or" if self.dtype == xp.bool else "bitwise_or", self, other
        )

    def __invert__(self) -> Tensor:
        return _ops.invert(self)

    def __getitem__(self, key: Any) -> Tensor:
        return _ops.index(self, key)

    def __setitem__(self, key: Any, value: Tensor | Scalar) -> None:
        _inplace.setitem_(self, key, value)

    # ----------------------------------------------------- differentiable ops
    def add(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        return _ops.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        return _ops.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other: Tensor | Scalar) -> Tensor:
        return _ops.mul(self, other)

    def div(self, other: Tensor | Scalar) -> Tensor:
        return _ops.div(self, other)

    def pow(self, exponent: Tensor | Scalar) -> Tensor:
        return _ops.pow(self, exponent)

    def matmul(self, other: Tensor) -> Tensor:
        return _ops.matmul(self, other)

    def neg(self) -> Tensor:
        return _ops.neg(self)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def clamp(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return _ops.clamp(self, min, max)

    clip = clamp

    def sum(
        self,
        dim: builtins.int | Sequence[builtins.int] | None = None,
        keepdim: builtins.bool = False,
        *,
        dtype: Any = None,
    ) -> Tensor:
        return _ops.sum(self, dim, keepdim, dtype)

    def mean(
        self,
        dim: builtins.int | Sequence[builtins.int] | None = None,
        keepdim: builtins.bool = False,
        *,
        dtype: Any = None,
    ) -> Tensor:
        return _ops.mean(self, dim, keepdim, dtype)

    def max(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Any:
        """The maximum (gradient shared among ties), or (values, indices) along dim."""
        return _ops.max(self, dim, keepdim)

    def min(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Any:
        return _ops.min(self, dim, keepdim)

    def argmax(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Tensor:
        return _ops.argmax(self, dim, keepdim)

    def argmin(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Tensor:
        return _ops.argmin(self, dim, keepdim)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, _shape_args(shape))

    def view(self, *shape: Any) -> Tensor:
        """Like reshape, but refuses when the data is not laid out for it."""
        return _ops.view(self, _shape_args(shape))

    def flatten(
        self, start_dim: builtins.int = 0, end_dim: builtins.int = -1
    ) -> Tensor:
        shape = self.shape
        if not shape:
            return _ops.reshape(self, (1,))
        s, e = _dim(start_dim, len(shape)), _dim(end_dim, len(shape))
        size = 1
        for n in shape[s : e + 1]:
            size *= n
        return _ops.reshape(self, (*shape[:s], size, *shape[e + 1 :]))

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        d = _dim(dim, self.ndim + 1)
        return _ops.reshape(self, (*self.shape[:d], 1, *self.shape[d:]))

    def squeeze(self, dim: builtins.int | None = None) -> Tensor:
        shape = self.shape
        if dim is None:
            return _ops.reshape(self, tuple(n for n in shape if n != 1))
        d = _dim(dim, len(shape))
        if shape[d] != 1:
            return self
        return _ops.reshape(self, shape[:d] + shape[d + 1 :])

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return _ops.permute(self, _shape_args(dims))

    @property
    def T(self) -> Tensor:  # PyTorch's name
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:  # PyTorch's name
        return _ops.transpose(self, -2, -1)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, got {self.ndim}"
            )
        return self.T

    def expand(self, *sizes: Any) -> Tensor:
        return _ops.expand(self, _shape_args(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return _ops.expand(self, other.shape)

    def gather(self, dim: builtins.int, index: Tensor) -> Tensor:
        return _ops.gather(self, dim, index)

    def clone(self) -> Tensor:
        return _ops.clone(self)

    def contiguous(self) -> Tensor:
        return self

    # --------------------------------------------------------- in-place methods
    def add_(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        return _inplace.add_(self, other, alpha)

    def sub_(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        return _inplace.add_(self, other, -alpha)

    def mul_(self, other: Tensor | Scalar) -> Tensor:
        return _inplace.mul_(self, other)

    def div_(self, other: Tensor | Scalar) -> Tensor:
        return _inplace.div_(self, other)

    def copy_(self, src: Tensor | NDArray) -> Tensor:
        return _inplace.copy_(self, src)

    def zero_(self) -> Tensor:
        return _inplace.fill_(self, 0)

    def fill_(self, value: Scalar) -> Tensor:
        return _inplace.fill_(self, value)

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return _inplace.clamp_(self, min, max)

    def addcmul_(
        self, tensor1: Tensor, tensor2: Tensor, *, value: Scalar = 1
    ) -> Tensor:
        return _inplace.addcmul_(self, tensor1, tensor2, value)

    def addcdiv_(
        self, tensor1: Tensor, tensor2: Tensor, *, value: Scalar = 1
    ) -> Tensor:
        return _inplace.addcdiv_(self, tensor1, tensor2, value)

    def lerp_(self, end: Tensor, weight: Scalar | Tensor) -> Tensor:
        return _inplace.lerp_(self, end, weight)

    def uniform_(
        self, a: builtins.float = 0.0, b: builtins.float = 1.0, *, generator: Any = None
    ) -> Tensor:
        return _inplace.uniform_(self, a, b, generator)

    def normal_(
        self,
        mean: builtins.float = 0.0,
        std: builtins.float = 1.0,
        *,
        generator: Any = None,
    ) -> Tensor:
        return _inplace.normal_(self, mean, std, generator)


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


def _make(
    data: NDArray,
    requires_grad: builtins.bool = False,
    grad_fn: Node | None = None,
    output_nr: builtins.int = 0,
    cls: type[Tensor] | None = None,
) -> Tensor:
    """A Tensor around `data` (the one way tensors are made)."""
    t = _new(Tensor if cls is None else cls)
    t.array = data
    t._grad = None
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._output_nr = output_nr
    t._version = 0
    t._extra = None
    return t


def _restore(
    host: np.ndarray[Any, Any], device: str, requires_grad: builtins.bool
) -> Tensor:
    return _make(xp.asarray(host, device=device), requires_grad)


def _dim(dim: builtins.int, ndim: builtins.int) -> builtins.int:
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"dimension out of range (expected to be in range of "
            f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})"
        )
    return dim % max(ndim, 1)


def _shape_args(args: tuple[Any, ...]) -> tuple[builtins.int, ...]:
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"expected ints, got {args!r}")
    return tuple(args)


def _dtype(value: Any) -> np.dtype[Any]:
    """A dtype from an actnet/NumPy dtype or its name ("float32", "long", ...)."""
    aliases = {
        "float": "float32",
        "double": "float64",
        "half": "float16",
        "long": "int64",
        "int": "int32",
        "short": "int16",
        "byte": "uint8",
        "cfloat": "complex64",
        "cdouble": "complex128",
    }
    if isinstance(value, str):
        value = aliases.get(value.removeprefix("torch."), value)
    try:
        dtype: np.dtype[Any] = np.dtype(value)
        xp.isdtype(dtype, "numeric")  # refuses what the array namespace does not hold
    except TypeError as exc:
        raise TypeError(f"not a data type of actnet: {value!r}") from exc
    return dtype


# The operations build on Tensor: their modules import it, so they come after it.
from actnet.tensor import _autograd, _inplace, _ops

# The hottest operators are their functions themselves: one Python frame less on
# every a + b and a * b (the methods above document and type them).
Tensor.__add__ = _ops.add  # type: ignore[method-assign]  # same signature, bound here
Tensor.__mul__ = _ops.mul  # type: ignore[method-assign]  # same signature, bound here
