"""Fused optimiser updates of a Device: SGD and Adam/AdamW over many tensors, each
tensor in one pass, in place.

One call updates a whole model (or one parameter group of it): the operators take
sequences of Buffers of one dtype (parameters, gradients, state) and loop over
them inside the device. PyTorch's single-tensor algorithms, in its order of
operations (see `_kernels_optim.py`); its names for the options. Written buffers
(parameters and state) must not overlap one another or a gradient: as in
PyTorch's fused optimisers, this is not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._kernels_optim import adam_scalars, sgd_scalars
from actnet.device._opset import OPS


def _number(op: str, name: str, value: Any) -> float:
    """value as a float, after checking it is a real number (not a bool)."""
    if type(value) is float:  # the usual case, first
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{op}: {name} must be a float, got {type(value).__name__}")
    return float(value)


class OptimOps(DeviceCore):
    """The fused optimiser updates of a Device."""

    def _tensor_lists(
        self, op: str, lists: dict[str, Sequence[Buffer]]
    ) -> tuple[np.dtype[Any], list[list[Any]]] | None:
        """The dtype and the arrays of each named list of Buffers (None when the
        lists are empty), after checking that the lists have one length, each entry
        is a Buffer of this device, entry i of every list has the first list's
        entry i's shape, and all share one dtype in op's table. (These checks run
        on every tensor of a model at every step: the common case goes first.)"""
        first = next(iter(lists))
        count = -1
        for name, buffers in lists.items():
            if not isinstance(buffers, (list, tuple)):
                raise TypeError(
                    f"{op}: {name} must be a list or tuple of Buffers, got "
                    f"{type(buffers).__name__}"
                )
            if count < 0:
                count = len(buffers)
            elif len(buffers) != count:
                raise ValueError(
                    f"{op}: {name} has {len(buffers)} tensors, {first} has {count}"
                )
        if not count:
            return None
        dtype = self._own(lists[first][0], op, f"{first}[0]").dtype
        self._result_dtype(op, OPS[op].dtypes, dtype)
        arrays: list[list[Any]] = []
        shapes: list[tuple[int, ...]] = []
        for name, buffers in lists.items():
            own: list[Any] = []
            for buf in buffers:
                if type(buf) is not Buffer or buf.device is not self:
                    self._own(buf, op, f"{name}[{len(own)}]")  # raises
                arr = buf.native
                if arr.dtype != dtype or (shapes and arr.shape != shapes[len(own)]):
                    self._mismatch(op, name, len(own), arr, first, dtype, shapes)
                own.append(arr)
            if not shapes:
                shapes = [arr.shape for arr in own]
            arrays.append(own)
        return dtype, arrays

    def _mismatch(
        self,
        op: str,
        name: str,
        i: int,
        arr: Any,
        first: str,
        dtype: np.dtype[Any],
        shapes: list[tuple[int, ...]],
    ) -> None:
        if arr.dtype != dtype:
            raise TypeError(
                f"{op}: {name}[{i}] has dtype {arr.dtype}, {first}[0] has {dtype}: "
                "one dtype per call"
            )
        raise ValueError(
            f"{op}: {name}[{i}] has shape {arr.shape}, {first}[{i}] has {shapes[i]}"
        )

    def sgd_update(
        self,
        params: Sequence[Buffer],
        grads: Sequence[Buffer],
        momentum_buffers: Sequence[Buffer] = (),
        *,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
        first_step: bool | Sequence[bool] = False,
    ) -> None:
        """One SGD step (`torch.optim.SGD`) of every params[i], in place:

            g = -grads[i] if maximize else grads[i]
            g = g + weight_decay * param                  (if weight_decay != 0)
            buf = g on its first step, else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf   (if momentum != 0)
            param = param - lr * g

        With momentum != 0, momentum_buffers holds one buffer per parameter, and
        `first_step` (one bool, or one per parameter) marks those that are new:
        their contents are not read, they become g, as PyTorch's `buf =
        grad.clone()` (with momentum 0, both are ignored).

        >>> dev.sgd_update([w, b], [dw, db], [vw, vb], lr=0.1, momentum=0.9,
        ...                first_step=True)
        """
        op = "sgd_update"
        lr = _number(op, "lr", lr)
        momentum = _number(op, "momentum", momentum)
        dampening = _number(op, "dampening", dampening)
        weight_decay = _number(op, "weight_decay", weight_decay)
        lists = {"params": params, "grads": grads}
        if momentum != 0:
            lists["momentum_buffers"] = momentum_buffers
        checked = self._tensor_lists(op, lists)
        if checked is None:
            return
        dtype, arrays = checked
        n = len(arrays[0])
        scalars = sgd_scalars(dtype, lr, momentum, dampening, weight_decay)
        bufs = arrays[2] if momentum != 0 else None
        firsts = [False] * n
        if bufs is not None:
            firsts = self._flags(op, "first_step", first_step, n)
        self._call(
            True,
            self._backend.sgd_update,
            arrays[0],
            arrays[1],
            bufs,
            firsts,
            scalars,
            bool(nesterov),
            bool(maximize),
        )

    def adam_update(
        self,
        params: Sequence[Buffer],
        grads: Sequence[Buffer],
        exp_avgs: Sequence[Buffer],
        exp_avg_sqs: Sequence[Buffer],
        max_exp_avg_sqs: Sequence[Buffer] = (),
        *,
        steps: float | Sequence[float],
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        """One Adam step (`torch.optim.Adam`; AdamW with decoupled_weight_decay)
        of every params[i], exp_avgs[i] (m), exp_avg_sqs[i] (v) and, with amsgrad,
        max_exp_avg_sqs[i], in place. `steps` is the step count of each parameter
        (one number for all), this step included:

            g = -grads[i] if maximize else grads[i]
            param *= 1 - lr * weight_decay          (decoupled_weight_decay)
            g = g + weight_decay * param            (otherwise, if weight_decay)
            m = lerp(m, g, 1 - beta1)
            v = beta2 * v + (1 - beta2) * g * g
            vmax = max(vmax, v)                     (amsgrad; then v = vmax below)
            denom = sqrt(v) / sqrt(1 - beta2**step) + eps
            param += (-lr / (1 - beta1**step) * m) / denom

        >>> dev.adam_update(params, grads, ms, vs, steps=1, lr=1e-3, beta1=0.9,
        ...                 beta2=0.999, eps=1e-8, weight_decay=0.1,
        ...                 decoupled_weight_decay=True)
        """
        op = "adam_update"
        lr = _number(op, "lr", lr)
        beta1 = _number(op, "beta1", beta1)
        beta2 = _number(op, "beta2", beta2)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:  # else a bias correction 1 - beta**step is 0
                raise ValueError(f"{op}: {name} must be in [0, 1), got {beta}")
        eps = _number(op, "eps", eps)
        weight_decay = _number(op, "weight_decay", weight_decay)
        lists = {
            "params": params,
            "grads": grads,
            "exp_avgs": exp_avgs,
            "exp_avg_sqs": exp_avg_sqs,
        }
        if amsgrad:
            lists["max_exp_avg_sqs"] = max_exp_avg_sqs
        checked = self._tensor_lists(op, lists)
        if checked is None:
            return
        dtype, arrays = checked
        n = len(arrays[0])
        if isinstance(steps, (list, tuple)):
            if len(steps) != n:
                raise ValueError(f"{op}: steps has {len(steps)} counts, params has {n}")
            counts = list(steps)
            for i, count in enumerate(counts):
                if type(count) is not float or count < 1.0:
                    counts[i] = self._step_count(op, f"steps[{i}]", count)
        else:
            counts = [self._step_count(op, "steps", steps)] * n
        decoupled = bool(decoupled_weight_decay)
        made: dict[float, Any] = {}  # one set of scalars per distinct step count
        scalars = []
        for count in counts:
            s = made.get(count)
            if s is None:
                s = adam_scalars(
                    dtype, count, lr, beta1, beta2, eps, weight_decay, decoupled
                )
                made[count] = s
            scalars.append(s)
        self._call(
            True,
            self._backend.adam_update,
            arrays[0],
            arrays[1],
            arrays[2],
            arrays[3],
            arrays[4] if amsgrad else None,
            scalars,
            weight_decay != 0,
            decoupled,
            bool(maximize),
        )

    def _step_count(self, op: str, name: str, value: Any) -> float:
        count = _number(op, name, value)
        if not count >= 1.0:
            raise ValueError(f"{op}: {name} must be at least 1, got {value}")
        return count

    def _flags(
        self, op: str, name: str, value: bool | Sequence[bool], n: int
    ) -> list[bool]:
        """One bool, or one per tensor, as a list of n bools."""
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(f"{op}: {name} has {len(value)} flags, params has {n}")
            return [bool(v) for v in value]
        return [bool(value)] * n
