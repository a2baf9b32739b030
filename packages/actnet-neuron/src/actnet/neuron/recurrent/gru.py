"""gru: a stacked gated recurrent unit network (torch.gru)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron.recurrent._layers import layers
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("gru")
def gru(
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
    """(output, h_n) of a stacked GRU network (gates r, z, n in PyTorch's
    order) over input (seq_len, batch, input_size), or (batch, seq_len,
    input_size) with batch_first, from hx (num_layers *
    num_directions, batch, hidden_size) and params, PyTorch's flat list of
    weights (for each layer, then direction: w_ih, w_hh[, b_ih, b_hh]).
    output is (seq_len, batch, num_directions * hidden_size) (batch first with
    batch_first), h_n is hx's shape. With train, dropout drops elements of each
    layer's output but the last's. What torch.nn.GRU calls.

    >>> w = [randn(12, 3), randn(12, 4)]
    >>> output, h_n = gru(randn(5, 2, 3), zeros(1, 2, 4), w, False, 1, 0.0,
    ...                  False, False, False)
    >>> output.shape, h_n.shape
    ((5, 2, 4), (1, 2, 4))
    """
    output, h_n = layers(
        "gru",
        "GRU",
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
