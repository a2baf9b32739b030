"""gru_cell: one step of a gated recurrent unit (torch.gru_cell)."""

from __future__ import annotations

from actnet.neuron.recurrent._cell import cell
from actnet.tensor import Tensor


def gru_cell(
    input: Tensor,  # torch's names
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """The GRU's next h (gates r, z, n in PyTorch's order:
    r, z = sigmoid(...), n = tanh(x W_in^T + b_in + r (hx W_hn^T + b_hn)),
    h' = (hx - n) z + n) for input (batch, input_size) or
    (input_size,) and hx (batch, hidden_size) or (hidden_size,); w_ih
    (3 * hidden_size, input_size), w_hh (3 * hidden_size, hidden_size), b_ih and
    b_hh (3 * hidden_size,) or None. What torch.nn.GRUCell calls.

    >>> gru_cell(randn(2, 3), zeros(2, 4), randn(12, 3), randn(12, 4)).shape
    (2, 4)
    """
    h, _ = cell("gru_cell", "GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)
    return h
