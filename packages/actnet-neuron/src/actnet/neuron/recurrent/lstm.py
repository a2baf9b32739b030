"""lstm: a stacked long short-term memory network (torch.lstm)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron.recurrent._layers import layers
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("lstm")
def lstm(
    input: Tensor,  # torch's names and order
    hx: Sequence[Tensor],
    params: Sequence[Tensor],
    has_biases: bool,
    num_layers: int,
    dropout: float,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """(output, h_n, c_n) of a stacked LSTM (gates i, f, g, o in PyTorch's
    order) over input (seq_len, batch, input_size), or (batch, seq_len,
    input_size) with batch_first, from hx = (h0, c0), each (num_layers *
    num_directions, batch, ...), and params, PyTorch's flat list of weights (for
    each layer, then direction: w_ih, w_hh[, b_ih, b_hh][, w_hr]). With w_hr
    (proj_size, hidden_size), h is projected: h = (o tanh(c)) W_hr^T, and h0,
    h_n and output have proj_size features. With train, dropout drops elements
    of each layer's output but the last's. What torch.nn.LSTM calls.

    >>> w = [randn(16, 3), randn(16, 4)]
    >>> output, h_n, c_n = lstm(randn(5, 2, 3), (zeros(1, 2, 4), zeros(1, 2, 4)),
    ...                         w, False, 1, 0.0, False, False, False)
    >>> output.shape, c_n.shape
    ((5, 2, 4), (1, 2, 4))
    """
    if not isinstance(hx, list | tuple) or len(hx) != 2:
        raise TypeError("lstm: hx must be a pair (h0, c0) of Tensors")
    output, h_n, c_n = layers(
        "lstm",
        "LSTM",
        input,
        hx,
        params,
        has_biases,
        num_layers,
        dropout,
        train,
        bidirectional,
        batch_first,
    )
    return output, h_n, c_n
