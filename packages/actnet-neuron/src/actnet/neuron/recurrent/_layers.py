"""The stacked, optionally bidirectional recurrence behind rnn_tanh, rnn_relu,
lstm and gru (PyTorch's torch.rnn_tanh, torch.lstm, ...: what torch.nn.RNN,
LSTM and GRU call with their flat list of weights).

`params` is that flat list, for each layer and then each direction:
w_ih (G, in), w_hh (G, H_out), then b_ih (G,), b_hh (G,) when has_biases, then
w_hr (H_out, H) for an LSTM with projections; G is 1, 4 or 3 times the hidden
size H (tanh and relu, LSTM, GRU), H_out is H, or proj_size with projections.
Per layer and direction: one `linear` projects the whole sequence (b_hh is
folded into its bias, except for the GRU, whose n gate multiplies h W_hn^T + b_hn
by r), then one `Scan` runs the recurrence. Between layers, in training,
`dropout` drops elements of each layer's output except the last's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actnet.neuron._checks import check_tensor
from actnet.neuron.array.cat import cat
from actnet.neuron.array.stack import stack
from actnet.neuron.connection.linear import linear
from actnet.neuron.noise.dropout import dropout as drop
from actnet.neuron.recurrent._scan import scan
from actnet.neuron.recurrent._steps import STEPS, TENSORS
from actnet.tensor import Tensor


def _check_flag(value: Any, op: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a bool, got {type(value).__name__}")
    return value


def _check_options(
    op: str,
    has_biases: Any,
    num_layers: Any,
    dropout: Any,
    train: Any,
    bidirectional: Any,
    batch_first: Any,
) -> None:
    for name, value in (
        ("has_biases", has_biases),
        ("train", train),
        ("bidirectional", bidirectional),
        ("batch_first", batch_first),
    ):
        _check_flag(value, op, name)
    if not isinstance(num_layers, int) or isinstance(num_layers, bool):
        raise TypeError(
            f"{op}: num_layers must be an int, got {type(num_layers).__name__}"
        )
    if num_layers < 1:
        raise ValueError(f"{op}: num_layers must be at least 1, got {num_layers}")
    if (
        not isinstance(dropout, int | float)
        or isinstance(dropout, bool)
        or not 0 <= dropout <= 1
    ):
        raise ValueError(f"{op}: dropout must be a number in [0, 1], got {dropout!r}")


def _check_shape(t: Tensor, shape: tuple[int, ...], op: str, name: str) -> None:
    if t.shape != shape:
        raise RuntimeError(f"{op}: {name} must have shape {shape}, got {t.shape}")


class _Layout:
    """The sizes the weights and the input give, checked."""

    def __init__(
        self,
        op: str,
        mode: str,
        input: Tensor,
        params: Sequence[Any],
        has_biases: bool,
        num_layers: int,
        directions: int,
    ) -> None:
        check_tensor(input, op, kinds="f")
        if input.ndim != 3:
            raise ValueError(
                f"{op}: input must be 3-d (seq_len, batch, input_size), or (batch, "
                f"seq_len, input_size) with batch_first, got shape {input.shape}"
            )
        if not isinstance(params, list | tuple):
            raise TypeError(
                f"{op}: params must be a list of Tensors, got {type(params).__name__}"
            )
        for i, p in enumerate(params):
            check_tensor(p, op, f"params[{i}]", kinds="f")
            if p.dtype != input.dtype:
                raise TypeError(
                    f"{op}: params[{i}] has dtype {p.dtype}, input has {input.dtype}"
                )
        groups = num_layers * directions
        plain = 4 if has_biases else 2
        per = len(params) // groups if groups else 0
        projected = mode == "LSTM" and per == plain + 1
        if len(params) != groups * per or per not in (plain, plain + int(projected)):
            names = "w_ih, w_hh" + (", b_ih, b_hh" if has_biases else "")
            if mode == "LSTM":
                names += "[, w_hr]"
            raise ValueError(
                f"{op}: expected {groups * plain} params ({names} for each of "
                f"{num_layers} layers x {directions} directions), got {len(params)}"
            )
        self.per = per
        self.projected = projected
        w_hh = params[1]
        gates = STEPS[mode].gates
        if w_hh.ndim != 2 or w_hh.shape[0] % gates:
            raise RuntimeError(
                f"{op}: w_hh must be 2-d with {gates} x hidden_size rows, got shape "
                f"{w_hh.shape}"
            )
        self.gate_size = w_hh.shape[0]
        self.hidden_size = w_hh.shape[0] // gates
        self.out_size = w_hh.shape[1]
        if input.shape[0] == 0 or input.shape[1] == 0:
            raise RuntimeError(
                f"{op}: expected a sequence length and a batch larger than 0, got "
                f"input of shape {input.shape}"
            )

    def weights(
        self, op: str, params: Sequence[Tensor], index: int, in_size: int
    ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None, Tensor | None]:
        """w_ih, w_hh, b_ih, b_hh, w_hr of layer-and-direction `index`, checked."""
        group = params[index * self.per : (index + 1) * self.per]
        g, h, h_out = self.gate_size, self.hidden_size, self.out_size
        w_ih, w_hh = group[0], group[1]
        _check_shape(w_ih, (g, in_size), op, f"params[{index * self.per}] (w_ih)")
        _check_shape(w_hh, (g, h_out), op, f"params[{index * self.per + 1}] (w_hh)")
        b_ih = b_hh = w_hr = None
        if self.per >= 4:
            b_ih, b_hh = group[2], group[3]
            _check_shape(b_ih, (g,), op, f"params[{index * self.per + 2}] (b_ih)")
            _check_shape(b_hh, (g,), op, f"params[{index * self.per + 3}] (b_hh)")
        if self.projected:
            w_hr = group[-1]
            last = (index + 1) * self.per - 1
            _check_shape(w_hr, (h_out, h), op, f"params[{last}] (w_hr)")
        return w_ih, w_hh, b_ih, b_hh, w_hr


def _initial(
    op: str, value: Any, shape: tuple[int, ...], name: str, dtype: Any
) -> list[Tensor]:
    check_tensor(value, op, name, kinds="f")
    if value.shape != shape:
        raise RuntimeError(
            f"{op}: expected {name} of shape {shape} (num_layers * num_directions, "
            f"batch, hidden), got {value.shape}"
        )
    if value.dtype != dtype:
        raise TypeError(f"{op}: {name} has dtype {value.dtype}, input has {dtype}")
    return TENSORS.unbind(value)


def layers(
    op: str,
    mode: str,
    input: Tensor,
    hx: Sequence[Tensor],
    params: Sequence[Tensor],
    has_biases: bool,
    num_layers: int,
    dropout: float,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple[Tensor, ...]:
    """(output, h_n) or, for an LSTM, (output, h_n, c_n): see the module's
    docstring. `op` names the public function in messages."""
    _check_options(
        op, has_biases, num_layers, dropout, train, bidirectional, batch_first
    )
    directions = 2 if bidirectional else 1
    shape = _Layout(op, mode, input, params, has_biases, num_layers, directions)
    batch = input.shape[0] if batch_first else input.shape[1]
    groups = num_layers * directions
    h0 = _initial(op, hx[0], (groups, batch, shape.out_size), "hx", input.dtype)
    c0: list[Tensor | None] = [None] * groups
    if mode == "LSTM":
        c0 = list(
            _initial(op, hx[1], (groups, batch, shape.hidden_size), "cx", input.dtype)
        )
    h_n: list[Tensor] = []
    c_n: list[Tensor] = []
    x = input
    for layer in range(num_layers):
        outs = []
        for direction in range(directions):
            index = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = shape.weights(op, params, index, x.shape[-1])
            bias, step_bias = b_ih, b_hh
            if mode != "GRU" and b_ih is not None and b_hh is not None:
                bias, step_bias = b_ih + b_hh, None
            xw = linear(x, w_ih, bias)  # every time step in one product
            if batch_first and layer == 0:
                xw = xw.transpose(0, 1)  # (T, B, G): a view
            result = scan(
                mode, xw, h0[index], c0[index], w_hh, step_bias, w_hr, direction == 1
            )
            outs.append(result[0])
            h_n.append(result[1])
            if mode == "LSTM":
                c_n.append(result[2])
        x = outs[0] if directions == 1 else cat(outs, -1)
        if dropout > 0 and train and layer < num_layers - 1:
            x = drop(x, dropout, True)
    output = x.transpose(0, 1) if batch_first else x
    if mode == "LSTM":
        return output, stack(h_n), stack(c_n)
    return output, stack(h_n)
