"""pad: torch.nn.functional.pad, built from differentiable narrows, joins and
index selections."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import actnet.tensor as at
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor
from actnet.tensor.amp import CPU_CAST_POLICIES, autocast_cast

MODES = ("constant", "reflect", "replicate", "circular")
_KERNELS = {"reflect": "reflection", "replicate": "replication"}


def pad(
    input: Tensor,
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """input padded by `pad` = (left, right) of the last dim, then of the one
    before, ... (torch.nn.functional.pad). 'constant' fills with `value` (0) and
    takes negative pads (cropping); 'reflect' mirrors without repeating the edge,
    'replicate' repeats the edge, 'circular' wraps around (these pad the last 1 to
    3 dims of a batched input).

    >>> pad(tensor([[1.0, 2.0]]), (1, 2)).tolist()
    [[0.0, 1.0, 2.0, 0.0, 0.0]]
    """
    op = "pad"
    check_tensor(input, op, kinds="biufc")
    if mode not in MODES:
        raise NotImplementedError(
            f"Unrecognised padding mode {mode}: expected one of {MODES}"
        )
    if not isinstance(pad, Sequence) or any(
        isinstance(p, bool) or not isinstance(p, int) for p in pad
    ):
        raise TypeError(f"pad: pad must be a sequence of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise ValueError(
            "Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(pad)} and input of dimension "
            f"{input.ndim}"
        )
    if mode != "constant" and value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    dims = len(pad) // 2
    if mode != "constant" and not (
        1 <= dims <= 3 and dims + 1 <= input.ndim <= dims + 2
    ):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input "
            "tensor: non-constant padding pads the last 1, 2 or 3 dims of an input "
            "with one or two more (2D or 3D input for size 2, 3D or 4D for 4, 4D "
            "or 5D for 6)"
        )
    kernel = f"{_KERNELS.get(mode)}_pad{dims}d"  # PyTorch's, by mode and dims
    if kernel in CPU_CAST_POLICIES:  # reflection_pad2d: float32 under autocast
        (input,) = autocast_cast(kernel, input)
    out = input
    for i in range(dims):
        dim = input.ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        if mode == "constant":
            out = _constant(out, dim, left, right, 0.0 if value is None else value)
        else:
            out = _indexed(out, dim, left, right, mode)
    return out


def _constant(x: Tensor, dim: int, left: int, right: int, value: float) -> Tensor:
    n = x.shape[dim]
    start, stop = max(-left, 0), n - max(-right, 0)
    if stop < start:
        raise RuntimeError(
            f"pad: the negative padding of dim {dim} removes more than its {n} elements"
        )
    if start or stop != n:
        x = x.narrow(dim, start, stop - start)
    parts = []
    for width in (max(left, 0), max(right, 0)):
        shape = list(x.shape)
        shape[dim] = width
        parts.append(at.full(tuple(shape), value, dtype=x.dtype, device=x.device))
    if not parts[0].shape[dim] and not parts[1].shape[dim]:
        return x
    return at.cat([parts[0], x, parts[1]], dim=dim)


def _indexed(x: Tensor, dim: int, left: int, right: int, mode: str) -> Tensor:
    n = x.shape[dim]
    positions = np.arange(-left, n + right)
    if mode == "replicate":
        index = np.clip(positions, 0, n - 1)
    elif mode == "circular":
        if left > n or right > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        index = positions % n
    else:  # reflect: ... 2 1 | 0 1 2 | 1 0 ...
        if left >= n or right >= n:
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding "
                f"input dimension, but got: padding ({left}, {right}) at dimension "
                f"{dim} of input {tuple(x.shape)}"
            )
        period = 2 * (n - 1) if n > 1 else 1
        index = np.abs((positions + period) % period)
        index = np.where(index >= n, period - index, index)
    return at.index_select(x, dim, at.tensor(index.astype(np.int64), device=x.device))
