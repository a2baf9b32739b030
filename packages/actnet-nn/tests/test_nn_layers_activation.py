"""Activation layers and MultiheadAttention against NumPy oracles, with
gradients by central differences, repr text and bad arguments."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn

_erf = np.vectorize(math.erf)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS: list[tuple[nn.Module, Callable[[np.ndarray], np.ndarray], str]] = [
    (nn.ReLU(), lambda x: np.maximum(x, 0), "ReLU()"),
    (
        nn.LeakyReLU(),
        lambda x: np.where(x > 0, x, 0.01 * x),
        "LeakyReLU(negative_slope=0.01)",
    ),
    (
        nn.LeakyReLU(0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        "LeakyReLU(negative_slope=0.2)",
    ),
    (
        nn.ELU(alpha=0.5),
        lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
        "ELU(alpha=0.5)",
    ),
    (
        nn.GELU(),
        lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
        "GELU(approximate='none')",
    ),
    (
        nn.GELU(approximate="tanh"),
        lambda x: (
            0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        ),
        "GELU(approximate='tanh')",
    ),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x)), "SiLU()"),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x)), "Sigmoid()"),
    (nn.Tanh(), np.tanh, "Tanh()"),
    (
        nn.Softplus(),
        lambda x: np.log1p(np.exp(x)),
        "Softplus(beta=1.0, threshold=20.0)",
    ),
    (
        nn.Softplus(beta=2.0, threshold=1.0),
        lambda x: np.where(2 * x > 1.0, x, np.log1p(np.exp(2 * x)) / 2),
        "Softplus(beta=2.0, threshold=1.0)",
    ),
    (nn.Softmax(dim=1), lambda x: _softmax(x, 1), "Softmax(dim=1)"),
    (nn.Softmax(dim=-1), lambda x: _softmax(x, -1), "Softmax(dim=-1)"),
    (nn.LogSoftmax(dim=0), lambda x: np.log(_softmax(x, 0)), "LogSoftmax(dim=0)"),
]


@pytest.mark.parametrize(
    ("layer", "oracle", "text"), ACTIVATIONS, ids=[a[2] for a in ACTIVATIONS]
)
def test_activation_matches_numpy(
    layer: nn.Module, oracle: Callable[[np.ndarray], np.ndarray], text: str
) -> None:
    # values away from the kinks at 0 and 0.5 (softplus threshold) for the gradients
    x = np.random.default_rng(0).uniform(0.1, 2.0, (3, 4)) * np.array([1, -1, 1, -1])
    out = layer(at.tensor(x))
    np.testing.assert_allclose(to_numpy(out), oracle(x), rtol=1e-10, atol=1e-12)
    assert repr(layer) == text
    assert list(layer.state_dict()) == []
    check_module_grads(layer, [x])


def test_activation_keeps_float32() -> None:
    out = nn.GELU()(at.randn(2, 3))
    assert out.dtype == at.float32


INPLACE: list[tuple[Callable[[bool], nn.Module], str]] = [
    (lambda inplace: nn.ReLU(inplace), "ReLU(inplace=True)"),
    (
        lambda inplace: nn.LeakyReLU(0.2, inplace),
        "LeakyReLU(negative_slope=0.2, inplace=True)",
    ),
    (lambda inplace: nn.ELU(0.5, inplace=inplace), "ELU(alpha=0.5, inplace=True)"),
    (lambda inplace: nn.SiLU(inplace=inplace), "SiLU(inplace=True)"),
]


@pytest.mark.parametrize(("make", "text"), INPLACE, ids=[t for _, t in INPLACE])
def test_inplace_activation_overwrites_its_input(
    make: Callable[[bool], nn.Module], text: str
) -> None:
    """inplace=True: the input itself is changed and returned, with the values
    of inplace=False; the repr is torch's."""
    x = np.random.default_rng(1).standard_normal((3, 4))
    expected = to_numpy(make(False)(at.tensor(x)))
    t = at.tensor(x)
    layer = make(True)
    assert layer.inplace is True and repr(layer) == text
    out = layer(t)
    assert out is t
    np.testing.assert_array_equal(to_numpy(t), expected)


@pytest.mark.parametrize(("make", "text"), INPLACE, ids=[t for _, t in INPLACE])
def test_inplace_activation_gradients(
    make: Callable[[bool], nn.Module], text: str
) -> None:
    """Behind a Linear (a leaf input cannot be changed in place): the
    gradients of the input and of the parameters by central differences, and
    equal to those of inplace=False."""
    at.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3, dtype=at.float64), make(True))
    x = np.random.default_rng(2).standard_normal((5, 4))
    check_module_grads(model, [x])
    copy = nn.Sequential(nn.Linear(4, 3, dtype=at.float64), make(False))
    copy.load_state_dict(model.state_dict())
    grads = []
    for m in (model, copy):
        m.zero_grad()
        xt = at.tensor(x, requires_grad=True)
        m(xt).square().sum().backward()
        grads.append([to_numpy(xt.grad)] + [to_numpy(p.grad) for p in m.parameters()])
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_inplace_activation_refusals_follow_torch() -> None:
    leaf = at.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        nn.ReLU(inplace=True)(leaf)
    with at.no_grad():  # allowed outside the graph, as in torch
        assert nn.LeakyReLU(0.1, True)(leaf) is leaf
    x = at.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = y * y  # saves y
    nn.ReLU(True)(y)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()
    with pytest.raises(TypeError, match="ReLU: inplace must be a bool"):
        nn.ReLU(inplace="yes")  # type: ignore[arg-type]  # wrong on purpose
    assert repr(nn.ReLU()) == "ReLU()" and repr(nn.SiLU(False)) == "SiLU()"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: nn.GELU(approximate="fast"), ValueError),
        (lambda: nn.LeakyReLU("0.1"), TypeError),
        (lambda: nn.Softmax(dim=1.5), TypeError),
        (lambda: nn.Softplus(beta=None), TypeError),
    ],
)
def test_activation_bad_arguments(
    make: Callable[[], Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        make()


def test_softmax_without_dim_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match="dim"):
        out = nn.Softmax()(at.zeros(2, 4))
    np.testing.assert_allclose(to_numpy(out), 0.25)
    assert repr(nn.Softmax()) == "Softmax(dim=None)"


# ------------------------------------------------------------ MultiheadAttention
def _mha_oracle(
    mha: nn.MultiheadAttention,
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Batch-first (N, L, E) inputs; mask (L, S) additive. Returns the output and
    per-head weights (N, H, L, S)."""
    e, h = mha.embed_dim, mha.num_heads
    state = {name: to_numpy(t) for name, t in mha.state_dict().items()}
    if "in_proj_weight" in state:
        wq, wk, wv = np.split(state["in_proj_weight"], 3)
    else:
        wq, wk, wv = (
            state["q_proj_weight"],
            state["k_proj_weight"],
            state["v_proj_weight"],
        )
    bq, bk, bv = np.split(state.get("in_proj_bias", np.zeros(3 * e)), 3)
    qp, kp, vp = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    n, length, _ = q.shape
    d = e // h

    def heads(x: np.ndarray) -> np.ndarray:
        return x.reshape(n, x.shape[1], h, d).transpose(0, 2, 1, 3)

    scores = heads(qp) @ heads(kp).transpose(0, 1, 3, 2) / math.sqrt(d)
    if mask is not None:
        scores = scores + mask
    weights = _softmax(scores, -1)
    out = (weights @ heads(vp)).transpose(0, 2, 1, 3).reshape(n, length, e)
    out = out @ state["out_proj.weight"].T + state.get("out_proj.bias", np.zeros(e))
    return out, weights


def _mha(*args: Any, **kwargs: Any) -> nn.MultiheadAttention:
    return nn.MultiheadAttention(*args, dtype=at.float64, **kwargs)


def _randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_matches_numpy(need_weights: bool) -> None:
    mha = _mha(8, 2, batch_first=True)
    with at.no_grad():
        mha.in_proj_bias.normal_()  # type: ignore[union-attr]  # bias=True
    q, k, v = _randn(3, 4, 8, seed=1), _randn(3, 6, 8, seed=2), _randn(3, 6, 8, seed=3)
    out, weights = mha(
        at.tensor(q), at.tensor(k), at.tensor(v), need_weights=need_weights
    )
    expected, expected_w = _mha_oracle(mha, q, k, v)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10, atol=1e-12)
    if need_weights:
        assert weights is not None
        np.testing.assert_allclose(
            to_numpy(weights), expected_w.mean(1), rtol=1e-10, atol=1e-12
        )
    else:
        assert weights is None


def test_mha_sequence_first_and_unbatched_agree_with_batch_first() -> None:
    first = _mha(8, 4)
    batch_first = _mha(8, 4, batch_first=True)
    batch_first.load_state_dict(first.state_dict())
    x = _randn(2, 5, 8)
    out_bf, w_bf = batch_first(
        at.tensor(x), at.tensor(x), at.tensor(x), average_attn_weights=False
    )
    xs = at.tensor(x.transpose(1, 0, 2).copy())
    out_sf, w_sf = first(xs, xs, xs, average_attn_weights=False)
    np.testing.assert_allclose(
        to_numpy(out_sf).transpose(1, 0, 2), to_numpy(out_bf), atol=1e-12
    )
    assert w_bf is not None and w_sf is not None and w_bf.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(to_numpy(w_sf), to_numpy(w_bf), atol=1e-12)
    x0 = at.tensor(x[0])
    out_u, w_u = batch_first(x0, x0, x0)
    np.testing.assert_allclose(to_numpy(out_u), to_numpy(out_bf)[0], atol=1e-12)
    assert w_u is not None and w_u.shape == (5, 5)


def test_mha_masks_follow_torch_conventions() -> None:
    mha = _mha(8, 2, batch_first=True)
    x = _randn(2, 4, 8)
    future = np.triu(np.ones((4, 4), dtype=bool), 1)  # True: may not attend
    additive = np.where(future, -np.inf, 0.0)
    expected, _ = _mha_oracle(mha, x, x, x, additive)
    t = at.tensor(x)
    for mask in (at.tensor(future), at.tensor(additive)):
        for need_weights in (True, False):
            out, _ = mha(t, t, t, attn_mask=mask, need_weights=need_weights)
            np.testing.assert_allclose(to_numpy(out), expected, atol=1e-12)
    # is_causal is a hint: it needs attn_mask, and then gives the same answer
    out, _ = mha(
        t, t, t, attn_mask=at.tensor(future), is_causal=True, need_weights=False
    )
    np.testing.assert_allclose(to_numpy(out), expected, atol=1e-12)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(t, t, t, is_causal=True)
    # key_padding_mask (N, S): True hides that key of that batch item
    padding = np.array([[False, False, True, True], [False] * 4])
    out, weights = mha(t, t, t, key_padding_mask=at.tensor(padding))
    assert weights is not None
    np.testing.assert_array_equal(to_numpy(weights)[0, :, 2:], 0.0)
    kpm0 = np.where(padding[0], -np.inf, 0.0)
    expected0, _ = _mha_oracle(mha, x[:1], x[:1], x[:1], kpm0[None, :])
    np.testing.assert_allclose(to_numpy(out)[:1], expected0, atol=1e-12)


def test_mha_gradients() -> None:
    mha = _mha(4, 2, batch_first=True)
    x = _randn(2, 3, 4)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = mha

        def forward(self, x: at.Tensor) -> at.Tensor:
            return self.mha(x, x, x, need_weights=False)[0]

    check_module_grads(SelfAttention(), [x])
    check_module_grads(
        mha, [x, _randn(2, 5, 4, seed=4), _randn(2, 5, 4, seed=5)], wrt=(0, 1, 2)
    )


def test_mha_state_dict_keys_init_and_repr() -> None:
    mha = nn.MultiheadAttention(64, 8)
    assert list(mha.state_dict()) == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    assert repr(mha) == (
        "MultiheadAttention(\n"
        "  (out_proj): NonDynamicallyQuantizableLinear(in_features=64, "
        "out_features=64, bias=True)\n"
        ")"
    )
    # xavier_uniform_ on (3E, E): bound sqrt(6 / (E + 3E)); biases zero
    w = to_numpy(mha.in_proj_weight)
    bound = math.sqrt(6 / (64 + 192))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_array_equal(to_numpy(mha.in_proj_bias), 0.0)
    np.testing.assert_array_equal(to_numpy(mha.out_proj.bias), 0.0)
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, bias=False)
    assert list(separate.state_dict()) == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "bias_k",
        "bias_v",
        "out_proj.weight",
    ]
    assert separate.k_proj_weight is not None and separate.k_proj_weight.shape == (8, 3)


def test_mha_bias_kv_and_zero_attn_add_keys() -> None:
    mha = _mha(4, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True)
    x = at.tensor(_randn(2, 3, 4))
    out, weights = mha(x, x, x)
    assert out.shape == (2, 3, 4)
    assert weights is not None and weights.shape == (2, 3, 5)  # 3 keys + bias + zero
    np.testing.assert_allclose(to_numpy(weights).sum(-1), 1.0)


def test_mha_dropout_only_in_training() -> None:
    mha = _mha(4, 2, dropout=0.5, batch_first=True)
    x = at.tensor(_randn(2, 3, 4))
    mha.eval()
    a, _ = mha(x, x, x)
    b, _ = mha(x, x, x)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    mha.train()
    _, weights = mha(x, x, x, average_attn_weights=False)
    assert weights is not None
    w = to_numpy(weights)
    assert np.any(w == 0.0)  # 36 weights each dropped with p = 0.5


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((10, 3), {}, ValueError),
        ((8, 0), {}, ValueError),
        ((8, 2), {"dropout": 1.5}, ValueError),
        ((8, 2), {"batch_first": 1}, TypeError),
    ],
)
def test_mha_bad_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        nn.MultiheadAttention(*args, **kwargs)


def test_mha_bad_inputs() -> None:
    mha = nn.MultiheadAttention(8, 2)
    x = at.randn(5, 3, 8)
    with pytest.raises(ValueError, match="embedding dimension"):
        mha(at.randn(5, 3, 6), x, x)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=at.zeros(4, 4))
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=at.zeros(5, 3, dtype=at.bool))
    with pytest.raises(TypeError, match="attn_mask"):
        mha(x, x, x, attn_mask=at.zeros(5, 5, dtype=at.int64))


def _train_inplace_mlp(compiled: bool) -> tuple[list[float], list[np.ndarray]]:
    """Four SGD steps of an MLP with in-place activations and dropout, eager or
    captured by at.compile: the losses and the parameters after."""
    rng = np.random.default_rng(0)
    data = [
        (at.tensor(rng.standard_normal((5, 6))), at.tensor(rng.integers(0, 3, 5)))
        for _ in range(4)
    ]
    at.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 8, dtype=at.float64),
        nn.ReLU(True),
        nn.Linear(8, 8, dtype=at.float64),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Dropout(0.3, inplace=True),
        nn.Linear(8, 3, dtype=at.float64),
    )
    opt = nn.optim.SGD(model.parameters(), lr=0.1)

    def step(x: at.Tensor, y: at.Tensor) -> at.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    at.manual_seed(1)
    if compiled:
        captured = at.compile(step)
        losses = [float(captured(x, y).item()) for x, y in data]
        assert captured.replays == 2  # call 1 eager, call 2 records, 3 and 4 replay
    else:
        losses = [float(step(x, y).item()) for x, y in data]
    return losses, [to_numpy(p) for p in model.parameters()]


def test_inplace_layers_in_a_captured_step_equal_eager() -> None:
    """ReLU(True), LeakyReLU(inplace=True) and Dropout(inplace=True) in a step
    captured by at.compile: the eager step's losses and parameters, bitwise
    (the eager step is the oracle)."""
    losses, params = _train_inplace_mlp(compiled=False)
    losses_, params_ = _train_inplace_mlp(compiled=True)
    assert losses_ == losses
    for ours, theirs in zip(params_, params, strict=True):
        np.testing.assert_array_equal(ours, theirs)
