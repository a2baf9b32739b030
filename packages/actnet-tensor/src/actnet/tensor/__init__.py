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

from actnet.ndarray import (
    bfloat16,
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
from actnet.tensor._arithmetic import matmul
from actnet.tensor._copy_on_write import writable_buffer
from actnet.tensor._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    from_dlpack,
    from_numpy,
    full,
    full_like,
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
from actnet.tensor._einsum import einsum
from actnet.tensor._engine import backward, grad
from actnet.tensor._function import Function, FunctionCtx
from actnet.tensor._grad_mode import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from actnet.tensor._gradcheck import GradcheckError, gradcheck, gradgradcheck
from actnet.tensor._graph import AccumulateGrad, Node
from actnet.tensor._indexing import cat, gather, stack
from actnet.tensor._masking import masked_fill, tril, triu
from actnet.tensor._math import abs, exp, log, pow, sqrt, where  # PyTorch's names
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
from actnet.tensor._promotion import as_dtype
from actnet.tensor._random import (
    initial_seed,
    manual_seed,
    multinomial,
    randint,
    randperm,
)
from actnet.tensor._reductions import argmax, argmin, max, mean, min, sum
from actnet.tensor._saved import saved_tensors_hooks
from actnet.tensor._sorting import SortResult, TopKResult, argsort, sort, topk
from actnet.tensor._split import chunk, split, unbind
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import RemovableHandle
from actnet.tensor._variance import std, var
from actnet.tensor._version import __version__

__all__ = [
    "AccumulateGrad",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Node",
    "RemovableHandle",
    "SortResult",
    "Tensor",
    "TopKResult",
    "__version__",
    "abs",
    "arange",
    "argmax",
    "argmin",
    "argsort",
    "as_dtype",
    "as_tensor",
    "backward",
    "bfloat16",
    "bool",
    "cat",
    "cdouble",
    "ceil",
    "cfloat",
    "chunk",
    "clamp",
    "clip",
    "complex64",
    "complex128",
    "cos",
    "double",
    "einsum",
    "empty",
    "empty_like",
    "enable_grad",
    "erf",
    "exp",
    "expm1",
    "float",
    "float16",
    "float32",
    "float64",
    "floor",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "gather",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "half",
    "initial_seed",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "log",
    "log1p",
    "long",
    "manual_seed",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multinomial",
    "no_grad",
    "ones",
    "ones_like",
    "pow",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "round",
    "rsqrt",
    "saved_tensors_hooks",
    "set_grad_enabled",
    "short",
    "sigmoid",
    "sign",
    "sin",
    "sort",
    "split",
    "sqrt",
    "stack",
    "std",
    "sum",
    "tanh",
    "tensor",
    "topk",
    "tril",
    "triu",
    "uint8",
    "unbind",
    "var",
    "where",
    "writable_buffer",
    "zeros",
    "zeros_like",
]
