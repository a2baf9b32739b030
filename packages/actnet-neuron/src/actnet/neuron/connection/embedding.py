"""embedding: rows of a weight table, looked up by index."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, no_grad

_OP = "embedding"


class Embedding(Function):
    """out[..., :] = weight[input[...], :]. Backward keeps the indices only: the
    gradient of a row is the sum of the gradients of its lookups (repeated
    indices accumulate), none for padding_idx, each divided by the row's count
    in the batch with scale_grad_by_freq."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        weight: Tensor,
        padding_idx: int | None,
        scale_grad_by_freq: bool,
    ) -> Tensor:
        w = weight.array
        flat = xp.reshape(input.array, (-1,))
        rows = xp.take(w, flat, axis=0)
        if ctx.needs_input_grad[1]:
            ctx.parts = (flat, w.shape, padding_idx, scale_grad_by_freq)
        return as_tensor(xp.reshape(rows, (*input.shape, w.shape[1])))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        flat, shape, padding_idx, scale_grad_by_freq = ctx.parts
        g = xp.reshape(grad.array, (-1, shape[1]))
        if scale_grad_by_freq:
            counts = xp.zeros(shape[0], dtype=g.dtype, device=g.device)
            counts = counts.at[flat].add(1.0)
            g = g / xp.expand_dims(xp.take(counts, flat), axis=1)
        if padding_idx is not None:
            pad = xp.expand_dims(flat == padding_idx, axis=1)
            g = xp.where(pad, 0.0, g)
        table = xp.zeros(shape, dtype=g.dtype, device=g.device)
        return None, as_tensor(table.at[flat].add(g)), None, None


def embedding(
    input: Tensor,  # torch's names
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of `weight` (num_embeddings, embedding_dim) at the integer indices
    `input` (any shape): the result has shape (*input.shape, embedding_dim)
    (torch.nn.functional.embedding).

    The row `padding_idx` gets no gradient; with `scale_grad_by_freq` each row's
    gradient is divided by its count in `input`. With max_norm, every row that
    `input` looks up whose norm_type-norm is above max_norm is first scaled, in
    place and unrecorded, to norm max_norm (`renorm_rows`, as torch's
    embedding_renorm_). Sparse gradients are not supported (actnet has no
    sparse tensors).

    >>> embedding(tensor([[0, 2]]), tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
    tensor([[[0., 1.],
              [4., 5.]]])
    """
    check_tensor(input, _OP, "input", kinds="iu")
    check_tensor(weight, _OP, "weight", kinds="fc")
    if weight.ndim != 2:
        raise ValueError(
            f"{_OP}: weight must be 2-d (num_embeddings, embedding_dim), got shape "
            f"{weight.shape}"
        )
    num = weight.shape[0]
    padding_idx = table_options(_OP, num, padding_idx, sparse)
    # The device checks the bounds too (inside a captured step, only it does:
    # there, it checks each replay's indices; here, the message is the layer's).
    if input.numel() and not input.device.capturing:
        low, high = int(xp.min(input.array)), int(xp.max(input.array))
        if low < 0 or high >= num:
            bad = low if low < 0 else high
            raise IndexError(
                f"{_OP}: index {bad} in input is out of range for {num} embeddings"
            )
    if max_norm is not None:
        renorm_rows(weight, input.array, max_norm, norm_type, _OP)
    result: Tensor = Embedding.apply(
        input, weight, padding_idx, bool(scale_grad_by_freq)
    )
    return result


def table_options(op: str, num: int, padding_idx: Any, sparse: Any) -> int | None:
    """padding_idx checked (an int in [-num, num)) and made non-negative, for a
    table of `num` rows; sparse=True refused (actnet has no sparse tensors).
    What embedding and embedding_bag check alike; `op` names the caller."""
    if sparse:
        raise NotImplementedError(
            f"{op}: sparse=True is not supported (there are no sparse gradients); "
            "use sparse=False"
        )
    if padding_idx is None:
        return None
    if type(padding_idx) is not int or not -num <= padding_idx < num:
        raise ValueError(
            f"{op}: padding_idx must be within the number of embeddings, "
            f"{-num} through {num - 1}, but got {padding_idx!r}"
        )
    return padding_idx % num


def renorm_rows(
    weight: Tensor, indices: NDArray, max_norm: Any, norm_type: Any, op: str
) -> None:
    """Scale, in place and unrecorded, the rows of weight that `indices` (in
    range) looks up and whose norm_type-norm is above max_norm, to norm max_norm
    (torch.embedding_renorm_: the factor max_norm / (norm + 1e-7)): what
    embedding and embedding_bag do with max_norm. `op` names the caller."""
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    if indices.size == 0:
        return
    rows = xp.unique_values(xp.reshape(indices, (-1,)))
    table = weight.array
    picked = xp.take(table, rows, axis=0)
    norms = xp.linalg.vector_norm(picked, ord=norm_type, axis=1, keepdims=True)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), xp.ones_like(norms))
    with no_grad():
        weight.copy_(table.at[rows].set(picked * scale))
