"""actnet-tensor: Tensor with grad, hooks and the autograd engine.

    import actnet.tensor as at
    x = at.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4.])

Values are immutable `actnet.ndarray` arrays; a Tensor's in-place methods rebind
them copy-on-write. Every buffer a tensor allocates is labelled (parameter,
gradient, activation, saved for backward, and the op that made it) in the
device's memory snapshot.
"""

from typing import TYPE_CHECKING, Any

import actnet.ndarray
from actnet.ndarray import (
    bool,  # the dtype names of the array namespace
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from actnet.ndarray import complex64 as cfloat  # PyTorch's dtype aliases
from actnet.ndarray import complex128 as cdouble
from actnet.ndarray import float16 as half
from actnet.ndarray import float32 as float
from actnet.ndarray import float64 as double
from actnet.ndarray import int16 as short
from actnet.ndarray import int32 as int
from actnet.ndarray import int64 as long
from actnet.tensor import amp, backends, cpu, cuda, distributions
from actnet.tensor._arithmetic import matmul, reciprocal
from actnet.tensor._arithmetic_functions import add, div, mul, sub
from actnet.tensor._autocast import (
    autocast,
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from actnet.tensor._compile import (
    CaptureError,
    CompiledFunction,
    MemoryBudgetError,
    Recomputed,
    StepMemoryPlan,
    compile,
)
from actnet.tensor._contractions import (
    addmv,
    baddbmm,
    cdist,
    kron,
    tensordot,
    trace,
    tril_indices,
    triu_indices,
)
from actnet.tensor._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from actnet.tensor._cumulative import cumprod, cumsum, logsumexp, prod
from actnet.tensor._default_dtype import get_default_dtype, set_default_dtype
from actnet.tensor._devices import device
from actnet.tensor._dtype_info import finfo, iinfo
from actnet.tensor._einsum import einsum
from actnet.tensor._elementary import (
    acos,
    asin,
    atan,
    atan2,
    cosh,
    lerp,
    log2,
    log10,
    neg,
    remainder,
    sinh,
    square,
    trunc,
)
from actnet.tensor._engine import backward, grad, queue_callback
from actnet.tensor._extrema import MedianResult, amax, amin, median, norm
from actnet.tensor._function import Function, FunctionCtx
from actnet.tensor._grad_mode import (
    enable_grad,
    get_float32_matmul_precision,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_float32_matmul_precision,
    set_grad_enabled,
)
from actnet.tensor._gradcheck import GradcheckError, gradcheck, gradgradcheck
from actnet.tensor._graph import AccumulateGrad, Node
from actnet.tensor._indexing import cat, gather, stack
from actnet.tensor._inplace_math import apply_in_place
from actnet.tensor._layout import (
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    diag,
    diagonal,
    flatten,
    flip,
    hstack,
    meshgrid,
    reshape,
    roll,
    squeeze,
    vstack,
)
from actnet.tensor._logic import (
    all,
    allclose,
    any,
    eq,
    equal,
    ge,
    gt,
    is_floating_point,
    is_tensor,
    isfinite,
    isinf,
    isnan,
    le,
    lt,
    ne,
)
from actnet.tensor._masking import masked_fill, tril, triu
from actnet.tensor._math import abs, exp, log, pow, sqrt, where  # PyTorch's names
from actnet.tensor._namespaces import lookup as _lookup_namespace
from actnet.tensor._namespaces import register_function, register_namespace
from actnet.tensor._pointwise import (
    ceil,
    clamp,
    cos,
    erf,
    expm1,
    floor,
    log1p,
    maximum,
    minimum,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    tanh,
)
from actnet.tensor._pointwise import clamp as clip
from actnet.tensor._products import addmm, bmm, dot, mm, mv, outer
from actnet.tensor._promotion import as_dtype
from actnet.tensor._random import TorchGenerator as Generator
from actnet.tensor._random import (
    initial_seed,
    manual_seed,
    multinomial,
    randint,
    randperm,
)
from actnet.tensor._random_fill import bernoulli, normal, poisson, randint_like
from actnet.tensor._reductions import argmax, argmin, max, mean, min, sum
from actnet.tensor._saved import explain_saved_memory, saved_tensors_hooks
from actnet.tensor._scans import (
    CumResult,
    bucketize,
    cummax,
    cummin,
    diff,
    logcumsumexp,
    searchsorted,
)
from actnet.tensor._scatter import (
    index_fill,
    index_put,
    numel,
    scatter,
    scatter_add,
    scatter_reduce,
    take_along_dim,
)
from actnet.tensor._selection import (
    index_select,
    masked_select,
    narrow,
    nonzero,
    repeat_interleave,
    select,
    unique,
)
from actnet.tensor._shape import clone, transpose, unsqueeze
from actnet.tensor._sorting import SortResult, TopKResult, argsort, sort, topk
from actnet.tensor._special import (
    count_nonzero,
    digamma,
    erfinv,
    fmod,
    hypot,
    isclose,
    lgamma,
    logit,
    nan_to_num,
    xlogy,
)
from actnet.tensor._split import chunk, split, unbind
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import RemovableHandle
from actnet.tensor._variance import std, std_mean, var, var_mean
from actnet.tensor._version import __version__
from actnet.tensor._views import writable_buffer

__all__ = [
    "AccumulateGrad",
    "CaptureError",
    "CompiledFunction",
    "CumResult",
    "Function",
    "FunctionCtx",
    "Generator",
    "GradcheckError",
    "MedianResult",
    "MemoryBudgetError",
    "Node",
    "Recomputed",
    "RemovableHandle",
    "SortResult",
    "StepMemoryPlan",
    "Tensor",
    "TopKResult",
    "__version__",
    "abs",
    "acos",
    "add",
    "addmm",
    "addmv",
    "all",
    "allclose",
    "amax",
    "amin",
    "amp",
    "any",
    "apply_in_place",
    "arange",
    "argmax",
    "argmin",
    "argsort",
    "as_dtype",
    "as_tensor",
    "asin",
    "atan",
    "atan2",
    "autocast",
    "autocast_decrement_nesting",
    "autocast_increment_nesting",
    "backends",
    "backward",
    "baddbmm",
    "bernoulli",
    "bfloat16",
    "bmm",
    "bool",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "bucketize",
    "cat",
    "cdist",
    "cdouble",
    "ceil",
    "cfloat",
    "chunk",
    "clamp",
    "clear_autocast_cache",
    "clip",
    "clone",
    "compile",
    "complex64",
    "complex128",
    "cos",
    "cosh",
    "count_nonzero",
    "cpu",
    "cuda",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "device",
    "diag",
    "diagonal",
    "diff",
    "digamma",
    "distributions",
    "div",
    "dot",
    "double",
    "einsum",
    "empty",
    "empty_like",
    "enable_grad",
    "eq",
    "equal",
    "erf",
    "erfinv",
    "exp",
    "explain_saved_memory",
    "expm1",
    "eye",
    "finfo",
    "flatten",
    "flip",
    "float",
    "float16",
    "float32",
    "float64",
    "floor",
    "fmod",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "gather",
    "ge",
    "get_autocast_cpu_dtype",
    "get_autocast_dtype",
    "get_default_dtype",
    "get_float32_matmul_precision",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gt",
    "half",
    "hstack",
    "hypot",
    "iinfo",
    "index_fill",
    "index_put",
    "index_select",
    "inference_mode",
    "initial_seed",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_autocast_cache_enabled",
    "is_autocast_cpu_enabled",
    "is_autocast_enabled",
    "is_floating_point",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_tensor",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "kron",
    "le",
    "lerp",
    "lgamma",
    "linspace",
    "log",
    "log1p",
    "log2",
    "log10",
    "logcumsumexp",
    "logit",
    "logsumexp",
    "long",
    "lt",
    "manual_seed",
    "masked_fill",
    "masked_select",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "meshgrid",
    "min",
    "minimum",
    "mm",
    "mul",
    "multinomial",
    "mv",
    "nan_to_num",
    "narrow",
    "ne",
    "neg",
    "no_grad",
    "nonzero",
    "norm",
    "normal",
    "numel",
    "ones",
    "ones_like",
    "outer",
    "poisson",
    "pow",
    "prod",
    "queue_callback",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "reciprocal",
    "register_function",
    "register_namespace",
    "remainder",
    "repeat_interleave",
    "reshape",
    "roll",
    "round",
    "rsqrt",
    "saved_tensors_hooks",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "searchsorted",
    "select",
    "set_autocast_cache_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
    "set_default_dtype",
    "set_float32_matmul_precision",
    "set_grad_enabled",
    "short",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "std_mean",
    "sub",
    "sum",
    "take_along_dim",
    "tanh",
    "tensor",
    "tensordot",
    "topk",
    "trace",
    "transpose",
    "tril",
    "tril_indices",
    "triu",
    "triu_indices",
    "trunc",
    "uint8",
    "unbind",
    "unique",
    "unsqueeze",
    "var",
    "var_mean",
    "vstack",
    "where",
    "writable_buffer",
    "xlogy",
    "zeros",
    "zeros_like",
]


if TYPE_CHECKING:  # loaded on first use: see __getattr__
    from actnet.ndarray import bfloat16


def __getattr__(name: str) -> Any:
    """`bfloat16`, loaded on first use (ml_dtypes: 0.6 s, see actnet.device);
    `torch.nn`, `torch.optim`, `torch.utils` for code ported by its imports:
    the layers above register them (actnet.tensor._namespaces)."""
    if name == "bfloat16":
        return actnet.ndarray.bfloat16
    return _lookup_namespace(name)
