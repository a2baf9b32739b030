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
from actnet.tensor._math import abs, clamp, exp, log, pow, sqrt, where  # PyTorch's
from actnet.tensor._promotion import as_dtype
from actnet.tensor._reductions import max, mean, min, sum  # names
from actnet.tensor._saved import saved_tensors_hooks
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import RemovableHandle
from actnet.tensor._version import __version__

__all__ = [
    "AccumulateGrad",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Node",
    "RemovableHandle",
    "Tensor",
    "__version__",
    "abs",
    "arange",
    "as_dtype",
    "as_tensor",
    "backward",
    "bfloat16",
    "bool",
    "cat",
    "clamp",
    "complex64",
    "complex128",
    "empty",
    "empty_like",
    "enable_grad",
    "exp",
    "float16",
    "float32",
    "float64",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "gather",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "log",
    "matmul",
    "max",
    "mean",
    "min",
    "no_grad",
    "ones",
    "ones_like",
    "pow",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "saved_tensors_hooks",
    "set_grad_enabled",
    "sqrt",
    "stack",
    "sum",
    "tensor",
    "uint8",
    "where",
    "writable_buffer",
    "zeros",
    "zeros_like",
]
