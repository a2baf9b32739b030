"""Tensor: an NDArray with a gradient, hooks, a place in the autograd graph, and
the operations as its methods and operators.

Tensor is defined here, above the operations, and registers itself with
_tensor_base (`set_tensor_class`) so that they build Tensors. Its arithmetic
operators are the operations themselves (`__add__` is `_arithmetic.add`: no
frame in between on every `a + b`); its named methods are PyTorch's signatures
over them.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self, overload

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device, Generator, get_device, on_bfloat16
from actnet.ndarray import NDArray
from actnet.tensor import (
    _arithmetic,
    _contractions,
    _cumulative,
    _elementary,
    _engine,
    _extrema,
    _indexing,
    _inplace,
    _inplace_math,
    _inplace_special,
    _layout,
    _legacy,
    _logic,
    _masking,
    _math,
    _new,
    _pointwise,
    _products,
    _random,
    _random_fill,
    _reductions,
    _registry,
    _scans,
    _scatter,
    _selection,
    _shape,
    _sorting,
    _special,
    _split,
    _variance,
)
from actnet.tensor._promotion import as_dtype
from actnet.tensor._tensor_base import (
    Scalar,
    TensorBase,
    _dim,
    _make,
    _shape_args,
    set_tensor_class,
)


class Tensor(TensorBase):
    """An array with PyTorch's autograd habits.

    `.array` is an immutable `actnet.ndarray.NDArray`, read-only by contract for
    the layers above (they read values through it); in-place methods (`add_`,
    `t[i] = v`, ...) rebind it, writing into the tensor's own device buffer only
    when nothing else holds that buffer (copy-on-write), so no NDArray anyone
    holds ever changes. Views (`t[0]`, `t.view(...)`, `t.data`, ...) alias, as in
    PyTorch: an in-place change of one shows in its base and its other views
    (_alias.py, _views.py). A version counter catches in-place changes of
    tensors saved for backward.

    Tensors come from `tensor`, `zeros`, `randn`, ... and from operations.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, device: Device | str | None = None) -> Self:
        """PyTorch's legacy constructor: `Tensor([[1, 2]])` (a float32 copy of
        the data), `Tensor(2, 3)` (uninitialised, float32), `Tensor()` (empty).

        >>> Tensor([[3]])
        tensor([[3.]])
        """
        return _legacy.construct(args, device).as_subclass(cls)

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: builtins.bool | None = None,
        create_graph: builtins.bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) * gradient into every leaf's .grad."""
        _engine.backward(
            [self],
            None if gradient is None else [gradient],
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=inputs,
        )

    # ------------------------------------------------------------ conversions
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
            elif isinstance(arg, TensorBase):
                device, dtype = arg.device, arg.dtype
            else:
                dtype = as_dtype(arg)
        bad = set(kwargs) - {"device", "dtype"}
        if bad:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(bad)}")
        return _shape.to(self, device, dtype)

    def float(self) -> Tensor:
        return _shape.to(self, None, xp.float32)

    def double(self) -> Tensor:
        return _shape.to(self, None, xp.float64)

    def half(self) -> Tensor:
        return _shape.to(self, None, xp.float16)

    def bfloat16(self) -> Tensor:
        return _shape.to(self, None, xp.bfloat16)

    def long(self) -> Tensor:
        return _shape.to(self, None, xp.int64)

    def int(self) -> Tensor:
        return _shape.to(self, None, xp.int32)

    def bool(self) -> Tensor:
        return _shape.to(self, None, xp.bool)

    def short(self) -> Tensor:
        return _shape.to(self, None, xp.int16)

    def byte(self) -> Tensor:
        return _shape.to(self, None, xp.uint8)

    def cfloat(self) -> Tensor:
        return _shape.to(self, None, xp.complex64)

    def cdouble(self) -> Tensor:
        return _shape.to(self, None, xp.complex128)

    def type_as(self, other: Tensor) -> Tensor:
        return _shape.to(self, None, other.dtype)

    @overload
    def type(self, dtype: None = None) -> str: ...
    @overload
    def type(self, dtype: Any) -> Tensor: ...
    def type(self, dtype: Any = None) -> Tensor | str:
        """`type(dtype)`: converted to `dtype` (a dtype, its name, or PyTorch's
        tensor-type name such as "torch.LongTensor"); self when it has it.
        `type()`: PyTorch's name of this tensor's type ("torch.FloatTensor",
        "torch.cuda.LongTensor"), what ported code compares against.

        >>> tensor([1, 2]).type(float32).dtype, tensor([1.0]).type()
        (dtype('float32'), 'torch.FloatTensor')
        """
        if dtype is None:
            name = _TYPE_NAMES.get(self.dtype)
            if name is None:
                raise TypeError(f"PyTorch has no tensor-type name for {self.dtype}")
            cuda = ".cuda" if self.device.kind == "cuda" else ""
            return f"torch{cuda}.{name}"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            name = dtype.removeprefix("torch.").removeprefix("cuda.")
            found = [d for d, n in _TYPE_NAMES.items() if n == name]
            if not found and name == "BFloat16Tensor":  # its row joins as it loads
                found = [xp.bfloat16]
            if not found:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = found[0]
        return _shape.to(self, None, as_dtype(dtype))

    def cpu(self) -> Tensor:
        return _shape.to(self, get_device("cpu"), None)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _restore,
            (np.asarray(self.array), self.device.name, self._requires_grad),
        )

    # ------------------------------------------------------------ arithmetic
    # The operations themselves: no frame between `a + b` and the addition.
    __add__ = _arithmetic.add
    __radd__ = _arithmetic.add
    __sub__ = _arithmetic.sub
    __rsub__ = _arithmetic.rsub
    __mul__ = _arithmetic.mul
    __rmul__ = _arithmetic.mul
    __truediv__ = _arithmetic.div
    __rtruediv__ = _arithmetic.rdiv
    __matmul__ = _arithmetic.matmul
    __neg__ = _arithmetic.neg
    __pow__ = _math.pow
    __mod__ = _elementary.remainder
    __rpow__ = _math.rpow
    __abs__ = _math.abs
    __invert__ = _arithmetic.invert
    __getitem__ = _indexing.index
    __setitem__ = _inplace.setitem_

    def __pos__(self) -> Tensor:
        return self

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]  # elementwise
        return _arithmetic.compare("equal", self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]  # elementwise
        return _arithmetic.compare("not_equal", self, other)

    def __lt__(self, other: Tensor | Scalar) -> Tensor:
        return _arithmetic.compare("less", self, other)

    def __le__(self, other: Tensor | Scalar) -> Tensor:
        return _arithmetic.compare("less_equal", self, other)

    def __gt__(self, other: Tensor | Scalar) -> Tensor:
        return _arithmetic.compare("greater", self, other)

    def __ge__(self, other: Tensor | Scalar) -> Tensor:
        return _arithmetic.compare("greater_equal", self, other)

    def __and__(self, other: Tensor | Scalar) -> Tensor:
        op = "logical_and" if self.dtype == xp.bool else "bitwise_and"
        return _arithmetic.compare(op, self, other)

    def __or__(self, other: Tensor | Scalar) -> Tensor:
        op = "logical_or" if self.dtype == xp.bool else "bitwise_or"
        return _arithmetic.compare(op, self, other)

    def __xor__(self, other: Tensor | Scalar) -> Tensor:
        op = "logical_xor" if self.dtype == xp.bool else "bitwise_xor"
        return _arithmetic.compare(op, self, other)

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    # Augmented assignment writes in place, as in PyTorch: `p -= lr * p.grad`
    # changes p and every view of it (without these, Python would bind the name
    # to a new tensor and leave p as it was).
    def __iadd__(self, other: Tensor | Scalar) -> Self:  # type: ignore[misc]  # __add__ is a function assigned, typed loosely
        _inplace.add_(self, other)
        return self

    def __isub__(self, other: Tensor | Scalar) -> Self:  # type: ignore[misc]  # __sub__ is a function assigned, typed loosely
        _inplace.add_(self, other, -1)
        return self

    def __imul__(self, other: Tensor | Scalar) -> Self:  # type: ignore[misc]  # __mul__ is a function assigned, typed loosely
        _inplace.mul_(self, other)
        return self

    def __itruediv__(self, other: Tensor | Scalar) -> Self:  # type: ignore[misc]  # __truediv__ is a function assigned, typed loosely
        _inplace.div_(self, other)
        return self

    def __ipow__(self, other: Tensor | Scalar) -> Self:  # type: ignore[misc]  # __pow__ is a function assigned, typed loosely
        _inplace_math.pow_(self, other)
        return self

    def __iand__(self, other: Tensor | Scalar) -> Self:
        _inplace.logical_(self, self & other, "__iand__")
        return self

    def __ior__(self, other: Tensor | Scalar) -> Self:
        _inplace.logical_(self, self | other, "__ior__")
        return self

    def __ixor__(self, other: Tensor | Scalar) -> Self:
        _inplace.logical_(self, self ^ other, "__ixor__")
        return self

    __hash__ = object.__hash__  # tensors are hashable by identity, as in PyTorch

    if not TYPE_CHECKING:  # mypy keeps checking attribute names

        def __getattr__(self, name: str) -> Any:
            """Asked only for attributes a Tensor lacks: the methods a layer
            above registers (`x.softmax(-1)`, actnet.neuron's), see _registry."""
            return _registry.method(self, name)

    # ----------------------------------------------------- differentiable ops
    def add(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        return _arithmetic.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        return _arithmetic.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other: Tensor | Scalar) -> Tensor:
        return _arithmetic.mul(self, other)

    def div(self, other: Tensor | Scalar) -> Tensor:
        return _arithmetic.div(self, other)

    def pow(self, exponent: Tensor | Scalar) -> Tensor:
        return _math.pow(self, exponent)

    def matmul(self, other: Tensor) -> Tensor:
        return _arithmetic.matmul(self, other)

    neg = _elementary.neg

    def exp(self) -> Tensor:
        return _math.exp(self)

    def log(self) -> Tensor:
        return _math.log(self)

    def sqrt(self) -> Tensor:
        return _math.sqrt(self)

    def abs(self) -> Tensor:
        return _math.abs(self)

    # the pointwise math of _pointwise.py, PyTorch's signatures
    clamp = _pointwise.clamp
    clip = _pointwise.clamp
    sin = _pointwise.sin
    cos = _pointwise.cos
    tanh = _pointwise.tanh
    sigmoid = _pointwise.sigmoid
    rsqrt = _pointwise.rsqrt
    log1p = _pointwise.log1p
    expm1 = _pointwise.expm1
    erf = _pointwise.erf
    floor = _pointwise.floor
    ceil = _pointwise.ceil
    round = _pointwise.round
    sign = _pointwise.sign
    maximum = _pointwise.maximum
    minimum = _pointwise.minimum
    # the pointwise math of _elementary.py
    square = _elementary.square
    reciprocal = _arithmetic.reciprocal
    lerp = _elementary.lerp
    atan2 = _elementary.atan2
    remainder = _elementary.remainder
    trunc = _elementary.trunc
    log2 = _elementary.log2
    log10 = _elementary.log10
    sinh = _elementary.sinh
    cosh = _elementary.cosh
    asin = _elementary.asin
    acos = _elementary.acos
    atan = _elementary.atan

    # tests and comparisons (not differentiable)
    all = _logic.all
    any = _logic.any
    isnan = _logic.isnan
    isfinite = _logic.isfinite
    isinf = _logic.isinf
    eq = _logic.eq
    ne = _logic.ne
    lt = _logic.lt
    le = _logic.le
    gt = _logic.gt
    ge = _logic.ge
    allclose = _logic.allclose
    equal = _logic.equal
    is_floating_point = _logic.is_floating_point

    def sum(
        self,
        dim: builtins.int | Sequence[builtins.int] | None = None,
        keepdim: builtins.bool = False,
        *,
        dtype: Any = None,
    ) -> Tensor:
        return _reductions.sum(self, dim, keepdim, dtype)

    def mean(
        self,
        dim: builtins.int | Sequence[builtins.int] | None = None,
        keepdim: builtins.bool = False,
        *,
        dtype: Any = None,
    ) -> Tensor:
        return _reductions.mean(self, dim, keepdim, dtype)

    def max(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Any:
        """The maximum (gradient shared among ties), or (values, indices) along dim."""
        return _reductions.max(self, dim, keepdim)

    def min(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Any:
        return _reductions.min(self, dim, keepdim)

    def argmax(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Tensor:
        return _reductions.argmax(self, dim, keepdim)

    def argmin(
        self, dim: builtins.int | None = None, keepdim: builtins.bool = False
    ) -> Tensor:
        return _reductions.argmin(self, dim, keepdim)

    var = _variance.var
    std = _variance.std
    cumsum = _cumulative.cumsum
    cumprod = _cumulative.cumprod
    prod = _cumulative.prod
    logsumexp = _cumulative.logsumexp
    amax = _extrema.amax
    amin = _extrema.amin
    median = _extrema.median
    norm = _extrema.norm
    unique = _selection.unique

    # selecting and rearranging elements, products
    nonzero = _selection.nonzero
    index_select = _selection.index_select
    narrow = _selection.narrow
    select = _selection.select
    masked_select = _selection.masked_select
    repeat_interleave = _selection.repeat_interleave
    roll = _layout.roll
    diag = _layout.diag
    diagonal = _layout.diagonal
    broadcast_to = _layout.broadcast_to
    view_as = _layout.view_as
    reshape_as = _layout.reshape_as
    repeat = _layout.repeat
    dot = _products.dot
    outer = _products.outer
    mm = _products.mm
    mv = _products.mv
    bmm = _products.bmm
    addmm = _products.addmm

    def flip(self, *dims: Any) -> Tensor:
        """`flip(0)`, `flip(0, 1)` or `flip((0, 1))`."""
        return _layout.flip(self, _shape_args(dims))

    # sorting, masking, splitting, sampling: PyTorch's signatures
    sort = _sorting.sort
    argsort = _sorting.argsort
    topk = _sorting.topk
    tril = _masking.tril
    triu = _masking.triu
    masked_fill = _masking.masked_fill
    masked_fill_ = _masking.masked_fill_
    split = _split.split
    chunk = _split.chunk
    unbind = _split.unbind
    multinomial = _random.multinomial
    bernoulli = _random_fill.bernoulli

    # new tensors with this one's dtype and device
    new_zeros = _new.new_zeros
    new_ones = _new.new_ones
    new_empty = _new.new_empty
    new_full = _new.new_full
    new_tensor = _new.new_tensor

    def reshape(self, *shape: Any) -> Tensor:
        return _shape.reshape(self, _shape_args(shape))

    def view(self, *shape: Any) -> Tensor:
        """Like reshape, but refuses when the data is not laid out for it."""
        return _shape.view(self, _shape_args(shape))

    flatten = _layout.flatten

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        return _shape.unsqueeze(self, dim)

    squeeze = _layout.squeeze

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        return _shape.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return _shape.permute(self, _shape_args(dims))

    @property
    def T(self) -> Tensor:  # PyTorch's name
        return _shape.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:  # PyTorch's name
        return _shape.transpose(self, -2, -1)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, got {self.ndim}"
            )
        return self.T

    def expand(self, *sizes: Any) -> Tensor:
        return _shape.expand(self, _shape_args(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return _shape.expand(self, other.shape)

    def gather(self, dim: builtins.int, index: Tensor) -> Tensor:
        return _indexing.gather(self, dim, index)

    # scatter family: PyTorch's signatures (_scatter.py)
    scatter = _scatter.scatter
    scatter_ = _scatter.scatter_
    scatter_add = _scatter.scatter_add
    scatter_add_ = _scatter.scatter_add_
    scatter_reduce = _scatter.scatter_reduce
    scatter_reduce_ = _scatter.scatter_reduce_
    index_fill = _scatter.index_fill
    index_fill_ = _scatter.index_fill_
    take_along_dim = _scatter.take_along_dim
    index_put = _scatter.index_put
    index_put_ = _scatter.index_put_

    def clone(self) -> Tensor:
        return _shape.clone(self)

    def contiguous(self) -> Tensor:
        """self when its elements lie in row-major order, else a copy that does
        (differentiable, as a clone)."""
        return self if self.array.buffer.is_contiguous else _shape.clone(self)

    def is_contiguous(self) -> builtins.bool:
        """Whether the elements lie in row-major order, without gaps."""
        return builtins.bool(self.array.buffer.is_contiguous)

    def stride(
        self, dim: builtins.int | None = None
    ) -> tuple[builtins.int, ...] | builtins.int:
        """Elements to step over per index along each dim (of `dim` alone): a
        view's show the memory it shares (a transpose swaps them, an expanded
        dim has 0), as PyTorch's.

        >>> ones(2, 3).t().stride()
        (1, 3)
        """
        buf = self.array.buffer
        steps = tuple(builtins.int(s) for s in buf.strides)  # in elements
        if dim is None:
            return steps
        return steps[_dim(dim, len(steps))]

    def nelement(self) -> builtins.int:
        return self.array.size

    def element_size(self) -> builtins.int:
        """Bytes per element."""
        return builtins.int(self.array.buffer.itemsize)

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

    exp_ = _inplace_math.exp_
    sigmoid_ = _inplace_math.sigmoid_
    tanh_ = _inplace_math.tanh_
    pow_ = _inplace_math.pow_
    abs_ = _inplace_math.abs_
    neg_ = _inplace_math.neg_
    sqrt_ = _inplace_math.sqrt_
    log_ = _inplace_math.log_

    nan_to_num = _special.nan_to_num
    isclose = _special.isclose
    count_nonzero = _special.count_nonzero
    fmod = _special.fmod
    hypot = _special.hypot
    logit = _special.logit
    xlogy = _special.xlogy
    erfinv = _special.erfinv
    lgamma = _special.lgamma
    digamma = _special.digamma
    diff = _scans.diff
    cummax = _scans.cummax
    cummin = _scans.cummin
    logcumsumexp = _scans.logcumsumexp
    trace = _contractions.trace
    kron = _contractions.kron
    addmv = _contractions.addmv
    baddbmm = _contractions.baddbmm

    nan_to_num_ = _inplace_special.nan_to_num_
    fmod_ = _inplace_special.fmod_
    hypot_ = _inplace_special.hypot_
    logit_ = _inplace_special.logit_
    xlogy_ = _inplace_special.xlogy_
    erfinv_ = _inplace_special.erfinv_
    lgamma_ = _inplace_special.lgamma_
    digamma_ = _inplace_special.digamma_
    addmv_ = _inplace_special.addmv_
    baddbmm_ = _inplace_special.baddbmm_

    def uniform_(
        self,
        a: builtins.float = 0.0,
        b: builtins.float = 1.0,
        *,
        generator: Generator | None = None,
    ) -> Tensor:
        return _inplace.uniform_(self, a, b, generator)

    def normal_(
        self,
        mean: builtins.float = 0.0,
        std: builtins.float = 1.0,
        *,
        generator: Generator | None = None,
    ) -> Tensor:
        return _inplace.normal_(self, mean, std, generator)

    # random fills: PyTorch's signatures (_random_fill.py)
    bernoulli_ = _random_fill.bernoulli_
    exponential_ = _random_fill.exponential_
    random_ = _random_fill.random_
    cauchy_ = _random_fill.cauchy_
    log_normal_ = _random_fill.log_normal_
    geometric_ = _random_fill.geometric_


set_tensor_class(Tensor)  # the operations below build Tensors from now on


# PyTorch's legacy tensor-type names (Tensor.type)
_TYPE_NAMES: dict[np.dtype[Any], str] = {
    np.dtype(xp.float32): "FloatTensor",
    np.dtype(xp.float64): "DoubleTensor",
    np.dtype(xp.float16): "HalfTensor",
    np.dtype(xp.int64): "LongTensor",
    np.dtype(xp.int32): "IntTensor",
    np.dtype(xp.int16): "ShortTensor",
    np.dtype(xp.int8): "CharTensor",
    np.dtype(xp.uint8): "ByteTensor",
    np.dtype(xp.bool): "BoolTensor",
}
on_bfloat16(lambda bf16: _TYPE_NAMES.update({bf16: "BFloat16Tensor"}))


def _restore(
    host: np.ndarray[Any, Any], device: str, requires_grad: builtins.bool
) -> Tensor:
    """Unpickle a Tensor (what `__reduce__` names)."""
    return _make(xp.asarray(host, device=device), requires_grad)
