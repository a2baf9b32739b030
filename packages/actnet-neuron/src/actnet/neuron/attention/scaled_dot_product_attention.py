"""scaled_dot_product_attention: softmax(q k^T * scale + mask) v."""

from __future__ import annotations

import math
from typing import Any

import actnet.ndarray as xp
from actnet.device import default_generator
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, exp, is_grad_enabled, where
from actnet.tensor.amp import autocast_op

# The dtypes the fused operators (device sdpa, sdpa_backward) take here; the
# half-precision types keep the composition, which computes in their own dtype.
_FUSED_DTYPES = (xp.float32, xp.float64)


def _masked_scores(
    q: NDArray, k: NDArray, mask: NDArray | None, scale: float
) -> NDArray:
    scores = (q @ xp.matrix_transpose(k)) * scale
    if mask is None:
        return scores
    if mask.dtype == xp.bool:  # True takes part; False is -inf
        return xp.where(
            mask, scores, xp.asarray(-xp.inf, dtype=scores.dtype, device=scores.device)
        )
    return scores + mask


def _softmax(scores: NDArray) -> NDArray:
    """Softmax over the last axis; a row that is all -inf (fully masked) gives
    zeros, not NaN (PyTorch's _safe_softmax)."""
    top = xp.max(scores, axis=-1, keepdims=True)
    top = xp.where(xp.isinf(top), xp.zeros_like(top), top)
    e = xp.exp(scores - top)
    total = xp.sum(e, axis=-1, keepdims=True)
    return e / xp.where(total == 0, xp.ones_like(total), total)


def _tensor_probs(q: Tensor, k: Tensor, mask: Tensor | None, scale: float) -> Tensor:
    """The probabilities again, with differentiable operations (create_graph)."""
    scores = (q @ k.transpose(-2, -1)) * scale
    if mask is not None:
        if mask.dtype == xp.bool:
            scores = where(mask, scores, -math.inf)
        else:
            scores = scores + mask
    # subtracting a per-row constant leaves softmax unchanged: no graph for it
    top = scores.array
    top = xp.max(top, axis=-1, keepdims=True)
    top = xp.where(xp.isinf(top), xp.zeros_like(top), top)
    e = exp(scores - as_tensor(top))
    total = e.sum(-1, keepdim=True)
    return e / where(total == 0, 1.0, total)


def _sum_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """t summed over the axes that broadcasting added to `shape`."""
    if t.shape == shape:
        return t
    lead = t.ndim - len(shape)
    axes = [*range(lead)]
    axes += [lead + i for i, n in enumerate(shape) if n == 1 and t.shape[lead + i] != 1]
    return t.sum(tuple(axes), keepdim=True).reshape(shape) if axes else t.reshape(shape)


class ScaledDotProductAttention(Function):
    """softmax(q k^T * scale + mask) v over the last two axes, leading axes
    broadcast; dropout on the probabilities. Backward keeps q, k, v, the
    probabilities (L x S per head), and the scaled dropout mask; it computes the
    softmax's backward analytically, and only the gradients asked for. Under
    create_graph it recomputes the probabilities differentiably, so double
    backward is exact."""

    contracts = True  # selective checkpointing's dots_saveable keeps its output

    @staticmethod
    def forward(
        ctx: Any,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        mask: Tensor | None,
        dropout_p: float,
        scale: float,
    ) -> Tensor:
        probs = _softmax(
            _masked_scores(
                q.array, k.array, None if mask is None else mask.array, scale
            )
        )
        keep = None
        weights = probs
        if dropout_p > 0.0:
            buf = default_generator.bernoulli(
                1.0 - dropout_p, probs.shape, probs.dtype, device=probs.device
            )
            factor = 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)
            keep = from_buffer(buf) * factor
            weights = probs * keep
        ctx.save_for_backward(q, k, v, mask)
        ctx.probs = as_tensor(probs)
        ctx.keep = None if keep is None else as_tensor(keep)
        ctx.scale = scale
        return as_tensor(weights @ v.array)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        q, k, v, mask = ctx.saved_tensors
        scale: float = ctx.scale
        # under create_graph the probabilities must carry q's and k's graph
        probs = _tensor_probs(q, k, mask, scale) if is_grad_enabled() else ctx.probs
        grads = _gradients(
            grad, q, k, v, mask, probs, ctx.keep, scale, ctx.needs_input_grad
        )
        return *grads, None, None


def _gradients(
    grad: Tensor,
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None,
    probs: Tensor,
    keep: Tensor | None,
    scale: float,
    needs: tuple[bool, ...],
) -> tuple[Tensor | None, Tensor | None, Tensor | None, Tensor | None]:
    """The gradients of q, k, v and the mask asked for by `needs`, from the
    probabilities and the scaled dropout mask, with Tensor operations (so
    differentiable when the graph is recorded)."""
    weights = probs if keep is None else probs * keep
    grad_q = grad_k = grad_v = grad_mask = None
    if needs[2]:
        grad_v = _sum_to(weights.transpose(-2, -1) @ grad, v.shape)
    if needs[0] or needs[1] or needs[3]:
        grad_probs = grad @ v.transpose(-2, -1)
        if keep is not None:
            grad_probs = grad_probs * keep
        # softmax: dS = P * (dP - sum(dP * P) over the row)
        grad_scores = probs * (grad_probs - (grad_probs * probs).sum(-1, keepdim=True))
        if needs[3] and mask is not None:
            grad_mask = _sum_to(grad_scores, mask.shape)
        grad_scores = grad_scores * scale
        if needs[0]:
            grad_q = _sum_to(grad_scores @ k, q.shape)
        if needs[1]:
            grad_k = _sum_to(grad_scores.transpose(-2, -1) @ q, k.shape)
    return grad_q, grad_k, grad_v, grad_mask


class FusedScaledDotProductAttention(Function):
    """softmax(q k^T * scale) v, causal or not, with no mask and no dropout, by
    the device's fused operators (FlashAttention on `cpu`: the L x S scores never
    exist in full). q, k and v share their leading shape. Backward keeps q, k,
    v, the output and each query's log-sum-exp, not the probabilities, and is
    the device's sdpa_backward; under create_graph it recomputes the
    probabilities with Tensor operations instead, so double backward is exact."""

    contracts = True  # selective checkpointing's dots_saveable keeps its output

    @staticmethod
    def forward(
        ctx: Any, q: Tensor, k: Tensor, v: Tensor, causal: bool, scale: float
    ) -> Tensor:
        qb, kb, vb = (buffer_of(t.array) for t in (q, k, v))
        out_buf, lse = qb.device.sdpa(qb, kb, vb, causal, scale)
        out = as_tensor(from_buffer(out_buf))
        if True in ctx.needs_input_grad:
            ctx.save_for_backward(q, k, v, out)
            ctx.lse = lse
            ctx.causal = causal
            ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        q, k, v, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        causal: bool = ctx.causal
        if is_grad_enabled():
            mask = _causal_mask(q, k) if causal else None
            probs = _tensor_probs(q, k, mask, ctx.scale)
            grads = _gradients(grad, q, k, v, mask, probs, None, ctx.scale, needs)
            return *grads[:3], None, None
        g, qb, kb, vb, ob = (buffer_of(t.array) for t in (grad, q, k, v, out))
        dq, dk, dv = qb.device.sdpa_backward(
            g, qb, kb, vb, ob, ctx.lse, causal, ctx.scale
        )
        return (
            as_tensor(from_buffer(dq)) if needs[0] else None,
            as_tensor(from_buffer(dk)) if needs[1] else None,
            as_tensor(from_buffer(dv)) if needs[2] else None,
            None,
            None,
        )


def _causal_mask(q: Tensor, k: Tensor) -> Tensor:
    """(L, S) bool, True where key j <= query i (top-left aligned)."""
    ones = xp.ones((q.shape[-2], k.shape[-2]), dtype=xp.bool, device=q.device)
    return as_tensor(xp.tril(ones))


def _repeat_heads(t: Tensor, repeats: int) -> Tensor:
    """(..., H, S, E) -> (..., H * repeats, S, E), each head repeated in place
    (repeat_interleave on dim -3)."""
    *lead, heads, s, e = t.shape
    expanded = t.unsqueeze(-3).expand(*lead, heads, repeats, s, e)
    return expanded.reshape(*lead, heads * repeats, s, e)


@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query key^T * scale + mask) value for query (..., L, E), key
    (..., S, E), value (..., S, Ev); leading axes broadcast
    (torch.nn.functional.scaled_dot_product_attention).

    attn_mask broadcasts to (..., L, S): bool (True takes part) or added floats
    (of query's dtype, or float32 with any query, as PyTorch allows).
    is_causal masks key j > query i (top-left aligned); it excludes attn_mask.
    scale defaults to 1 / sqrt(E). dropout_p drops probabilities (with the
    default generator) and scales the rest by 1 / (1 - p). A row with every key
    masked gives zeros. enable_gqa repeats each of key's and value's heads (dim
    -3) to query's count. Without attn_mask and dropout (causal or not, float32
    or float64, one leading shape) it runs the device's fused sdpa
    (FlashAttention on `cpu`), whose backward keeps the output and one
    log-sum-exp per query instead of the (L, S) probabilities.

    >>> q = at.randn(2, 4, 5, 8)
    >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
    (2, 4, 5, 8)
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, op, name, kinds="f")
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must be at least 2-d, got shape {t.shape}")
        if t.dtype != query.dtype:
            raise TypeError(
                f"{op}: {name} has dtype {t.dtype}, query has {query.dtype}; they "
                "must match"
            )
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(
            f"{op}: query's and key's last dimensions (E) differ: {query.shape} and "
            f"{key.shape}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"{op}: key and value must have the same sequence length (dim -2), got "
            f"{key.shape} and {value.shape}"
        )
    if not isinstance(dropout_p, int | float) or not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p!r}")
    length, source = query.shape[-2], key.shape[-2]
    mask = attn_mask
    if mask is not None:
        check_tensor(mask, op, "attn_mask", kinds="fb")
        if mask.dtype not in (xp.bool, xp.float32, query.dtype):
            raise TypeError(
                f"{op}: attn_mask must be bool, float32 or of query's dtype "
                f"{query.dtype}, got {mask.dtype}"
            )
        if mask.dtype == xp.float32 and query.dtype != xp.float32:
            mask = mask.to(query.dtype)  # PyTorch takes a float32 mask with any query
        if is_causal:
            raise ValueError(f"{op}: attn_mask and is_causal=True cannot both be set")
        rows, cols = (1, 1, *mask.shape)[-2:]
        if rows not in (1, length) or cols not in (1, source):
            raise ValueError(
                f"{op}: attn_mask of shape {mask.shape} does not broadcast to "
                f"(..., L, S) = (..., {length}, {source})"
            )
    if enable_gqa:
        if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
            raise ValueError(f"{op}: enable_gqa needs a heads dimension (dim -3)")
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if value.shape[-3] != kv_heads or heads % kv_heads:
            raise ValueError(
                f"{op}: with enable_gqa, query's heads ({heads}) must be a multiple "
                f"of key's and value's ({kv_heads}, {value.shape[-3]})"
            )
        if heads != kv_heads:
            key = _repeat_heads(key, heads // kv_heads)
            value = _repeat_heads(value, heads // kv_heads)
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if (
        mask is None
        and dropout_p == 0.0
        and query.dtype in _FUSED_DTYPES
        and query.shape[:-2] == key.shape[:-2] == value.shape[:-2]
    ):
        fused: Tensor = FusedScaledDotProductAttention.apply(
            query, key, value, is_causal, factor
        )
        return fused
    if is_causal:
        mask = _causal_mask(query, key)
    out: Tensor = ScaledDotProductAttention.apply(
        query, key, value, mask, float(dropout_p), factor
    )
    return out
