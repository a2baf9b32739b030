"""rnn_tanh: a stacked Elman network with tanh (torch.rnn_tanh)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron.recurrent._layers import layers
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("rnn_tanh")
def rnn_tanh(
    input: Tensor,  # torch's names and order
    hx: Tensor,
    params: Sequence[Tensor],
    has_biases: bool,
    num_layers: int,
    dropout: float,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple[Tensor, Tensor]:
    """(output, h_n) of a stacked Elman network with tanh, h' = tanh(x W_ih^T + b_ih +
    h W_hh^T + b_hh), over input (seq_len, batch, input_size), or (batch,
    seq_len, input_size) with batch_first, from hx (num_layers *
    num_directions, batch, hidden_size) and params, PyTorch's flat list of
    weights (for each layer, then direction: w_ih, w_hh[, b_ih, b_hh]).
    output is (seq_len, batch, num_directions * hidden_size) (batch first with
    batch_first), h_n is hx's shape. With train, dropout drops elements of each
    layer's output but the last's. What torch.nn.RNN calls.

    >>> w = [randn(4, 3), randn(4, 4)]
    >>> output, h_n = rnn_tanh(randn(5, 2, 3), zeros(1, 2, 4), w, False, 1, 0.0,
    ...                  False, False, False)
    >>> output.shape, h_n.shape
    ((5, 2, 4), (1, 2, 4))
    """
    output, h_n = layers(
        "rnn_tanh",
        "RNN_TANH",
        input,
        (hx,),
        params,
        has_biases,
        num_layers,
        dropout,
        train,
        bidirectional,
        batch_first,
    )
    return output, h_n
