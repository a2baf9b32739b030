"""In-place pointwise math: exp_, sigmoid_, tanh_, pow_, abs_, neg_, sqrt_,
log_, by the rules of _inplace.py; and apply_in_place, the same rules for an
operation defined above actnet.tensor (actnet.neuron's relu(inplace=True)).

Each computes the out-of-place operation and then either writes the values
into the tensor's own device buffer (when nothing else holds it: copy-on-write
through `sole_buffer`) or rebinds `.data`; the version counter goes up. When
the graph is recorded, the tensor's history is rebased onto the operation; on
a leaf that requires grad it is an error outside no_grad(). A result of
another dtype (exp_ of an integer tensor) is refused, as PyTorch refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from actnet.tensor._copy_on_write import sole_buffer
from actnet.tensor._elementary import neg
from actnet.tensor._graph import needs_grad
from actnet.tensor._inplace import _history, _rebase
from actnet.tensor._math import abs, exp, log, pow, sqrt
from actnet.tensor._pointwise import sigmoid, tanh
from actnet.tensor._tensor_base import Scalar, TensorBase, _make
from actnet.tensor._views import before_write, changed

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _apply_(t: Tensor, op: str, fn: Callable[[Tensor], Tensor]) -> Tensor:
    before_write(t, op)
    if needs_grad(t):
        return _rebase(t, fn(_history(t)))
    result = fn(_make(t.array)).array
    if result.dtype != t.dtype:
        raise RuntimeError(
            f"result type {result.dtype} can't be cast to the desired output type "
            f"{t.dtype}"
        )
    if result.shape != t.shape:
        raise RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    buf = sole_buffer(t)
    if buf is not None:
        buf.device.copy(result.buffer, out=buf)
    else:
        t.array = result
    return changed(t)


def apply_in_place(
    input: Tensor, fn: Callable[[Tensor], Tensor], name: str = "apply_in_place"
) -> Tensor:
    """input's values replaced by fn(input), and input returned: the in-place
    form of an out-of-place operation `fn` whose result has input's shape and
    dtype, by the rules of Tensor's in-place methods (exp_, add_, ...).

    Without a graph, the values go into input's own buffer (copy-on-write: an
    NDArray someone holds never changes). When the graph is recorded, fn is
    applied to input's history and input takes the result's history (PyTorch's
    rebase), so gradients are those of the out-of-place form; on a leaf that
    requires grad it is an error outside no_grad(). Either way input's version
    goes up: a node that saved input earlier refuses to run backward.
    `name` names the operation in errors. actnet.neuron builds its
    `inplace=True` forms on it:

    >>> x = at.tensor([-1.0, 2.0])
    >>> apply_in_place(x, lambda t: t.clamp(min=0.0), "relu_") is x
    True
    >>> x
    tensor([0., 2.])
    """
    if not isinstance(input, TensorBase):
        raise TypeError(
            f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    if not callable(fn):
        raise TypeError(f"{name}(): fn must be callable, got {type(fn).__name__}")
    return _apply_(input, name, fn)


def exp_(t: Tensor) -> Tensor:
    return _apply_(t, "exp_", exp)


def sigmoid_(t: Tensor) -> Tensor:
    return _apply_(t, "sigmoid_", sigmoid)


def tanh_(t: Tensor) -> Tensor:
    return _apply_(t, "tanh_", tanh)


def abs_(t: Tensor) -> Tensor:
    return _apply_(t, "abs_", abs)


def neg_(t: Tensor) -> Tensor:
    return _apply_(t, "neg_", neg)


def sqrt_(t: Tensor) -> Tensor:
    return _apply_(t, "sqrt_", sqrt)


def log_(t: Tensor) -> Tensor:
    return _apply_(t, "log_", log)


def pow_(t: Tensor, exponent: Tensor | Scalar) -> Tensor:
    """t ** exponent in place (an exponent that requires grad is recorded)."""
    before_write(t, "pow_")
    if needs_grad(exponent):
        return _rebase(t, pow(_history(t), exponent))
    return _apply_(t, "pow_", lambda x: pow(x, exponent))
