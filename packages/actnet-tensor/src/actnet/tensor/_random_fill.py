"""Random draws with PyTorch's names: normal, bernoulli, poisson, randint_like,
and the in-place fills bernoulli_, exponential_, random_, cauchy_, log_normal_,
geometric_.

Every draw comes from actnet.device's counter-based generator (the default one,
or `generator=`), as in _random.py: the numbers are not PyTorch's, the
distributions are. Each continuous law is the inverse of its distribution
function at a uniform u in [0, 1) (1 - u is in (0, 1], so no log is of 0).

poisson uses inversion (adding up the probabilities of 0, 1, 2, ... until they
exceed u) for rates below 10, and Hörmann's transformed rejection with squeeze
(PTRS, as NumPy) above, where inversion would take about `rate` steps.

As PyTorch's, normal, bernoulli and poisson are differentiable with a zero
gradient: the sample does not move with its parameters.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device, Generator, default_generator, get_device
from actnet.ndarray import NDArray, from_buffer
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._floating import FLOATING
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._inplace import _random_
from actnet.tensor._promotion import as_dtype, result_dtype
from actnet.tensor._random import randint
from actnet.tensor._saved import leaf
from actnet.tensor._tensor_base import TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _gen(generator: Generator | None) -> Generator:
    return default_generator if generator is None else generator


def _work(device: Device) -> np.dtype[Any]:
    """The dtype the draws are computed in: float64 where the device has it."""
    return xp.float64 if device.supports(xp.float64) else xp.float32


def _uniform(shape: tuple[int, ...], device: Device, gen: Generator) -> NDArray:
    return from_buffer(gen.uniform(shape, _work(device), device=device))


def _all(condition: NDArray) -> bool:
    return builtins.bool(xp.all(condition))


# ---------------------------------------------------- zero-gradient samples
class _ZeroGrad(Node):
    """The backward of a sample: zero for each parameter (PyTorch's)."""

    __slots__ = ("shapes",)

    def __init__(self, edges: tuple[Edge, ...], shapes: list[tuple[int, ...]]) -> None:
        super().__init__(edges)
        self.shapes = shapes

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return [
            _make(xp.zeros(shape, dtype=g.dtype, device=g.device))
            for shape in self.shapes
        ]


class NormalBackward(_ZeroGrad):
    __slots__ = ()


class BernoulliBackward(_ZeroGrad):
    __slots__ = ()


class PoissonBackward(_ZeroGrad):
    __slots__ = ()


def _sample(data: NDArray, node: type[_ZeroGrad], params: list[Any]) -> Tensor:
    """A sample drawn from `params`, with a zero gradient for those that need one."""
    tensors = [p for p in params if isinstance(p, TensorBase)]
    if not needs_grad(*tensors):
        return _make(data)
    edges = tuple(edge_of(t) for t in tensors)
    return _make(data, True, node(edges, [t.shape for t in tensors]))


# -------------------------------------------------------------------- normal
def _float_dtype(dtype: Any) -> np.dtype[Any]:
    target = get_default_dtype() if dtype is None else as_dtype(dtype)
    if target not in FLOATING and target.kind != "V":  # "V": bfloat16
        raise RuntimeError(f"normal expects floating-point outputs, got {target}")
    return target


def normal(
    mean: Tensor | builtins.float,
    std: Tensor | builtins.float = 1.0,
    size: Sequence[builtins.int] | None = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Samples of Normal(mean, std**2): mean and std tensors (broadcast) or
    floats; two floats need `size`. The result's dtype is the tensors'.

    >>> normal(zeros(3), 2.0)  # three samples of standard deviation 2
    >>> normal(0.0, 1.0, size=(2, 2))
    """
    gen = _gen(generator)
    m_t, s_t = isinstance(mean, TensorBase), isinstance(std, TensorBase)
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal() missing required argument 'size'")
        if builtins.float(std) < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dev = get_device("cpu" if device is None else device)
        values = gen.normal(
            tuple(size),
            _float_dtype(dtype),
            mean=builtins.float(mean),
            std=builtins.float(std),
            device=dev,
        )
        return leaf(from_buffer(values), requires_grad, "normal")
    if s_t:
        assert isinstance(std, TensorBase)
        if std.numel() and not _all(std.array >= 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif builtins.float(std) < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    tensors = [t for t in (mean, std) if isinstance(t, TensorBase)]
    target = tensors[0].dtype
    for t in tensors[1:]:
        target = result_dtype(target, t.dtype)
    if target not in FLOATING:
        raise NotImplementedError(f'"normal" not implemented for {target}')
    arrays = [t.array if isinstance(t, TensorBase) else t for t in (mean, std)]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shapes = " and ".join(str(list(t.shape)) for t in tensors)
        raise RuntimeError(f"normal: shapes {shapes} do not broadcast") from None
    dev = tensors[0].device
    z = from_buffer(gen.normal(shape, target, device=dev))
    data = xp.astype(arrays[0] + arrays[1] * z, target)
    return _sample(data, NormalBackward, [mean, std])


# ------------------------------------------------------------------ bernoulli
def _check_probabilities(p: NDArray) -> None:
    if not _all(xp.logical_and(p >= 0, p <= 1)):
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
            "(Could this error message be improved?  If so, please report an "
            "enhancement request to PyTorch.)"
        )


def bernoulli(
    input: Tensor,
    p: builtins.float | None = None,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """1 with probability input (element-wise), else 0, in input's dtype; with
    `p`, 1 with probability p in input's shape.

    >>> bernoulli(full((4,), 0.25))  # each element 1 with probability 1/4
    """
    if not isinstance(input, TensorBase):
        raise TypeError(f"bernoulli(): input must be a Tensor, not {type(input)}")
    u = _uniform(input.shape, input.device, _gen(generator))
    if p is None:
        if input.dtype not in FLOATING:
            raise NotImplementedError(
                f'"bernoulli_tensor_cpu_p_" not implemented for {input.dtype}'
            )
        _check_probabilities(input.array)
        hits = u < xp.astype(input.array, u.dtype)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        hits = u < p
    return _sample(xp.astype(hits, input.dtype), BernoulliBackward, [input])


# -------------------------------------------------------------------- poisson
_LOG_FACTORIALS = [math.lgamma(k + 1) for k in range(10)]


def _log_factorial(k: NDArray) -> NDArray:
    """log(k!) for whole k >= 0: a table below 10, Stirling's series above."""
    x = xp.maximum(k, 10.0) + 1
    stirling = (
        (x - 0.5) * xp.log(x)
        - x
        + 0.5 * math.log(2 * math.pi)
        + 1 / (12 * x)
        - 1 / (360 * x**3)
        + 1 / (1260 * x**5)
    )
    table = xp.asarray(_LOG_FACTORIALS, dtype=k.dtype, device=k.device)
    small = xp.astype(xp.clip(k, 0, 9), xp.int64)
    return xp.where(k < 10, xp.take(table, xp.reshape(small, (-1,))), stirling)


def _poisson_small(lam: NDArray, gen: Generator) -> NDArray:
    """Inversion: the first k whose cumulative probability exceeds u."""
    u = _uniform(lam.shape, lam.device, gen)
    k = xp.zeros(lam.shape, dtype=lam.dtype, device=lam.device)
    term = xp.exp(-lam)
    total = term
    for _ in range(200):  # rates < 10: P(k >= 200) is far below float64's eps
        active = u >= total
        if not _all(xp.logical_not(active)):
            k = k + xp.astype(active, k.dtype)
            term = term * lam / xp.maximum(k, 1.0)
            total = xp.where(active, total + term, total)
        else:
            break
    return k


def _poisson_large(lam: NDArray, gen: Generator) -> NDArray:
    """PTRS (Hörmann 1993), every pending element drawing again until accepted."""
    slam = xp.sqrt(lam)
    loglam = xp.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    k = xp.zeros(lam.shape, dtype=lam.dtype, device=lam.device)
    pending = xp.ones(lam.shape, dtype=xp.bool, device=lam.device)
    while not _all(xp.logical_not(pending)):
        uv = _uniform((2, *lam.shape), lam.device, gen)
        big_u, v = uv[0] - 0.5, uv[1]
        us = xp.maximum(0.5 - xp.abs(big_u), 1e-300)
        cand = xp.floor((2 * a / us + b) * big_u + lam + 0.43)
        quick = xp.logical_and(us >= 0.07, v <= vr)
        refused = xp.logical_or(cand < 0, xp.logical_and(us < 0.013, v > us))
        bound = xp.log(v) + xp.log(inv_alpha) - xp.log(a / (us * us) + b)
        target = -lam + cand * loglam - _log_factorial(xp.maximum(cand, 0.0))
        slow = xp.logical_and(xp.logical_not(refused), bound <= target)
        accept = xp.logical_and(pending, xp.logical_or(quick, slow))
        k = xp.where(accept, cand, k)
        pending = xp.logical_and(pending, xp.logical_not(accept))
    return k


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """A sample of Poisson(rate) for each rate in input (a float tensor), in
    input's dtype.

    >>> poisson(full((3,), 4.0))  # counts of mean 4
    """
    if not isinstance(input, TensorBase):
        raise TypeError(f"poisson(): input must be a Tensor, not {type(input)}")
    if input.dtype not in FLOATING:
        raise NotImplementedError(f'"poisson_cpu" not implemented for {input.dtype}')
    lam = xp.astype(input.array, _work(input.device))
    if not _all(lam >= 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    gen = _gen(generator)
    small = lam < 10
    counts = xp.where(small, _poisson_small(xp.where(small, lam, 0.0), gen), 0.0)
    if not _all(small):
        large = _poisson_large(xp.where(small, 10.0, lam), gen)
        counts = xp.where(small, counts, large)
    return _sample(xp.astype(counts, input.dtype), PoissonBackward, [input])


# --------------------------------------------------------------- randint_like
def randint_like(
    input: Tensor,
    *args: builtins.int,
    low: builtins.int | None = None,
    high: builtins.int | None = None,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Integers uniform in [low, high) (low is 0 unless given) in input's shape,
    dtype and device unless told otherwise: randint_like(input, high) or
    randint_like(input, low, high).

    >>> randint_like(zeros(2, 3), 10)
    """
    if not isinstance(input, TensorBase):
        raise TypeError(f"randint_like(): input must be a Tensor, not {type(input)}")
    return randint(
        *args,
        low=low,
        high=high,
        size=input.shape,
        generator=generator,
        dtype=input.dtype if dtype is None else dtype,
        device=input.device if device is None else device,
        requires_grad=requires_grad,
    )


# ----------------------------------------------------------- in-place fills
def _fill(t: Tensor, values: NDArray, op: str) -> Tensor:
    data = xp.astype(values, t.dtype)
    buf = data.buffer
    buf.info = ("parameter" if t._requires_grad else "activation", op)
    return _random_(t, buf, op)


def _require_float(t: Tensor, law: str) -> None:
    if t.dtype not in FLOATING and t.dtype.kind != "V":
        raise RuntimeError(
            f"{law} distribution is a continuous probability distribution. dtype "
            f"must be a floating point but you specified {t.dtype}"
        )


def bernoulli_(
    t: Tensor, p: Tensor | builtins.float = 0.5, *, generator: Generator | None = None
) -> Tensor:
    """t's elements replaced by 1 with probability p (a float or a tensor
    broadcast to t), else 0."""
    u = _uniform(t.shape, t.device, _gen(generator))
    if isinstance(p, TensorBase):
        _check_probabilities(p.array)
        hits = u < xp.astype(p.array, u.dtype)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        hits = u < p
    return _fill(t, hits, "bernoulli_")


def exponential_(
    t: Tensor, lambd: builtins.float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """t's elements replaced by samples of Exponential(rate lambd)."""
    if not lambd > 0:
        raise RuntimeError(
            f"exponential_ expects lambda > 0.0, but found lambda={lambd}"
        )
    _require_float(t, "Exponential")
    u = _uniform(t.shape, t.device, _gen(generator))
    return _fill(t, -xp.log1p(-u) / lambd, "exponential_")


def cauchy_(
    t: Tensor,
    median: builtins.float = 0.0,
    sigma: builtins.float = 1.0,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """t's elements replaced by samples of Cauchy(median, sigma)."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _require_float(t, "Cauchy")
    u = _uniform(t.shape, t.device, _gen(generator))
    return _fill(t, median + sigma * xp.tan(math.pi * (u - 0.5)), "cauchy_")


def log_normal_(
    t: Tensor,
    mean: builtins.float = 1.0,
    std: builtins.float = 2.0,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """t's elements replaced by exp of samples of Normal(mean, std**2)."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _require_float(t, "LogNormal")
    work = _work(t.device)
    z = from_buffer(_gen(generator).normal(t.shape, work, device=t.device))
    return _fill(t, xp.exp(mean + std * z), "log_normal_")


def geometric_(
    t: Tensor, p: builtins.float, *, generator: Generator | None = None
) -> Tensor:
    """t's elements replaced by the number of Bernoulli(p) trials up to the first
    success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = _uniform(t.shape, t.device, _gen(generator))
    return _fill(t, xp.floor(xp.log1p(-u) / math.log1p(-p)) + 1, "geometric_")


def _random_range(t: Tensor) -> tuple[builtins.int, builtins.int]:
    """random_()'s default range [0, top] for t's dtype: the integers a float
    holds exactly, or all of an integer dtype's non-negative ones."""
    if t.dtype == xp.bool:
        return 0, 1
    if t.dtype.kind in "iu":
        return 0, builtins.int(xp.iinfo(t.dtype).max)
    digits = {xp.float16: 11, xp.float32: 24, xp.float64: 53}.get(t.dtype, 8)
    return 0, 2**digits


def random_(t: Tensor, *args: builtins.int, **kwargs: Any) -> Tensor:
    """t.random_(), t.random_(to), t.random_(from, to) (`from` and `to` as
    keywords too): integers uniform in [from, to), or over t's dtype's range."""
    generator = kwargs.pop("generator", None)
    unknown = set(kwargs) - {"from", "to"}
    if unknown or len(args) > 2:
        raise TypeError("random_() received an invalid combination of arguments")
    low: builtins.int | None = kwargs.get("from")
    high: builtins.int | None = kwargs.get("to")
    if len(args) == 1 and low is None and high is None:
        high = args[0]
    elif args:
        low, high = (args[0], high) if len(args) == 1 else args
    if low is None:
        low = 0
    if high is None:
        high = _random_range(t)[1] + 1
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= "
            f"to={high}"
        )
    if t.dtype.kind in "biu":  # the range must fit the dtype, as PyTorch checks
        lowest = builtins.int(xp.iinfo(t.dtype).min) if t.dtype.kind == "i" else 0
        if low < lowest:
            raise RuntimeError(f"from is out of bounds for {t.dtype}")
        if high - 1 > _random_range(t)[1]:
            raise RuntimeError(f"to - 1 is out of bounds for {t.dtype}")
    values = _gen(generator).randint(low, high, t.shape, xp.int64, device=t.device)
    return _fill(t, from_buffer(values), "random_")
