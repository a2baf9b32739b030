"""RNN, LSTM, GRU and their cells: PyTorch's parameter names, shapes and
initialisation, forward against a NumPy oracle (float64), gradients of inputs,
initial states and every parameter against central differences, double
backward through the recurrence, dropout between layers, and the argument
errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import to_numpy

import actnet.device as ad
import actnet.neuron as F
import actnet.tensor as at
from actnet import nn


# ------------------------------------------------------------ NumPy oracle
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _cell(
    mode: str, x: np.ndarray, h: np.ndarray, c: np.ndarray | None, w: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray | None]:
    """One step in NumPy, written from PyTorch's documented equations."""
    gx = x @ w["ih"].T + (w["b_ih"] if w["b_ih"] is not None else 0.0)
    gh = h @ w["hh"].T + (w["b_hh"] if w["b_hh"] is not None else 0.0)
    if mode == "RNN_TANH":
        return np.tanh(gx + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gx + gh, 0.0), None
    if mode == "GRU":
        xr, xz, xn = np.split(gx, 3, axis=-1)
        hr, hz, hn = np.split(gh, 3, axis=-1)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1 - z) * n + z * h, None
    i, f, g, o = np.split(gx + gh, 4, axis=-1)
    assert c is not None
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    if w["hr"] is not None:
        h = h @ w["hr"].T
    return h, c


def oracle(
    module: Any, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(output, h_n, c_n) of a batched, eval-mode module, in NumPy."""
    p = {k: to_numpy(v) for k, v in module.state_dict().items()}
    if module.batch_first:
        x = x.transpose(1, 0, 2)
    directions = 2 if module.bidirectional else 1
    h_n, c_n = [], []
    for layer in range(module.num_layers):
        outs = []
        for d in range(directions):
            s = f"_l{layer}" + ("_reverse" if d else "")
            w = {
                "ih": p[f"weight_ih{s}"],
                "hh": p[f"weight_hh{s}"],
                "b_ih": p.get(f"bias_ih{s}"),
                "b_hh": p.get(f"bias_hh{s}"),
                "hr": p.get(f"weight_hr{s}"),
            }
            k = layer * directions + d
            h, c = h0[k], None if c0 is None else c0[k]
            steps = range(len(x) - 1, -1, -1) if d else range(len(x))
            out = [np.empty(0)] * len(x)
            for t in steps:
                h, c = _cell(module.mode, x[t], h, c, w)
                out[t] = h
            outs.append(np.stack(out))
            h_n.append(h)
            c_n.append(c)
        x = np.concatenate(outs, axis=-1)
    if module.batch_first:
        x = x.transpose(1, 0, 2)
    cells = None if c0 is None else np.stack(c_n)
    return x, np.stack(h_n), cells


# ------------------------------------------------------------ parameters
def test_parameter_names_shapes_and_order_are_pytorchs() -> None:
    lstm = nn.LSTM(3, 8, num_layers=2, bidirectional=True, proj_size=5)
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    assert list(shapes)[:5] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_hr_l0",
    ]
    assert shapes["weight_ih_l0"] == (32, 3)
    assert shapes["weight_hh_l0_reverse"] == (32, 5)
    assert shapes["weight_ih_l1"] == (32, 10)  # 2 directions x proj_size
    assert shapes["weight_hr_l1_reverse"] == (5, 8)
    assert len(shapes) == 20
    gru = nn.GRU(3, 4, bias=False)
    assert {n: p.shape for n, p in gru.named_parameters()} == {
        "weight_ih_l0": (12, 3),
        "weight_hh_l0": (12, 4),
    }
    rnn = nn.RNN(3, 4, 1, "relu")  # nonlinearity is the fourth positional
    assert rnn.mode == "RNN_RELU" and rnn.weight_hh_l0.shape == (4, 4)
    assert list(nn.LSTMCell(3, 4).state_dict()) == [
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    ]
    assert [len(ws) for ws in lstm.all_weights] == [5, 5, 5, 5]
    assert lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse


@pytest.mark.parametrize(
    "module",
    [
        nn.LSTM(16, 64, num_layers=2),
        nn.GRU(16, 64, bidirectional=True),
        nn.RNN(16, 64, nonlinearity="relu"),
        nn.GRUCell(16, 64),
    ],
    ids=lambda m: type(m).__name__,
)
def test_initialisation_is_uniform_in_one_over_sqrt_hidden(module: Any) -> None:
    bound = 1 / math.sqrt(64)
    values = np.concatenate([to_numpy(p).ravel() for p in module.parameters()])
    assert np.abs(values).max() <= bound
    assert abs(values.mean()) < 0.05 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_repr_and_flatten_parameters() -> None:
    lstm = nn.LSTM(10, 20, 2, batch_first=True, dropout=0.5, proj_size=5)
    assert repr(lstm) == (
        "LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True, dropout=0.5)"
    )
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4)"  # as PyTorch's
    assert repr(nn.GRU(3, 4, bias=False, bidirectional=True)) == (
        "GRU(3, 4, bias=False, bidirectional=True)"
    )
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == (
        "RNNCell(3, 4, nonlinearity=relu)"
    )
    lstm.flatten_parameters()  # a no-op, as on PyTorch's CPU


# ------------------------------------------------------------ forward
def _sequence_module(kind: str, **kw: Any) -> Any:
    if kind == "relu":
        return nn.RNN(3, 4, nonlinearity="relu", dtype="float64", **kw)
    return getattr(nn, kind)(3, 4, dtype="float64", **kw)


KINDS = ["RNN", "relu", "LSTM", "GRU"]
OPTIONS = [
    {},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True, "bias": False},
    {"num_layers": 2, "batch_first": True, "bidirectional": True, "bias": False},
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_numpy(kind: str, options: dict[str, Any]) -> None:
    m = _sequence_module(kind, **options).eval()
    rng = np.random.default_rng(0)
    batch_first = options.get("batch_first", False)
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    layers = m.num_layers * (2 if m.bidirectional else 1)
    h0 = rng.standard_normal((layers, 2, 4))
    c0 = rng.standard_normal((layers, 2, 4)) if kind == "LSTM" else None
    hx = at.tensor(h0) if c0 is None else (at.tensor(h0), at.tensor(c0))
    out, state = m(at.tensor(x), hx)
    expected, h_n, c_n = oracle(m, x, h0, c0)
    h = state if c0 is None else state[0]
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(h), h_n, rtol=1e-12, atol=1e-12)
    if c0 is not None:
        np.testing.assert_allclose(to_numpy(state[1]), c_n, rtol=1e-12, atol=1e-12)


def test_lstm_projection_matches_numpy() -> None:
    m = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2, dtype="float64")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 3))
    h0, c0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 6))
    out, (h_n, c_n) = m(at.tensor(x), (at.tensor(h0), at.tensor(c0)))
    assert out.shape == (4, 3, 4) and h_n.shape == (4, 3, 2) and c_n.shape == (4, 3, 6)
    expected = oracle(m, x, h0, c0)
    for got, want in zip((out, h_n, c_n), expected, strict=True):
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_is_batch_of_one(kind: str, batch_first: bool) -> None:
    m = _sequence_module(kind, num_layers=2, batch_first=batch_first)
    x = np.random.default_rng(2).standard_normal((5, 3))
    out, state = m(at.tensor(x))
    batched, batched_state = m(at.tensor(x[None] if batch_first else x[:, None]))
    assert out.shape == (5, 4)
    np.testing.assert_array_equal(to_numpy(out), to_numpy(batched).reshape(5, 4))
    for s, b in zip(
        state if kind == "LSTM" else (state,),
        batched_state if kind == "LSTM" else (batched_state,),
        strict=True,
    ):
        assert s.shape == (2, 4)
        np.testing.assert_array_equal(to_numpy(s), to_numpy(b)[:, 0])


def test_default_initial_state_is_zeros_and_float32_runs() -> None:
    m = nn.LSTM(3, 4)
    x = at.randn(5, 2, 3)
    out, (h, c) = m(x)
    out0, (h0, c0) = m(x, (at.zeros(1, 2, 4), at.zeros(1, 2, 4)))
    assert out.dtype == at.float32
    for got, want in ((out, out0), (h, h0), (c, c0)):
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


@pytest.mark.parametrize("kind", ["RNNCell", "relu", "LSTMCell", "GRUCell"])
def test_cells_match_numpy_batched_and_unbatched(kind: str) -> None:
    if kind == "relu":
        cell: Any = nn.RNNCell(3, 4, nonlinearity="relu", dtype="float64")
        mode = "RNN_RELU"
    else:
        cell = getattr(nn, kind)(3, 4, dtype="float64")
        mode = {"RNNCell": "RNN_TANH", "LSTMCell": "LSTM", "GRUCell": "GRU"}[kind]
    rng = np.random.default_rng(3)
    p = {k: to_numpy(v) for k, v in cell.state_dict().items()}
    w = {"ih": p["weight_ih"], "hh": p["weight_hh"], "b_ih": p["bias_ih"]}
    w |= {"b_hh": p["bias_hh"], "hr": None}
    for shape in [(2, 3), (3,)]:
        x = rng.standard_normal(shape)
        h = rng.standard_normal((*shape[:-1], 4))
        c = rng.standard_normal((*shape[:-1], 4))
        want_h, want_c = _cell(mode, x, h, c if mode == "LSTM" else None, w)
        if mode == "LSTM":
            got_h, got_c = cell(at.tensor(x), (at.tensor(h), at.tensor(c)))
            np.testing.assert_allclose(to_numpy(got_c), want_c, rtol=1e-12)
        else:
            got_h = cell(at.tensor(x), at.tensor(h))
        assert got_h.shape == (*shape[:-1], 4)
        np.testing.assert_allclose(to_numpy(got_h), want_h, rtol=1e-12, atol=1e-15)
        zero = cell(at.tensor(x))  # hx None: zeros
        zero_h = zero[0] if mode == "LSTM" else zero
        want_zero, _ = _cell(mode, x, 0 * h, 0 * c if mode == "LSTM" else None, w)
        np.testing.assert_allclose(to_numpy(zero_h), want_zero, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------ gradients
def _numeric_grad(f: Any, values: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(values)
    for idx in np.ndindex(values.shape):
        saved = values[idx]
        values[idx] = saved + eps
        up = f()
        values[idx] = saved - eps
        down = f()
        values[idx] = saved
        grad[idx] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("RNN", {"num_layers": 2, "bidirectional": True}),
        ("relu", {"batch_first": True}),
        ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
        ("LSTM", {"proj_size": 3, "bias": False}),
        ("GRU", {"num_layers": 2, "bidirectional": True}),
    ],
    ids=str,
)
def test_gradients_of_input_states_and_parameters(
    kind: str, options: dict[str, Any]
) -> None:
    """Backward of sum(output * w1) + sum(h_n * w2) (+ sum(c_n * w3)) against
    central differences, for the input, h0, c0 and every parameter."""
    m = _sequence_module(kind, **options)
    rng = np.random.default_rng(4)
    batch_first = options.get("batch_first", False)
    arrays = [rng.standard_normal((2, 3, 3) if batch_first else (3, 2, 3))]
    layers = m.num_layers * (2 if m.bidirectional else 1)
    out_size = options.get("proj_size", 4)
    arrays.append(rng.standard_normal((layers, 2, out_size)))
    if kind == "LSTM":
        arrays.append(rng.standard_normal((layers, 2, 4)))
    weights: list[np.ndarray] = []

    def loss(tensors: list[at.Tensor]) -> at.Tensor:
        hx = tensors[1] if kind != "LSTM" else (tensors[1], tensors[2])
        out, state = m(tensors[0], hx)
        results = [out, *(state if kind == "LSTM" else (state,))]
        if not weights:
            weights.extend(rng.standard_normal(r.shape) for r in results)
        total = None
        for r, w in zip(results, weights, strict=True):
            term = (r * at.tensor(w)).sum()
            total = term if total is None else total + term
        assert total is not None
        return total

    inputs = [at.tensor(a, requires_grad=True) for a in arrays]
    loss(inputs).backward()
    for a, t in zip(arrays, inputs, strict=True):
        numeric = _numeric_grad(lambda: loss([at.tensor(v) for v in arrays]).item(), a)
        assert t.grad is not None
        np.testing.assert_allclose(to_numpy(t.grad), numeric, rtol=1e-6, atol=1e-6)
    for name, p in m.named_parameters():
        values = to_numpy(p).copy()

        def value(values: np.ndarray = values, p: Any = p) -> float:
            with at.no_grad():
                p.copy_(at.tensor(values))
            return loss([at.tensor(v) for v in arrays]).item()

        numeric = _numeric_grad(value, values)
        with at.no_grad():
            p.copy_(at.tensor(values))
        assert p.grad is not None, name
        np.testing.assert_allclose(
            to_numpy(p.grad), numeric, rtol=1e-6, atol=1e-6, err_msg=name
        )


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_double_backward_through_the_recurrence(kind: str) -> None:
    m = _sequence_module(kind, num_layers=2, bidirectional=True)
    x = at.tensor(np.random.default_rng(5).standard_normal((3, 2, 3)) * 0.5)

    def f(x: at.Tensor) -> at.Tensor:
        out: at.Tensor = m(x)[0]
        return (out * out).sum()

    assert at.gradgradcheck(f, (x.clone().requires_grad_(),))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradients(kind: str) -> None:
    cell: Any = getattr(nn, kind)(3, 4, dtype="float64")
    rng = np.random.default_rng(6)
    x = at.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = at.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    c = at.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    params = list(cell.parameters())

    def f(x: at.Tensor, h: at.Tensor, c: at.Tensor, *ps: at.Tensor) -> at.Tensor:
        fn = {"RNNCell": F.rnn_tanh_cell, "GRUCell": F.gru_cell}
        if kind == "LSTMCell":
            h2, c2 = F.lstm_cell(x, (h, c), *ps)
            return (h2 * h2).sum() + (c2 * c2).sum()
        out: at.Tensor = fn[kind](x, h, *ps)
        return (out * out).sum()

    args = (x, h, c, *(p.detach().clone().requires_grad_() for p in params))
    assert at.gradcheck(f, args)
    assert at.gradgradcheck(f, args)


# ------------------------------------------------------------ dropout, modes
def test_dropout_between_layers_in_training_only() -> None:
    ad.manual_seed(0)
    m = nn.LSTM(3, 16, num_layers=3, dropout=0.5, dtype="float64")
    x = at.tensor(np.random.default_rng(7).standard_normal((4, 2, 3)))
    train_a = to_numpy(m(x)[0])
    train_b = to_numpy(m(x)[0])
    m.eval()
    eval_a, eval_b = to_numpy(m(x)[0]), to_numpy(m(x)[0])
    np.testing.assert_array_equal(eval_a, eval_b)  # eval: deterministic
    assert not np.allclose(train_a, train_b)  # fresh masks each call
    assert not np.allclose(train_a, eval_a)
    no_dropout = nn.LSTM(3, 16, num_layers=3, dtype="float64")
    no_dropout.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(to_numpy(no_dropout(x)[0]), eval_a)


def test_dropout_with_one_layer_warns_as_pytorch() -> None:
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers"):
        nn.GRU(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.GRU(3, 4, num_layers=2, dropout=0.2)


def test_to_float64_and_state_dict_round_trip() -> None:
    a = nn.GRU(3, 4, num_layers=2)
    b = nn.GRU(3, 4, num_layers=2).to(at.float64)
    b.load_state_dict(a.state_dict())  # float32 values into float64 parameters
    x = at.randn(5, 2, 3)
    np.testing.assert_allclose(
        to_numpy(a(x)[0]), to_numpy(b(x.double())[0]), rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.RNN(3, 4, nonlinearity="gelu"), ValueError, "Unknown nonlinearity"),
        (lambda: nn.LSTM(3, 4, dropout=1.5), ValueError, "dropout should be a number"),
        (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "smaller than hidden_size"),
        (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, "proj_size should be"),
        (lambda: nn.GRU(3, 0), ValueError, "hidden_size must be greater than zero"),
        (lambda: nn.GRU(3.0, 4), TypeError, "input_size should be of type int"),
        (lambda: nn.GRU(3, 4, num_layers=0), ValueError, "num_layers must be"),
        (lambda: nn.RNN(3, 4, bias=1), TypeError, "bias should be of type bool"),
    ],
)
def test_constructor_errors(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_forward_errors() -> None:
    gru, lstm = nn.GRU(3, 4), nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D"):
        gru(at.randn(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 3, got 5"):
        gru(at.randn(4, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\)"):
        gru(at.randn(4, 2, 3), at.randn(1, 3, 4))
    with pytest.raises(RuntimeError, match="hx should also be 3-D"):
        gru(at.randn(4, 2, 3), at.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size"):
        lstm(at.randn(4, 2, 3), (at.randn(1, 2, 4), at.randn(1, 2, 5)))
    with pytest.raises(RuntimeError, match="hx and cx should also be 2-D"):
        lstm(at.randn(4, 3), (at.randn(1, 1, 4), at.randn(1, 1, 4)))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        lstm(at.randn(4, 2, 3, dtype="float64"))
    with pytest.raises(ValueError, match="LSTMCell: Expected hx\\[1\\] to be 1D"):
        nn.LSTMCell(3, 4)(at.randn(2, 3), (at.randn(2, 4), at.randn(1, 2, 4)))
