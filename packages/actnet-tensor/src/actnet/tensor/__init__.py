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

# Tensor first: the modules of its operations import it (and it imports them last).
from actnet.tensor._tensor import RemovableHandle, Tensor  # isort: skip

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
from actnet.tensor._autograd import AccumulateGrad, Node, backward, grad
from actnet.tensor._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
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
from actnet.tensor._function import Function, FunctionCtx
from actnet.tensor._grad_mode import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from actnet.tensor._gradcheck import GradcheckError, gradcheck, gradgradcheck
from actnet.tensor._inplace import writable_buffer
from actnet.tensor._ops import (
    abs,  # PyTorch's names
    cat,
    clamp,
    exp,
    gather,
    log,
    matmul,
    max,
    mean,
    min,
    pow,
    sqrt,
    stack,
    sum,
    where,
)
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
