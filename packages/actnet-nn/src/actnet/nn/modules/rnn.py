"""Recurrent layers: RNN, LSTM, GRU and their cells (torch.nn.modules.rnn).

The modules own the weights, under PyTorch's names and in its order (so a
PyTorch state dict loads); the recurrence is actnet.neuron's rnn_tanh,
rnn_relu, lstm and gru (and the *_cell functions), called as torch.nn calls
torch's.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import actnet.neuron as F
from actnet.nn import init
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import check_bool, check_int, new_parameter
from actnet.tensor import Tensor, zeros

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NONLINEARITIES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


def _check_size(value: Any, name: str) -> int:
    """PyTorch's checks of input_size and hidden_size, with its messages."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")
    return value


def _check_dropout(dropout: Any, num_layers: int) -> float:
    if (
        not isinstance(dropout, int | float)
        or isinstance(dropout, bool)
        or not 0 <= dropout <= 1
    ):
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the "
            "probability of an element being zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so "
            "non-zero dropout expects num_layers greater than 1, but got "
            f"dropout={dropout} and num_layers={num_layers}",
            stacklevel=4,
        )
    return float(dropout)


def _uniform_reset(module: Module, hidden_size: int) -> None:
    """PyTorch's initialisation of every recurrent weight and bias:
    uniform in +-1 / sqrt(hidden_size)."""
    bound = 1.0 / math.sqrt(hidden_size)
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


def _tensor(value: Any, layer: str, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{layer}: {name} must be a Tensor, got {type(value).__name__}")
    return value


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the arguments, the weights
    (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, weight_hr_l{k},
    `_reverse` for the second direction; registered in PyTorch's order),
    PyTorch's initialisation, and the checks of input and initial state.
    `flatten_parameters()` is a no-op (as in PyTorch off cuDNN)."""

    mode: str
    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool
    batch_first: bool
    dropout: float
    bidirectional: bool
    proj_size: int

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        name = type(self).__name__
        self.mode = mode
        num_layers = check_int(num_layers, name, "num_layers", minimum=None)
        self.dropout = _check_dropout(dropout, num_layers)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}"
            )
        self.input_size = _check_size(input_size, "input_size")
        self.hidden_size = _check_size(hidden_size, "hidden_size")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        proj_size = check_int(proj_size, name, "proj_size", minimum=None)
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = check_bool(bidirectional, name, "bidirectional")
        self.proj_size = proj_size
        self._all_weights: list[list[str]] = []
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, real_hidden),
                }
                if bias:
                    shapes["bias_ih"] = (gate_size,)
                    shapes["bias_hh"] = (gate_size,)
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], new_parameter(shape, device, dtype))
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """PyTorch compacts the weights for cuDNN here; nothing to do in actnet."""

    @property
    def _flat_weights_names(self) -> list[str]:
        return [name for names in self._all_weights for name in names]

    @property
    def _flat_weights(self) -> list[Parameter]:
        """The weights in the order the neuron functions take them (PyTorch's)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The weights of each layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _state_shape(self, batch: int, size: int) -> tuple[int, int, int]:
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, batch, size)

    def _check_input(self, input: Tensor) -> None:
        """PyTorch's check_input (input is batched, 3-d, here)."""
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype "
                f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                f"convert model: model.to({input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )

    def _zeros(self, input: Tensor, size: int) -> Tensor:
        batch = input.shape[0] if self.batch_first else input.shape[1]
        return zeros(
            self._state_shape(batch, size), dtype=input.dtype, device=input.device
        )

    def _check_hidden(
        self,
        input: Tensor,
        hx: Tensor,
        size: int,
        message: str = "Expected hidden size {}, got {}",
    ) -> None:
        batch = input.shape[0] if self.batch_first else input.shape[1]
        expected = self._state_shape(batch, size)
        if hx.shape != expected:
            raise RuntimeError(message.format(expected, list(hx.shape)))

    def _single_state_forward(
        self, input: Tensor, hx: Tensor | None, dims_message: str
    ) -> tuple[Tensor, Tensor]:
        """RNN's and GRU's forward: (output, h_n)."""
        input = _tensor(input, type(self).__name__, "input")
        if input.ndim not in (2, 3):
            raise ValueError(dims_message.format(input.ndim))
        batched = input.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
            if hx is not None:
                hx = _tensor(hx, type(self).__name__, "hx")
                if hx.ndim != 2:
                    raise RuntimeError(
                        "For unbatched 2-D input, hx should also be 2-D but got "
                        f"{hx.ndim}-D tensor"
                    )
                hx = hx.unsqueeze(1)
        elif hx is not None:
            hx = _tensor(hx, type(self).__name__, "hx")
            if hx.ndim != 3:
                raise RuntimeError(
                    "For batched 3-D input, hx should also be 3-D but got "
                    f"{hx.ndim}-D tensor"
                )
        if hx is None:
            hx = self._zeros(input, self.hidden_size)
        self._check_input(input)
        self._check_hidden(input, hx, self.hidden_size)
        function = {"RNN_TANH": F.rnn_tanh, "RNN_RELU": F.rnn_relu, "GRU": F.gru}
        output, hidden = function[self.mode](
            input,
            hx,
            self._flat_weights,
            self.bias,
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
            self.batch_first,
        )
        if not batched:
            return output.squeeze(batch_dim), hidden.squeeze(1)
        return output, hidden

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """An Elman network: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),
    act tanh or relu (`nonlinearity`), num_layers stacked, optionally
    bidirectional. Input (L, N, input_size), (N, L, input_size) with
    batch_first, or (L, input_size) unbatched; hx (num_layers * directions, N,
    hidden_size) or zeros. Returns (output, h_n): output (L, N, directions *
    hidden_size) (batch first with batch_first), h_n hx's shape. As in PyTorch,
    nonlinearity is the fourth positional argument; its repr does not show it.

    >>> rnn = RNN(10, 20, 2)
    >>> output, h_n = rnn(at.randn(5, 3, 10), at.randn(2, 3, 20))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    nonlinearity: str

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            _NONLINEARITIES[nonlinearity],
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._single_state_forward(
            input, hx, "RNN: Expected input to be 2D or 3D, got {}D tensor instead"
        )


class GRU(RNNBase):
    """A gated recurrent unit network, PyTorch's gates (r, z, n):
    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr), z likewise,
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h.
    Shapes as RNN's.

    >>> gru = GRU(10, 20, 2, batch_first=True)
    >>> gru(at.randn(3, 5, 10))[0].shape
    (3, 5, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._single_state_forward(
            input, hx, "GRU: Expected input to be 2D or 3D, got {}D instead"
        )


class LSTM(RNNBase):
    """A long short-term memory network, PyTorch's gates (i, f, g, o):
    c' = f c + i g, h' = o tanh(c'); with proj_size > 0, h' is projected by
    weight_hr_l{k} (proj_size, hidden_size), and h0, h_n and the output have
    proj_size features. hx = (h0, c0) or zeros. Returns (output, (h_n, c_n)).

    >>> lstm = LSTM(10, 20, 2, proj_size=5)
    >>> output, (h_n, c_n) = lstm(at.randn(5, 3, 10))
    >>> output.shape, h_n.shape, c_n.shape
    ((5, 3, 5), (2, 3, 5), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
        )

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        input = _tensor(input, "LSTM", "input")
        if input.ndim not in (2, 3):
            raise ValueError(
                f"LSTM: Expected input to be 2D or 3D, got {input.ndim}D instead"
            )
        batched = input.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h0 = self._zeros(input, out_size)
            c0 = self._zeros(input, self.hidden_size)
        else:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of Tensors")
            h0, c0 = (_tensor(t, "LSTM", f"hx[{i}]") for i, t in enumerate(hx))
            dims = 3 if batched else 2
            if h0.ndim != dims or c0.ndim != dims:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {dims}-D but got "
                    f"({h0.ndim}-D, {c0.ndim}-D) tensors"
                )
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        self._check_input(input)
        self._check_hidden(input, h0, out_size, "Expected hidden[0] size {}, got {}")
        self._check_hidden(
            input, c0, self.hidden_size, "Expected hidden[1] size {}, got {}"
        )
        output, h_n, c_n = F.lstm(
            input,
            (h0, c0),
            self._flat_weights,
            self.bias,
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
            self.batch_first,
        )
        if not batched:
            return output.squeeze(batch_dim), (h_n.squeeze(1), c_n.squeeze(1))
        return output, (h_n, c_n)


class RNNCellBase(Module):
    """What the cells share: weight_ih (num_chunks * hidden_size, input_size),
    weight_hh (num_chunks * hidden_size, hidden_size), bias_ih and bias_hh
    (num_chunks * hidden_size,) or None, PyTorch's initialisation."""

    input_size: int
    hidden_size: int
    bias: bool
    weight_ih: Parameter
    weight_hh: Parameter
    bias_ih: Parameter | None
    bias_hh: Parameter | None

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(input_size, name, "input_size")
        self.hidden_size = check_int(hidden_size, name, "hidden_size")
        self.bias = check_bool(bias, name, "bias")
        rows = num_chunks * hidden_size
        self.weight_ih = new_parameter((rows, input_size), device, dtype)
        self.weight_hh = new_parameter((rows, hidden_size), device, dtype)
        if bias:
            self.bias_ih = new_parameter((rows,), device, dtype)
            self.bias_hh = new_parameter((rows,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.hidden_size > 0:
            _uniform_reset(self, self.hidden_size)

    def _prepare(self, input: Any, hx: Any, hidden_name: str = "hidden") -> Tensor:
        """input after PyTorch's dims check; hx's dims are checked likewise."""
        name = type(self).__name__
        checked = _tensor(input, name, "input")
        if checked.ndim not in (1, 2):
            raise ValueError(
                f"{name}: Expected input to be 1D or 2D, got {checked.ndim}D instead"
            )
        if hx is not None:
            hx = _tensor(hx, name, hidden_name)
            if hx.ndim not in (1, 2):
                raise ValueError(
                    f"{name}: Expected {hidden_name} to be 1D or 2D, got "
                    f"{hx.ndim}D instead"
                )
        return checked

    def _zeros(self, input: Tensor) -> Tensor:
        return zeros(
            (*input.shape[:-1], self.hidden_size),
            dtype=input.dtype,
            device=input.device,
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One step of RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) for input
    (N, input_size) or (input_size,), hx the same with hidden_size, or zeros.

    >>> cell = RNNCell(10, 20)
    >>> cell(at.randn(3, 10)).shape
    (3, 20)
    """

    nonlinearity: str

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input = self._prepare(input, hx)
        cell = F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell
        h: Tensor = cell(
            input,
            self._zeros(input) if hx is None else hx,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
        )
        return h


class LSTMCell(RNNCellBase):
    """One step of LSTM: (h', c') from hx = (h, c) (zeros when None).

    >>> cell = LSTMCell(10, 20)
    >>> h, c = cell(at.randn(3, 10))
    >>> h.shape, c.shape
    ((3, 20), (3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        input = self._prepare(input, None)
        if hx is None:
            zero = self._zeros(input)
            hx = (zero, zero)
        elif not isinstance(hx, tuple | list) or len(hx) != 2:
            raise TypeError("LSTMCell: hx must be a tuple (h, c) of Tensors")
        for i, value in enumerate(hx):
            self._prepare(input, value, f"hx[{i}]")
        return F.lstm_cell(
            input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )


class GRUCell(RNNCellBase):
    """One step of GRU: h' from input and hx (zeros when None).

    >>> cell = GRUCell(10, 20)
    >>> cell(at.randn(3, 10)).shape
    (3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input = self._prepare(input, hx)
        return F.gru_cell(
            input,
            self._zeros(input) if hx is None else hx,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
        )
