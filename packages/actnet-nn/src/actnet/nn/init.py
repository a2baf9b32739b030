"""Initialisers: fill a tensor in place, under no_grad, and return it
(torch.nn.init's names, signatures and defaults).

    import actnet.nn as nn
    from actnet.device import Generator, default_generator
    w = nn.Parameter(at.empty(256, 128))
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=Generator(0))

Random values come from actnet.device's counter-based generator (the default
generator when `generator` is None), so a seed gives the same weights on every
device. The draws are not PyTorch's (its generator is another), but the
distributions are the same.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import actnet.ndarray as xp
from actnet.device import Generator, default_generator
from actnet.tensor import Tensor, empty, no_grad

__all__ = [
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

NonlinearityType = Literal[
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]
FanMode = Literal["fan_in", "fan_out"]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


# ------------------------------------------------------------------- checks
def _check_tensor(tensor: Any, op: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: tensor must be a Tensor, got {type(tensor).__name__}")


def _check_float(tensor: Any, op: str) -> None:
    _check_tensor(tensor, op)
    if tensor.dtype.kind != "f":
        raise TypeError(
            f"{op}: tensor must have a floating dtype to hold random values, got "
            f"{tensor.dtype}"
        )


def _number(value: Any, name: str, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def _check_generator(generator: Any, op: str) -> None:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"{op}: generator must be an actnet.device.Generator or None, got "
            f"{type(generator).__name__}"
        )


# --------------------------------------------------------- gains and fans
def calculate_gain(nonlinearity: NonlinearityType, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain):
    1 for linear, conv and sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + negative_slope**2)) for leaky_relu (param is the slope, 0.01
    when None) and 3/4 for selu.

    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        # PyTorch's empirical value (pytorch/pytorch#50664)
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): in * prod(kernel) and
    out * prod(kernel), as torch.nn.init._calculate_fan_in_and_fan_out counts.

    >>> calculate_fan_in_and_fan_out(at.empty(16, 8, 3, 3))
    (72, 144)
    """
    _check_tensor(tensor, "calculate_fan_in_and_fan_out")
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 "
            f"dimensions (got shape {tensor.shape})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # torch's private name


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(
            f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']"
        )
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


# ------------------------------------------------------------ fill in place
def uniform_(
    tensor: Tensor,
    a: float = 0.0,
    b: float = 1.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill tensor with values from U(a, b) (torch.nn.init.uniform_).

    >>> uniform_(at.empty(3, 5), -0.1, 0.1, generator=Generator(0)).shape
    (3, 5)
    """
    _check_float(tensor, "uniform_")
    low, high = _number(a, "a", "uniform_"), _number(b, "b", "uniform_")
    _check_generator(generator, "uniform_")
    if low > high:
        raise ValueError(
            f"uniform_ expects a <= b (a range [a, b)), but found a={a} > b={b}"
        )
    with no_grad():
        if low == high:  # an empty range: the single value (torch gives it too)
            return tensor.fill_(low)
        return tensor.uniform_(low, high, generator=generator)


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill tensor with values from N(mean, std**2) (torch.nn.init.normal_).

    >>> normal_(at.empty(3, 5), std=0.02, generator=Generator(0)).shape
    (3, 5)
    """
    _check_float(tensor, "normal_")
    mu, sigma = _number(mean, "mean", "normal_"), _number(std, "std", "normal_")
    _check_generator(generator, "normal_")
    if sigma < 0:
        raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
    with no_grad():
        return tensor.normal_(mu, sigma, generator=generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill tensor with values from N(mean, std**2) truncated to [a, b]
    (torch.nn.init.trunc_normal_), by rejection as PyTorch 2.13 does: normal
    draws redrawn outside [a, b] when [a, b] holds more than 30% of the mass,
    else uniform proposals on [a, b] accepted with the normal's density
    relative to its peak in [a, b].

    >>> w = trunc_normal_(at.empty(1000), std=0.02, a=-0.04, b=0.04)
    >>> float(w.abs().max()) <= 0.04
    True
    """
    op = "trunc_normal_"
    _check_float(tensor, op)
    mu, sigma = _number(mean, "mean", op), _number(std, "std", op)
    lo, hi = _number(a, "a", op), _number(b, "b", op)
    _check_generator(generator, op)
    if not sigma > 0:
        raise ValueError(f"{op} expects std > 0, but found std {std}")
    if not lo < hi:
        raise ValueError(f"{op} expects a < b, but found a={a} and b={b}")
    if mu < lo - 2 * sigma or mu > hi + 2 * sigma:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    if tensor.numel() == 0:
        return tensor
    mass = _norm_cdf((hi - mu) / sigma) - _norm_cdf((lo - mu) / sigma)
    with no_grad():
        if mass > 0.3:
            values = _redraw_outside(tensor, mu, sigma, lo, hi, generator)
        else:
            values = _accept_under_density(tensor, mu, sigma, lo, hi, generator)
        # Rounding to the tensor's dtype must not step outside [a, b].
        bounds = xp.asarray([lo, hi], dtype=tensor.dtype, device=tensor.device)
        values = xp.clip(values, min=float(bounds[0]), max=float(bounds[1]))
        return tensor.copy_(values)


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def _draw(
    like: Tensor,
    kind: str,
    p: float,
    q: float,
    generator: Generator | None,
) -> xp.NDArray:
    """A fresh array of like's shape, dtype and device: normal(p, q) or
    uniform(p, q) values."""
    t = empty(like.shape, dtype=like.dtype, device=like.device)
    if kind == "normal":
        t.normal_(p, q, generator=generator)
    else:
        t.uniform_(p, q, generator=generator)
    return t.array


def _redraw_outside(
    tensor: Tensor,
    mean: float,
    std: float,
    a: float,
    b: float,
    generator: Generator | None,
) -> xp.NDArray:
    values = _draw(tensor, "normal", mean, std, generator)
    outside = xp.logical_or(values < a, values > b)
    while bool(xp.any(outside)):
        fresh = _draw(tensor, "normal", mean, std, generator)
        values = xp.where(outside, fresh, values)
        outside = xp.logical_or(values < a, values > b)
    return values


def _accept_under_density(
    tensor: Tensor,
    mean: float,
    std: float,
    a: float,
    b: float,
    generator: Generator | None,
) -> xp.NDArray:
    # A proposal x ~ U(a, b) is kept with probability exp(-(z^2 - z_mode^2) / 2),
    # z = (x - mean) / std: the normal density over its largest value on [a, b].
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def rejected(x: xp.NDArray) -> xp.NDArray:
        z = (x - mean) / std
        log_accept = -0.5 * (z * z) - log_peak
        return xp.log(_draw(tensor, "uniform", 0.0, 1.0, generator)) > log_accept

    values = _draw(tensor, "uniform", a, b, generator)
    pending = rejected(values)
    while bool(xp.any(pending)):
        fresh = _draw(tensor, "uniform", a, b, generator)
        values = xp.where(pending, fresh, values)
        pending = xp.logical_and(pending, rejected(fresh))
    return values


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill tensor with val (torch.nn.init.constant_).

    >>> constant_(at.empty(2), 0.3)
    tensor([0.3, 0.3])
    """
    _check_tensor(tensor, "constant_")
    if isinstance(val, Tensor):
        val = val.item()
    if not isinstance(val, int | float | bool):
        raise TypeError(f"constant_: val must be a number, got {val!r}")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill tensor with 1 (torch.nn.init.ones_)."""
    _check_tensor(tensor, "ones_")
    with no_grad():
        return tensor.fill_(1.0 if tensor.dtype.kind in "fc" else 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill tensor with 0 (torch.nn.init.zeros_)."""
    _check_tensor(tensor, "zeros_")
    with no_grad():
        return tensor.zero_()


def eye_(tensor: Tensor) -> Tensor:
    """Fill the 2-d tensor with the identity matrix: ones on the main diagonal
    (torch.nn.init.eye_).

    >>> eye_(at.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    _check_tensor(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(
            f"Only tensors with 2 dimensions are supported (got shape {tensor.shape})"
        )
    rows, cols = tensor.shape
    identity = xp.eye(rows, cols, dtype=tensor.dtype, device=tensor.device)
    with no_grad():
        return tensor.copy_(identity)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill the 3-, 4- or 5-d convolution weight with the Dirac delta, so the
    convolution passes its first channels through (torch.nn.init.dirac_); each of
    `groups` groups of output channels does so for its own inputs.

    >>> dirac_(at.empty(2, 2, 3))[:, :, 1]
    tensor([[1., 0.],
            [0., 1.]])
    """
    _check_tensor(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            "Only tensors with 3, 4, or 5 dimensions are supported (got shape "
            f"{tensor.shape})"
        )
    if type(groups) is not int or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive int, got {groups!r}")
    out_channels, in_channels, *kernel = tensor.shape
    if out_channels % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = out_channels // groups
    centre = tuple(k // 2 for k in kernel)
    rows = [
        g * per_group + d
        for g in range(groups)
        for d in range(min(per_group, in_channels))
    ]
    cols = [d for _ in range(groups) for d in range(min(per_group, in_channels))]
    delta = xp.zeros(tensor.shape, dtype=tensor.dtype, device=tensor.device)
    if rows:
        index = (
            xp.asarray(rows, dtype=xp.int64, device=tensor.device),
            xp.asarray(cols, dtype=xp.int64, device=tensor.device),
            *centre,
        )
        delta = delta.at[index].set(1)
    with no_grad():
        return tensor.copy_(delta)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill tensor from U(-bound, bound), bound = gain * sqrt(6 / (fan_in +
    fan_out)) (Glorot & Bengio 2010; torch.nn.init.xavier_uniform_)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    gain = _number(gain, "gain", "xavier_uniform_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill tensor from N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))
    (Glorot & Bengio 2010; torch.nn.init.xavier_normal_)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    gain = _number(gain, "gain", "xavier_normal_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(
    tensor: Tensor, a: float, mode: FanMode, nonlinearity: NonlinearityType, op: str
) -> float | None:
    """gain / sqrt(fan), or None (after PyTorch's warning) for an empty tensor."""
    _check_float(tensor, op)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: FanMode = "fan_in",
    nonlinearity: NonlinearityType = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """Fill tensor from U(-bound, bound), bound = gain * sqrt(3 / fan), gain
    from calculate_gain(nonlinearity, a) and fan the fan_in or fan_out (He et al.
    2015; torch.nn.init.kaiming_uniform_). Linear's default, a = sqrt(5), gives
    bound = 1 / sqrt(fan_in).

    >>> w = kaiming_uniform_(at.empty(64, 100), a=math.sqrt(5))
    >>> float(w.abs().max()) < 0.1
    True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: FanMode = "fan_in",
    nonlinearity: NonlinearityType = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """Fill tensor from N(0, std**2), std = gain / sqrt(fan) (He et al. 2015;
    torch.nn.init.kaiming_normal_)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(
    tensor: Tensor, gain: float = 1, generator: Generator | None = None
) -> Tensor:
    """Fill tensor (at least 2-d; the trailing dims flattened) with a (semi-)
    orthogonal matrix times gain: the Q of the QR decomposition of a standard
    normal matrix, its columns' signs fixed by R's diagonal so that Q is
    uniformly (Haar) distributed (Saxe et al. 2013; torch.nn.init.orthogonal_).

    >>> q = orthogonal_(at.empty(3, 5)).detach().numpy()
    >>> bool(np.allclose(q @ q.T, np.eye(3), atol=1e-6))
    True
    """
    _check_float(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            "Only tensors with 2 or more dimensions are supported (got shape "
            f"{tensor.shape})"
        )
    gain = _number(gain, "gain", "orthogonal_")
    _check_generator(generator, "orthogonal_")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    like = empty((rows, cols), dtype=tensor.dtype, device=tensor.device)
    flat = _draw(like, "normal", 0.0, 1.0, generator)
    if rows < cols:
        flat = xp.matrix_transpose(flat)
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.linalg.diagonal(r))
    if rows < cols:
        q = xp.matrix_transpose(q)
    with no_grad():
        return tensor.copy_(xp.reshape(q * gain, tensor.shape))


def sparse_(
    tensor: Tensor,
    sparsity: float,
    std: float = 0.01,
    generator: Generator | None = None,
) -> Tensor:
    """Fill the 2-d tensor from N(0, std**2), then zero ceil(sparsity * rows)
    randomly chosen entries of every column (Martens 2010;
    torch.nn.init.sparse_)."""
    _check_float(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(
            f"Only tensors with 2 dimensions are supported (got shape {tensor.shape})"
        )
    sparsity = _number(sparsity, "sparsity", "sparse_")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    normal_(tensor, 0.0, std, generator)
    gen = default_generator if generator is None else generator
    keep = xp.ones((rows, cols), dtype=xp.bool, device=tensor.device)
    for col in range(cols):
        order = xp.from_buffer(gen.permutation(rows, device=tensor.device))
        chosen = order[:zeros]
        keep = keep.at[chosen, col].set(False)
    with no_grad():
        return tensor.copy_(xp.where(keep, tensor.array, xp.zeros_like(tensor.array)))
