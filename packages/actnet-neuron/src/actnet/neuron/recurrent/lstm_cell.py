"""lstm_cell: one step of a long short-term memory cell (torch.lstm_cell)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron.recurrent._cell import cell
from actnet.tensor import Tensor


def lstm_cell(
    input: Tensor,  # torch's names
    hx: Sequence[Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The LSTM's next (h, c) from hx = (h, c): gates i, f, g, o (PyTorch's
    order) = sigmoid, sigmoid, tanh, sigmoid of input W_ih^T + b_ih +
    h W_hh^T + b_hh; c' = f c + i g, h' = o tanh(c'). input (batch, input_size)
    or (input_size,), h and c (batch, hidden_size) or (hidden_size,); w_ih
    (4 * hidden_size, input_size), w_hh (4 * hidden_size, hidden_size), b_ih and
    b_hh (4 * hidden_size,) or None. What torch.nn.LSTMCell calls.

    >>> h, c = lstm_cell(randn(2, 3), (zeros(2, 4), zeros(2, 4)),
    ...                  randn(16, 3), randn(16, 4))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """
    if not isinstance(hx, list | tuple) or len(hx) != 2:
        raise TypeError("lstm_cell: hx must be a pair (h, c) of Tensors")
    h, c = cell("lstm_cell", "LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)
    assert c is not None  # an LSTM has a cell
    return h, c
