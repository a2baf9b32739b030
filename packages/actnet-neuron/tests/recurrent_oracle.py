"""The recurrent functions in plain NumPy (float64), written from PyTorch's
documented equations, and the inputs their test cases share: the oracle of
test_recurrent_*.py. Cases return one tensor, the outputs flattened and
joined, so that the harness compares (and gradchecks) all of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from harness import Case

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def cell(
    mode: str,
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
    w_hr: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    gx = x @ w_ih.T + (0.0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0.0 if b_hh is None else b_hh)
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
    assert c is not None
    i, f, g, o = np.split(gx + gh, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    return (h if w_hr is None else h @ w_hr.T), c


def layers(
    mode: str,
    x: np.ndarray,
    hx: Sequence[np.ndarray],
    params: Sequence[np.ndarray],
    has_biases: bool,
    num_layers: int,
    bidirectional: bool,
    batch_first: bool,
) -> list[np.ndarray]:
    """[output, h_n] or [output, h_n, c_n], as torch.rnn_tanh / lstm / gru."""
    if batch_first:
        x = x.transpose(1, 0, 2)
    directions = 2 if bidirectional else 1
    per = len(params) // (num_layers * directions)
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w = list(params[k * per : (k + 1) * per])
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr = w[-1] if per in (3, 5) else None
            h = hx[0][k]
            c = hx[1][k] if mode == "LSTM" else None
            out = [np.empty(0)] * len(x)
            for t in range(len(x) - 1, -1, -1) if d else range(len(x)):
                h, c = cell(mode, x[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
                out[t] = h
            outs.append(np.stack(out))
            h_n.append(h)
            c_n.append(c)
        x = np.concatenate(outs, axis=-1)
    if batch_first:
        x = x.transpose(1, 0, 2)
    result = [x, np.stack(h_n)]
    if mode == "LSTM":
        result.append(np.stack(c_n))
    return result


def joined(results: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([r.ravel() for r in results])


def joined_tensors(F: Any, results: Sequence[Any]) -> Any:
    """The same for the outputs of F's function (actnet.neuron or torch)."""
    return F.cat([r.flatten() for r in results])


def weights(
    rng: np.random.Generator,
    mode: str,
    input_size: int,
    hidden: int,
    *,
    has_biases: bool = True,
    num_layers: int = 1,
    bidirectional: bool = False,
    proj_size: int = 0,
) -> list[np.ndarray]:
    """PyTorch's flat list of weights, drawn from N(0, 0.5^2)."""
    gates = GATES[mode] * hidden
    out_size = proj_size or hidden
    directions = 2 if bidirectional else 1
    params = []
    for layer in range(num_layers):
        for _ in range(directions):
            in_size = input_size if layer == 0 else out_size * directions
            shapes = [(gates, in_size), (gates, out_size)]
            if has_biases:
                shapes += [(gates,), (gates,)]
            if proj_size:
                shapes.append((proj_size, hidden))
            params += [0.5 * rng.standard_normal(s) for s in shapes]
    return params


def sequence_case(
    name: str,
    function: str,
    mode: str,
    *,
    seq: int = 4,
    batch: int = 2,
    input_size: int = 3,
    hidden: int = 4,
    has_biases: bool = True,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    proj_size: int = 0,
    dropout: float = 0.0,
    double_backward: bool = False,
) -> Case:
    """A case of rnn_tanh, rnn_relu, lstm or gru (`function`) in eval mode
    (train=False: a dropout > 0 does nothing), every input differentiable."""
    states = 2 if mode == "LSTM" else 1
    groups = num_layers * (2 if bidirectional else 1)
    options = (has_biases, num_layers, dropout, False, bidirectional, batch_first)

    def inputs(rng: np.random.Generator) -> list[Any]:
        x_shape = (batch, seq, input_size) if batch_first else (seq, batch, input_size)
        values = [rng.standard_normal(x_shape)]
        values.append(rng.standard_normal((groups, batch, proj_size or hidden)))
        if mode == "LSTM":
            values.append(rng.standard_normal((groups, batch, hidden)))
        return values + weights(
            rng,
            mode,
            input_size,
            hidden,
            has_biases=has_biases,
            num_layers=num_layers,
            bidirectional=bidirectional,
            proj_size=proj_size,
        )

    def call(F: Any, x: Any, *rest: Any) -> Any:
        hx = tuple(rest[:states]) if mode == "LSTM" else rest[0]
        result = getattr(F, function)(x, hx, list(rest[states:]), *options)
        return joined_tensors(F, result)

    def expected(x: np.ndarray, *rest: np.ndarray) -> np.ndarray:
        return joined(
            layers(
                mode,
                x,
                rest[:states],
                rest[states:],
                has_biases,
                num_layers,
                bidirectional,
                batch_first,
            )
        )

    per = 2 + 2 * has_biases + (1 if proj_size else 0)
    count = 1 + states + groups * per
    return Case(
        name,
        inputs,
        call,
        expected,
        differentiable=tuple(range(count)),
        double_backward=double_backward,
    )


def cell_case(
    name: str,
    function: str,
    mode: str,
    *,
    batch: tuple[int, ...] = (2,),
    input_size: int = 3,
    hidden: int = 4,
    has_biases: bool = True,
    double_backward: bool = False,
) -> Case:
    """A case of rnn_tanh_cell, rnn_relu_cell, lstm_cell or gru_cell."""
    states = 2 if mode == "LSTM" else 1

    def inputs(rng: np.random.Generator) -> list[Any]:
        values = [rng.standard_normal((*batch, input_size))]
        values += [rng.standard_normal((*batch, hidden)) for _ in range(states)]
        return values + weights(rng, mode, input_size, hidden, has_biases=has_biases)

    def call(F: Any, x: Any, *rest: Any) -> Any:
        hx = tuple(rest[:states]) if mode == "LSTM" else rest[0]
        result = getattr(F, function)(x, hx, *rest[states:])
        return joined_tensors(F, result if mode == "LSTM" else [result])

    def expected(x: np.ndarray, *rest: np.ndarray) -> np.ndarray:
        c = rest[1] if mode == "LSTM" else None
        h, c = cell(mode, x, rest[0], c, *rest[states:])
        return joined([h] if c is None else [h, c])

    count = 1 + states + (4 if has_biases else 2)
    return Case(
        name,
        inputs,
        call,
        expected,
        differentiable=tuple(range(count)),
        double_backward=double_backward,
    )
