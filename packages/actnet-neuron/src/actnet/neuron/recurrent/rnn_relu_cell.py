"""rnn_relu_cell: one step of an Elman cell with relu (torch.rnn_relu_cell)."""

from __future__ import annotations

from actnet.neuron.recurrent._cell import cell
from actnet.tensor import Tensor


def rnn_relu_cell(
    input: Tensor,  # torch's names
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """relu(input W_ih^T + b_ih + hx W_hh^T + b_hh) for input (batch, input_size) or
    (input_size,) and hx (batch, hidden_size) or (hidden_size,); w_ih
    (hidden_size, input_size), w_hh (hidden_size, hidden_size), b_ih and
    b_hh (hidden_size,) or None. What torch.nn.RNNCell(nonlinearity='relu') calls.

    >>> rnn_relu_cell(randn(2, 3), zeros(2, 4), randn(4, 3), randn(4, 4)).shape
    (2, 4)
    """
    h, _ = cell("rnn_relu_cell", "RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)
    return h
