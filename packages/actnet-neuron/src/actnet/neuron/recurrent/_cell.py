"""One step of a recurrent cell from its weights, recorded: what rnn_tanh_cell,
rnn_relu_cell, lstm_cell and gru_cell compute (PyTorch's torch.rnn_tanh_cell,
...: what torch.nn.RNNCell, LSTMCell and GRUCell call)."""

from __future__ import annotations

from typing import Any

from actnet.neuron._checks import check_tensor
from actnet.neuron.connection.linear import linear
from actnet.neuron.recurrent._steps import STEPS, TENSORS
from actnet.tensor import Tensor


def _check_state(op: str, value: Any, name: str, shape: tuple[int, ...]) -> None:
    check_tensor(value, op, name, kinds="f")
    if value.shape != shape:
        raise RuntimeError(f"{op}: {name} must have shape {shape}, got {value.shape}")


def cell(
    op: str,
    mode: str,
    input: Tensor,
    hx: Tensor,
    cx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
) -> tuple[Tensor, Tensor | None]:
    """(h', c' or None) of one step: input (B, input_size) or (input_size,),
    hx and cx (B, hidden_size) or (hidden_size,); w_ih (G, input_size),
    w_hh (G, hidden_size), b_ih and b_hh (G,) or None, G = gates * hidden_size."""
    step = STEPS[mode]
    check_tensor(input, op, kinds="f")
    if input.ndim not in (1, 2):
        raise ValueError(
            f"{op}: input must be 1-d or 2-d (batch, input_size), got shape "
            f"{input.shape}"
        )
    check_tensor(w_hh, op, "w_hh", kinds="f")
    if w_hh.ndim != 2 or w_hh.shape[0] != step.gates * w_hh.shape[1]:
        raise RuntimeError(
            f"{op}: w_hh must be ({step.gates} * hidden_size, hidden_size), got "
            f"shape {w_hh.shape}"
        )
    check_tensor(w_ih, op, "w_ih", kinds="f")
    if w_ih.ndim != 2 or w_ih.shape[0] != w_hh.shape[0]:
        raise RuntimeError(
            f"{op}: w_ih must have as many rows as w_hh ({w_hh.shape[0]}), got "
            f"shape {w_ih.shape}"
        )
    state = (*input.shape[:-1], w_hh.shape[1])
    _check_state(op, hx, "hx", state)
    if step.cell:
        _check_state(op, cx, "cx", state)
    # linear checks the weights' and biases' shapes and dtypes against input's
    gx = linear(input, w_ih, b_ih)
    gh = linear(hx, w_hh, b_hh)
    h, c, _ = step.forward(TENSORS, gx, gh, hx, cx)
    result: tuple[Tensor, Tensor | None] = (h, c)
    return result
