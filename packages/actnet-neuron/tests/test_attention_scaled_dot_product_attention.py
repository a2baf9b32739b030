from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at
from actnet.device import get_device, manual_seed


def attention_reference(
    q: Any,
    k: Any,
    v: Any,
    mask: Any = None,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Any:
    """softmax(q k^T * scale + mask) v; a fully masked row gives zeros."""
    if enable_gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), dtype=bool))
    if mask is not None and mask.dtype == bool:
        scores = np.where(mask, scores, -np.inf)
    elif mask is not None:
        scores = scores + mask
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isinf(top), 0.0, top))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1.0, total) @ v


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def _with_bool_mask(rng: np.random.Generator) -> list[Any]:
    mask = rng.random((4, 5)) > 0.4
    mask[1] = False  # a query that sees no key
    mask[:, 0] |= np.arange(4) != 1
    return [
        rng.standard_normal((2, 2, 4, 3)),
        rng.standard_normal((2, 2, 5, 3)),
        rng.standard_normal((2, 2, 5, 2)),
        mask,
    ]


def _seeded(F: Any, q: Any, k: Any, v: Any) -> Any:
    manual_seed(7)  # the same dropout mask on every call: gradcheck can compare
    return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)


SDPA = "scaled_dot_product_attention"

CASES = [
    Case(
        "self-attention, (B, H, L, E)",
        _normal((2, 3, 4, 5), (2, 3, 4, 5), (2, 3, 4, 5)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v),
        attention_reference,
        differentiable=(0, 1, 2),
    ),
    Case(
        "cross-attention: L != S, Ev != E, scale given",
        _normal((1, 2, 3, 4), (1, 2, 6, 4), (1, 2, 6, 2)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
        lambda q, k, v: attention_reference(q, k, v, scale=0.3),
        differentiable=(0, 1, 2),
    ),
    Case(
        "causal, L < S (top-left aligned)",
        _normal((2, 1, 3, 4), (2, 1, 5, 4), (2, 1, 5, 3)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: attention_reference(q, k, v, is_causal=True),
        differentiable=(0, 1, 2),
    ),
    Case(
        "causal, L > S",
        _normal((1, 2, 5, 3), (1, 2, 3, 3), (1, 2, 3, 3)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, None, 0.0, True),
        lambda q, k, v: attention_reference(q, k, v, is_causal=True),
        differentiable=(0, 1, 2),
    ),
    Case(
        "bool mask (L, S), broadcast, with a fully masked query",
        _with_bool_mask,
        lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        attention_reference,
        differentiable=(0, 1, 2),
    ),
    Case(
        "additive float mask (H, 1, S), differentiable",
        _normal((2, 3, 4, 3), (2, 3, 5, 3), (2, 3, 5, 3), (3, 1, 5)),
        lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
        attention_reference,
        differentiable=(0, 1, 2, 3),
    ),
    Case(
        "grouped-query attention (enable_gqa)",
        _normal((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: attention_reference(q, k, v, enable_gqa=True),
        differentiable=(0, 1, 2),
    ),
    Case(
        "broadcast batch: one key and value for every batch",
        _normal((3, 2, 4, 3), (1, 2, 5, 3), (2, 5, 3)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v),
        attention_reference,
        differentiable=(0, 1, 2),
    ),
    Case(
        "unbatched (L, E)",
        _normal((4, 3), (5, 3), (5, 2)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: attention_reference(q, k, v, is_causal=True),
        differentiable=(0, 1, 2),
    ),
    Case(
        "non-contiguous (B, L, H, E) inputs, transposed to (B, H, L, E)",
        _normal((2, 4, 2, 3), (2, 4, 2, 3), (2, 4, 2, 3)),
        lambda F, q, k, v: F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        ),
        lambda q, k, v: attention_reference(
            q.transpose(0, 2, 1, 3),
            k.transpose(0, 2, 1, 3),
            v.transpose(0, 2, 1, 3),
            is_causal=True,
        ),
        differentiable=(0, 1, 2),
    ),
    Case(
        "causal, L = S = 70: across the fused kernel's blocks of 64 keys",
        _normal((1, 2, 70, 4), (1, 2, 70, 4), (1, 2, 70, 3)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: attention_reference(q, k, v, is_causal=True),
        differentiable=(0, 1, 2),
    ),
    Case(
        "cross-attention over blocks, L = 67 < S = 130, causal",
        _normal((1, 1, 67, 3), (1, 1, 130, 3), (1, 1, 130, 2)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: attention_reference(q, k, v, is_causal=True),
        differentiable=(0, 1, 2),
    ),
    Case(
        "double backward, causal",
        _normal((1, 1, 3, 2), (1, 1, 3, 2), (1, 1, 3, 2)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: attention_reference(q, k, v, is_causal=True),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
    Case(
        "double backward, additive mask",
        _normal((1, 2, 2), (1, 3, 2), (1, 3, 2), (2, 3)),
        lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
        attention_reference,
        differentiable=(0, 1, 2, 3),
        double_backward=True,
    ),
    Case(
        "dropout, the mask fixed by the seed (gradients only)",
        _normal((1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 3)),
        _seeded,
        None,
        differentiable=(0, 1, 2),
        tags={"random"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_scaled_dot_product_attention(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", [c for c in CASES if c.expected], ids=str)
def test_scaled_dot_product_attention_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_dropout_zeroes_probabilities_and_scales_the_rest() -> None:
    rng = np.random.default_rng(3)
    q, k = (
        at.tensor(rng.standard_normal((64, 8))),
        at.tensor(rng.standard_normal((64, 8))),
    )
    eye = at.tensor(np.eye(64))  # value = identity: the output is the weights
    probs = F.scaled_dot_product_attention(q, k, eye).numpy()
    manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.3).numpy()
    zero = dropped == 0
    assert 0.25 < zero.mean() < 0.35
    np.testing.assert_allclose(dropped[~zero], probs[~zero] / 0.7, rtol=1e-12)
    assert not np.any(F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy())


def test_scaled_dot_product_attention_refuses_bad_arguments() -> None:
    q = at.randn(2, 3, 4)
    with pytest.raises(TypeError, match=f"{SDPA}: key must be a Tensor"):
        F.scaled_dot_product_attention(q, None, q)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="query's and key's last dimensions"):
        F.scaled_dot_product_attention(q, at.randn(2, 3, 5), q)
    with pytest.raises(ValueError, match="key and value must have the same sequence"):
        F.scaled_dot_product_attention(q, q, at.randn(2, 4, 4))
    with pytest.raises(TypeError, match=f"{SDPA}: value has dtype float64"):
        F.scaled_dot_product_attention(q, q, q.double())
    with pytest.raises(TypeError, match="attn_mask must be bool, float32 or of que"):
        F.scaled_dot_product_attention(q, q, q, at.zeros(3, 3).double())
    with pytest.raises(TypeError, match="attn_mask must have a floating, bool dtype"):
        F.scaled_dot_product_attention(q, q, q, at.zeros(3, 3).long())
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 4\) does not"):
        F.scaled_dot_product_attention(q, q, q, at.zeros(3, 4))
    with pytest.raises(ValueError, match="attn_mask and is_causal=True cannot both"):
        F.scaled_dot_product_attention(q, q, q, at.zeros(3, 3), is_causal=True)
    with pytest.raises(ValueError, match=f"{SDPA}: dropout_p must be in"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(ValueError, match=r"query's heads .3. must be a multiple"):
        F.scaled_dot_product_attention(
            at.randn(1, 3, 2, 4),
            at.randn(1, 2, 2, 4),
            at.randn(1, 2, 2, 4),
            enable_gqa=True,
        )


def test_a_float32_mask_applies_to_a_float64_query_as_its_values() -> None:
    # PyTorch takes a float32 attn_mask with a query of any dtype (the
    # word_language_model's log(tril(ones)) mask in a model made double)
    rng = np.random.default_rng(4)
    q, k, v = (
        at.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in "qkv"
    )
    values = np.where(np.tril(np.ones((3, 3))) > 0, 0.0, -np.inf).astype(np.float32)
    single = F.scaled_dot_product_attention(q, k, v, at.tensor(values))
    double = F.scaled_dot_product_attention(q, k, v, at.tensor(values, dtype="float64"))
    assert single.dtype == np.float64
    np.testing.assert_array_equal(single.detach().numpy(), double.detach().numpy())
    single.sum().backward()
    assert q.grad is not None and q.grad.dtype == np.float64


def test_without_mask_or_dropout_the_fused_operators_run() -> None:
    """No attn_mask and dropout_p = 0 (causal or not): the device's fused sdpa,
    whose backward keeps q, k, v, the output and the log-sum-exp; a mask,
    dropout or broadcast batch axes keep the composition."""
    q = at.randn(2, 3, 6, 4, requires_grad=True)
    k = at.randn(2, 3, 6, 4, requires_grad=True)
    for causal in (False, True):
        out = F.scaled_dot_product_attention(q, k, k, is_causal=causal)
        assert out.grad_fn.name() == "FusedScaledDotProductAttentionBackward"
    mask = at.ones(6, 6, dtype=at.bool)
    composed = [
        F.scaled_dot_product_attention(q, k, k, attn_mask=mask),
        F.scaled_dot_product_attention(q, k, k, dropout_p=0.5),
        F.scaled_dot_product_attention(q, k[:1], k[:1]),
    ]
    for out in composed:
        assert out.grad_fn.name() == "ScaledDotProductAttentionBackward"


def test_the_fused_path_keeps_no_scores() -> None:
    """Forward and backward at L = S = 1024: the device's peak stays below half
    the (L, S) float32 probabilities the composition keeps for backward (it holds
    the inputs, outputs and gradients, and the backward's per-group parts of dq)."""
    length = 1024
    device = get_device("cpu")
    q, k, v = (at.randn(1, 1, length, 16, requires_grad=True) for _ in range(3))
    device.reset_peak_memory_stats()
    before = device.memory_stats().used_bytes
    F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
    peak = device.memory_stats().peak_bytes - before
    assert peak < length * length * 4 // 2, peak
