"""Random integers and samples: multinomial, randint, randperm, and manual_seed.

Every draw comes from actnet.device's counter-based generator (the default one,
or `generator=`), as rand and randn do: the numbers are not PyTorch's, the
distributions are.

- multinomial without replacement is the exponential race: category i gets the
  key p_i / E_i with E_i ~ Exp(1), and the k largest keys win. That is
  sampling one category at a time in proportion to p, without replacement (the
  first one to arrive among exponential clocks of rates p_i, then the next, ...).
  A category of probability 0 comes only after all the others, in index order.
- with replacement, each sample is the first category whose cumulative
  probability exceeds a uniform u in [0, 1): the cumulative sums are divided
  by their total, so the last one is exactly 1 and a category of probability 0
  (whose cumulative sum equals the one before it) is never picked.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.device
import actnet.ndarray as xp
from actnet.device import Device, Generator, default_generator, get_device
from actnet.ndarray import NDArray, from_buffer
from actnet.tensor._floating import FLOATING
from actnet.tensor._promotion import as_dtype
from actnet.tensor._saved import leaf
from actnet.tensor._tensor_base import TensorBase

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_INT64 = xp.int64


def _device(device: Device | str | None) -> Device:
    return get_device("cpu" if device is None else device)


# ---------------------------------------------------------------- multinomial
def _check_distribution(
    input: Tensor, num_samples: builtins.int, replacement: Any
) -> None:
    if not isinstance(input, TensorBase):
        raise TypeError(f"multinomial(): input must be a Tensor, not {type(input)}")
    if input.dtype not in FLOATING:
        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{input.dtype}"
        )
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if type(num_samples) is not builtins.int:
        raise TypeError(
            f"multinomial(): num_samples must be an int, got {num_samples!r}"
        )
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )


def _with_replacement(
    rows: NDArray, num_samples: builtins.int, gen: Generator
) -> NDArray:
    cdf = xp.cumulative_sum(rows, axis=1)
    cdf = cdf / cdf[:, -1:]  # x / x is exactly 1: u < 1 always finds a category
    u = from_buffer(
        gen.uniform((rows.shape[0], num_samples), rows.dtype, device=rows.device)
    )
    if rows.shape[0] == 0:
        return xp.zeros((0, num_samples), dtype=_INT64, device=rows.device)
    picks = [xp.searchsorted(cdf[r], u[r], side="right") for r in range(rows.shape[0])]
    return xp.stack(picks)


def _without_replacement(
    rows: NDArray, num_samples: builtins.int, gen: Generator
) -> NDArray:
    u = from_buffer(gen.uniform(rows.shape, rows.dtype, device=rows.device))
    clocks = -xp.log1p(-u)  # Exp(1), finite: u < 1
    keys = xp.where(rows > 0, rows / clocks, -1.0)
    order = xp.argsort(keys, axis=1, descending=True)
    return xp.asarray(order[:, :num_samples], copy=True)


def multinomial(
    input: Tensor,
    num_samples: builtins.int,
    replacement: builtins.bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """`num_samples` category indices (int64) drawn from each row of `input`, the
    categories' weights (non-negative, not necessarily summing to 1): one row
    gives shape (num_samples,), a matrix (rows, num_samples). Without
    replacement no index repeats within a row.

    >>> multinomial(tensor([0.1, 0.0, 0.9]), 2)  # 2 and then 0, or 0 and then 2
    """
    _check_distribution(input, num_samples, replacement)
    gen = default_generator if generator is None else generator
    dev = input.device
    work = xp.float64 if dev.supports(xp.float64) else xp.float32
    n = input.shape[-1]
    rows = xp.reshape(xp.astype(input.array, work), (-1, n))
    if not builtins.bool(xp.all(xp.logical_and(xp.isfinite(rows), rows >= 0))):
        raise RuntimeError(
            "probability tensor contains either `inf`, `nan` or element < 0"
        )
    if not builtins.bool(xp.all(xp.sum(rows, axis=1) > 0)):
        raise RuntimeError(
            "invalid multinomial distribution (sum of probabilities <= 0)"
        )
    draw = _with_replacement if replacement else _without_replacement
    samples = draw(rows, num_samples, gen)
    if input.ndim == 1:
        samples = xp.reshape(samples, (num_samples,))
    return leaf(samples, False, "multinomial")


# ------------------------------------------------------- randint, randperm
def _randint_args(
    args: tuple[Any, ...], low: Any, high: Any, size: Any
) -> tuple[builtins.int, builtins.int, tuple[builtins.int, ...]]:
    """PyTorch's forms: randint(high, size), randint(low, high, size), and any of
    them as keywords."""
    rest = list(args)
    if size is None:
        if not rest:
            raise TypeError("randint() missing required argument 'size'")
        size = rest.pop()
    if high is None:
        if not rest:
            raise TypeError("randint() missing required argument 'high'")
        high = rest.pop()
    if low is None:
        low = rest.pop() if rest else 0
    if rest:
        raise TypeError("randint() takes at most 3 positional arguments")
    for name, value in (("low", low), ("high", high)):
        if type(value) is not builtins.int:
            raise TypeError(f"randint(): {name} must be an int, got {value!r}")
    if not isinstance(size, tuple | list) or any(
        type(n) is not builtins.int for n in size
    ):
        raise TypeError(
            "randint(): argument 'size' must be tuple of ints, not "
            f"{type(size).__name__}"
        )
    return low, high, tuple(size)


def randint(
    *args: Any,
    low: builtins.int | None = None,
    high: builtins.int | None = None,
    size: Sequence[builtins.int] | None = None,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Integers uniform in [low, high) (low is 0 unless given), int64 unless
    `dtype` says otherwise: randint(high, size) or randint(low, high, size).

    >>> randint(0, 10, (2, 3))
    """
    low, high, shape = _randint_args(args, low, high, size)
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= "
            f"to={high}"
        )
    target = _INT64 if dtype is None else as_dtype(dtype)
    if target.kind == "c":
        raise RuntimeError(f"randint(): dtype must be real, got {target}")
    if target.kind in "iub":
        info = (
            (0, 1)
            if target.kind == "b"
            else (xp.iinfo(target).min, xp.iinfo(target).max)
        )
        if low < info[0] or high - 1 > info[1]:
            raise RuntimeError(f"to - 1 is out of bounds for {target}")
    gen = default_generator if generator is None else generator
    draw_dtype = target if target.kind in "iu" else _INT64
    values = from_buffer(
        gen.randint(low, high, shape, draw_dtype, device=_device(device))
    )
    if values.dtype != target:
        values = xp.astype(values, target)
    return leaf(values, requires_grad, "randint")


def randperm(
    n: builtins.int,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """A random permutation of 0, ..., n - 1 (int64 unless `dtype` says otherwise).

    >>> x[randperm(len(x))]  # the rows shuffled
    """
    if type(n) is not builtins.int:
        raise TypeError(f"randperm(): n must be an int, got {n!r}")
    if n < 0:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {n}: [{n}]"
        )
    target = _INT64 if dtype is None else as_dtype(dtype)
    if target.kind in "iu" and n - 1 > xp.iinfo(target).max:
        raise RuntimeError(f"randperm: n ({n}) is too large for dtype {target}")
    gen = default_generator if generator is None else generator
    values = from_buffer(gen.permutation(n, device=_device(device)))
    if values.dtype != target:
        values = xp.astype(values, target)
    return leaf(values, requires_grad, "randperm")


# ---------------------------------------------------------------- the seed
def manual_seed(seed: Any) -> Generator:
    """Seed actnet.device's default generator (the one every random function and
    every device draws from unless given another) and return it, as
    torch.manual_seed does; a negative seed is taken modulo 2**64, as PyTorch's.

    >>> manual_seed(0); a = rand(3); manual_seed(0); b = rand(3)  # a == b
    """
    value = builtins.int(seed)
    if not -(2**63) <= value < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return actnet.device.manual_seed(value % 2**64)


def initial_seed() -> builtins.int:
    """The seed of the default generator."""
    return default_generator.seed


class TorchGenerator(Generator):
    """PyTorch's `Generator(device="cpu")` (actnet.tensor's `Generator`): an
    independent stream, made as PyTorch code makes one and seeded with
    `manual_seed` (which returns it); `generator=` of rand, randn, randint,
    randperm, multinomial, ... takes it. Its numbers are actnet's
    counter-based ones (actnet.device.Generator), not PyTorch's; its default
    seed is PyTorch's, 67280421310721. `get_state`/`set_state` exchange
    actnet's state (a dict), not a ByteTensor.

    >>> g = TorchGenerator(device="cpu").manual_seed(42)
    >>> multinomial(probs, 1, generator=g)
    """

    def __init__(self, device: Device | str | None = None) -> None:
        super().__init__(67280421310721)
        self.device = _device(device)

    def initial_seed(self) -> builtins.int:
        """The seed it started from (PyTorch's name)."""
        return self.seed
