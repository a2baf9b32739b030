"""One time step of each of PyTorch's recurrent cells, written once.

A step's forward takes the gate pre-activations of that step from the input
(`gx` = x W_ih^T + b_ih) and from the previous hidden state (`gh` =
h W_hh^T + b_hh), and the previous state. It runs on NDArrays inside the fused
scan (`_scan.py`, no graph) and on Tensors (the cell functions, and the
recomputation that makes the scan's backward differentiable), through `ARRAYS`
or `TENSORS`: the few functions the two spell differently. Its backward runs on
NDArrays only; under create_graph the engine differentiates the Tensor
recomputation instead.

Gates in PyTorch's order (torch.nn.RNN, LSTM, GRU):

    tanh, relu:  h' = act(gx + gh)
    LSTM:        i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of gx + gh
                 c' = f c + i g;  h' = o tanh(c')
    GRU:         r, z = sigmoid of gx + gh (their parts);  n = tanh(gx_n + r gh_n)
                 h' = (h - n) z + n
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Final

import actnet.ndarray as xp
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.neuron.activation.relu import relu
from actnet.neuron.activation.sigmoid import sigmoid
from actnet.neuron.activation.tanh import tanh
from actnet.neuron.array.cat import cat
from actnet.neuron.array.split import split
from actnet.neuron.array.stack import stack
from actnet.tensor import Tensor

Value = Any  # an NDArray (the fused scan) or a Tensor (cells, recomputation)


class _Arrays:
    """The step's functions on NDArrays: what the neuron Functions' forwards
    compute, without the graph."""

    @staticmethod
    def sigmoid(x: NDArray) -> NDArray:
        return 1.0 / (1.0 + xp.exp(-x))  # as activation/sigmoid.py

    @staticmethod
    def tanh(x: NDArray) -> NDArray:
        return xp.tanh(x)

    @staticmethod
    def relu(x: NDArray) -> NDArray:
        return xp.maximum(x, 0.0)

    @staticmethod
    def split(x: NDArray, sizes: Sequence[int]) -> list[NDArray]:
        """Views of consecutive pieces of the last axis."""
        pieces = []
        start = 0
        for n in sizes:
            pieces.append(x[..., start : start + n])
            start += n
        return pieces

    @staticmethod
    def cat(values: Sequence[NDArray]) -> NDArray:
        return xp.concat(list(values), axis=-1)

    @staticmethod
    def stack(values: Sequence[NDArray]) -> NDArray:
        return xp.stack(list(values))

    @staticmethod
    def unbind(x: NDArray) -> list[NDArray]:
        return list(xp.unstack(x))  # one call for all the views

    @staticmethod
    def lstm(
        gx: NDArray, gh: NDArray, c: NDArray
    ) -> tuple[NDArray, NDArray, tuple[NDArray, ...]]:
        """(h', c', (gates, c')): one device call (`lstm_cell`, PyTorch's fused
        cell), gates the activated i, f, g, o its backward reads."""
        bx = buffer_of(gx)
        h_new, c_new, gates = bx.device.lstm_cell(bx, buffer_of(gh), buffer_of(c))
        c_array = from_buffer(c_new)
        return from_buffer(h_new), c_array, (from_buffer(gates), c_array)


class _Tensors:
    """The step's functions on Tensors: the neuron functions, recorded."""

    @staticmethod
    def sigmoid(x: Tensor) -> Tensor:
        return sigmoid(x)

    @staticmethod
    def tanh(x: Tensor) -> Tensor:
        return tanh(x)

    @staticmethod
    def relu(x: Tensor) -> Tensor:
        return relu(x)

    @staticmethod
    def split(x: Tensor, sizes: Sequence[int]) -> tuple[Tensor, ...]:
        # one Split node: its backward is one cat, not a scatter per piece
        return split(x, list(sizes), -1)

    @staticmethod
    def cat(values: Sequence[Tensor]) -> Tensor:
        return cat(list(values), -1)

    @staticmethod
    def stack(values: Sequence[Tensor]) -> Tensor:
        return stack(list(values))

    @staticmethod
    def unbind(x: Tensor) -> list[Tensor]:
        return [piece.reshape(piece.shape[1:]) for piece in split(x, 1, 0)]

    @staticmethod
    def lstm(gx: Tensor, gh: Tensor, c: Tensor) -> tuple[Tensor, Tensor, tuple[()]]:
        """(h', c', ()): the cell with recorded operations (nothing kept: the
        engine differentiates them)."""
        pre = gx + gh
        n = pre.shape[-1] // 4
        # one sigmoid over all four blocks (the g block's is unused): fewer,
        # larger operations than three sigmoids of a block each
        i, f, _, o = split(sigmoid(pre), [n, n, n, n], -1)
        g = tanh(split(pre, [2 * n, n, n], -1)[1])
        c_new = f * c + i * g
        return o * tanh(c_new), c_new, ()


ARRAYS: Final = _Arrays()
TENSORS: Final = _Tensors()


class Step(abc.ABC):
    """A cell's step (an interface: TanhStep, ReluStep, LSTMStep, GRUStep).
    `gates`: gate blocks per hidden unit (W_ih has gates * hidden_size rows);
    `cell`: whether the state has a cell c beside h."""

    mode = ""
    gates = 1
    cell = False

    @abc.abstractmethod
    def forward(
        self, ops: Any, gx: Value, gh: Value, h: Value, c: Value
    ) -> tuple[Value, Value, tuple[Value, ...]]:
        """(h', c' or None, what backward needs of this step)."""

    @abc.abstractmethod
    def backward(
        self,
        dy: NDArray,
        dc: NDArray | None,
        h: NDArray,
        c: NDArray | None,
        y: NDArray,
        kept: Sequence[NDArray],
    ) -> tuple[NDArray, NDArray, NDArray | None, NDArray | None]:
        """From the gradient of this step's output y (and of its cell c'): the
        gradients of gx and of gh, the part of h's gradient that does not pass
        through gh (GRU's z h term), and c's gradient. h, c: the previous
        state."""


class TanhStep(Step):
    mode = "RNN_TANH"

    def forward(
        self, ops: Any, gx: Value, gh: Value, h: Value, c: Value
    ) -> tuple[Value, Value, tuple[Value, ...]]:
        return ops.tanh(gx + gh), None, ()

    def backward(
        self,
        dy: NDArray,
        dc: NDArray | None,
        h: NDArray,
        c: NDArray | None,
        y: NDArray,
        kept: Sequence[NDArray],
    ) -> tuple[NDArray, NDArray, NDArray | None, NDArray | None]:
        dpre = dy * (1.0 - y * y)
        return dpre, dpre, None, None


class ReluStep(Step):
    mode = "RNN_RELU"

    def forward(
        self, ops: Any, gx: Value, gh: Value, h: Value, c: Value
    ) -> tuple[Value, Value, tuple[Value, ...]]:
        return ops.relu(gx + gh), None, ()

    def backward(
        self,
        dy: NDArray,
        dc: NDArray | None,
        h: NDArray,
        c: NDArray | None,
        y: NDArray,
        kept: Sequence[NDArray],
    ) -> tuple[NDArray, NDArray, NDArray | None, NDArray | None]:
        dpre = xp.where(y != 0, dy, 0.0)  # relu's own mask (activation/relu.py)
        return dpre, dpre, None, None


class LSTMStep(Step):
    """On NDArrays one device call each way (`lstm_cell`, `lstm_cell_backward`:
    PyTorch's fused cell), keeping (gates, c') of every step."""

    mode = "LSTM"
    gates = 4
    cell = True

    def forward(
        self, ops: Any, gx: Value, gh: Value, h: Value, c: Value
    ) -> tuple[Value, Value, tuple[Value, ...]]:
        result: tuple[Value, Value, tuple[Value, ...]] = ops.lstm(gx, gh, c)
        return result

    def backward(
        self,
        dy: NDArray,
        dc: NDArray | None,
        h: NDArray,
        c: NDArray | None,
        y: NDArray,
        kept: Sequence[NDArray],
    ) -> tuple[NDArray, NDArray, NDArray | None, NDArray | None]:
        assert c is not None  # an LSTM has a cell
        gates, c_new = (buffer_of(k) for k in kept)
        grad_h = buffer_of(dy)
        d_gates, d_c = grad_h.device.lstm_cell_backward(
            grad_h, None if dc is None else buffer_of(dc), buffer_of(c), c_new, gates
        )
        dpre = from_buffer(d_gates)
        return dpre, dpre, None, from_buffer(d_c)


class GRUStep(Step):
    mode = "GRU"
    gates = 3

    def forward(
        self, ops: Any, gx: Value, gh: Value, h: Value, c: Value
    ) -> tuple[Value, Value, tuple[Value, ...]]:
        n = gx.shape[-1] // 3
        x_rz, x_n = ops.split(gx, (2 * n, n))
        h_rz, h_n = ops.split(gh, (2 * n, n))
        rz = ops.sigmoid(x_rz + h_rz)
        r, z = ops.split(rz, (n, n))
        new = ops.tanh(x_n + r * h_n)
        return (h - new) * z + new, None, (rz, new, h_n)

    def backward(
        self,
        dy: NDArray,
        dc: NDArray | None,
        h: NDArray,
        c: NDArray | None,
        y: NDArray,
        kept: Sequence[NDArray],
    ) -> tuple[NDArray, NDArray, NDArray | None, NDArray | None]:
        rz, new, h_n = kept
        n = new.shape[-1]
        r, z = ARRAYS.split(rz, (n, n))
        d_new = dy * (1.0 - z) * (1.0 - new * new)  # through tanh: n's pre-activation
        d_rz = xp.concat([d_new * h_n, dy * (h - new)], axis=-1) * (rz * (1.0 - rz))
        dgx = xp.concat([d_rz, d_new], axis=-1)
        dgh = xp.concat([d_rz, d_new * r], axis=-1)
        return dgx, dgh, dy * z, None


STEPS: Final[dict[str, Step]] = {
    step.mode: step for step in (TanhStep(), ReluStep(), LSTMStep(), GRUStep())
}
