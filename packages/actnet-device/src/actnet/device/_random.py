"""Counter-based random numbers: a Philox4x32-10 key and a counter, nothing more.

`Generator(seed)` holds a 64-bit key (the seed) and a 64-bit counter of 128-bit
blocks already used. Every draw takes the next blocks, asks the device for their
bits (`Device.random_bits`, written once as array arithmetic) and shapes them with
device operators, so the same seed gives bit-identical integers, uniforms and
permutations on every device, and normals that agree to rounding.

Mappings (all documented so other implementations can reproduce them):
- uniform, dtype with p significand bits (float16 11, bfloat16 8, float32 24,
  float64 53): the top p bits of one word (two words for float64:
  (a >> 5) * 2**26 + (b >> 6)), times 2**-p, in [0, 1); then low + (high - low) * u,
  computed in the dtype (float32 for bfloat16) and capped at the last value < high.
- normal: Box-Muller in float64 from two 53-bit uniforms u1 = 1 - u in (0, 1] and
  u2 in [0, 1), u and u2 in that order: sqrt(-2 log u1) * (cos 2 pi u2,
  sin 2 pi u2), interleaved, then std * z + mean, rounded once to the dtype. A
  device without float64 computes the same in float32, to a few ulp.
- randint(low, high): a 64-bit word (hi << 32 | lo) modulo (high - low), plus low
  (bias below (high - low) / 2**64).
- bernoulli(p): a float64 uniform < p (compared exactly in integers).
- permutation(n): a stable argsort of n 64-bit words.

Key splitting: `fold_in(data)` derives an independent generator whose key is the
first two words of Philox4x32-10 of the counter (data mod 2**32, data >> 32,
0x5EED, 0) under this generator's key. Use one per operator (fold in its index)
or per data-loader worker (fold in the worker id); `split(n)` is
[fold_in(0), ..., fold_in(n - 1)].
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device import _hooks
from actnet.device._buffer import Buffer
from actnet.device._checks import check_shape
from actnet.device._device import Device
from actnet.device._philox import philox4x32
from actnet.device._registry import get_device

_MASK32: Final = 0xFFFFFFFF
_MASK64: Final = 2**64 - 1
_SIGNIFICAND: Final = {dt.float16: 11, dt.float32: 24, dt.float64: 53}
dt.on_bfloat16(lambda bfloat16: _SIGNIFICAND.update({bfloat16: 8}))
_FOLD_TAG: Final = 0x5EED
_CHUNK: Final = 1 << 16  # values drawn per pass (a multiple of 4)


def _check_seed(seed: object, name: str = "seed") -> int:
    if type(seed) is not int or not 0 <= seed <= _MASK64:
        raise ValueError(f"{name} must be an int in [0, 2**64), got {seed!r}")
    return seed


class Generator:
    """An independent stream of random numbers on any device.

    >>> g = Generator(42)
    >>> x = g.uniform((2, 3), device="cpu")   # a float32 Buffer in [0, 1)
    >>> state = g.get_state(); y = g.normal((4,)); g.set_state(state)
    >>> # g.normal((4,)) now gives y again, on any device
    """

    def __init__(self, seed: int = 0) -> None:
        self._seed = _check_seed(seed)
        self._counter = 0  # 128-bit blocks consumed
        self._lock = threading.Lock()  # guards _counter

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def key(self) -> tuple[int, int]:
        return (self._seed & _MASK32, self._seed >> 32)

    def get_state(self) -> dict[str, int]:
        """A JSON-able state that `set_state` restores exactly."""
        with self._lock:
            return {"seed": self._seed, "counter": self._counter}

    def set_state(self, state: dict[str, int]) -> None:
        if not isinstance(state, dict) or set(state) != {"seed", "counter"}:
            raise ValueError(
                f"state must be a dict with 'seed' and 'counter', got {state!r}"
            )
        seed = _check_seed(state["seed"], "state['seed']")
        counter = _check_seed(state["counter"], "state['counter']")
        with self._lock:
            self._seed, self._counter = seed, counter

    def manual_seed(self, seed: int) -> Generator:
        """Restart from `seed` (counter 0); returns self, as PyTorch's does."""
        seed = _check_seed(seed)
        with self._lock:
            self._seed, self._counter = seed, 0
        return self

    def fold_in(self, data: int) -> Generator:
        """An independent generator from this key and `data` (see the module doc)."""
        data = _check_seed(data, "data")
        c = [
            np.array([v], np.uint64) for v in (data & _MASK32, data >> 32, _FOLD_TAG, 0)
        ]
        w0, w1, _, _ = philox4x32(np, c[0], c[1], c[2], c[3], self.key)
        return Generator(int(w0[0]) | int(w1[0]) << 32)

    def split(self, n: int) -> list[Generator]:
        if type(n) is not int or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        return [self.fold_in(i) for i in range(n)]

    def reserve(self, n_words: int) -> tuple[tuple[int, int], int]:
        """The key and first counter of the stream's next `n_words` words, which
        the generator then moves past (ceil(n_words / 4) counters), as drawing
        them would: for kernels that make their Philox bits themselves.

        >>> g = Generator(7)
        >>> key, counter = g.reserve(2 * x.size)  # counter 0; g's counter moves on
        >>> y, mask = cpu.dropout(x, 0.1, key, counter)  # bernoulli(0.9)'s mask
        """
        if type(n_words) is not int or n_words < 0:
            raise ValueError(f"n_words must be a non-negative int, got {n_words!r}")
        blocks = -(-n_words // 4)
        with self._lock:
            start, seed = self._counter, self._seed
            self._counter = (start + blocks) & _MASK64
        key = (seed & _MASK32, seed >> 32)
        hook = _hooks.reservation_hook
        if hook is not None:  # a capture records it (see _capture)
            hook(self, n_words, key, start)
        return key, start

    def _bits(self, n_words: int, device: Device) -> Buffer:
        key, start = self.reserve(n_words)
        return device.random_bits(key, start, n_words)

    def random_bits(
        self, shape: Sequence[int], *, device: str | Device = "cpu"
    ) -> Buffer:
        """uint32 words of the stream, in the given shape."""
        dims = check_shape(shape)
        dev = get_device(device)
        return self._bits(math.prod(dims), dev).reshape(dims)

    def uniform(
        self,
        shape: Sequence[int],
        dtype: Any = np.float32,
        *,
        low: float = 0.0,
        high: float = 1.0,
        device: str | Device = "cpu",
    ) -> Buffer:
        """Uniform in [low, high)."""
        dims = check_shape(shape)
        target = dt.as_dtype(dtype)
        if target not in _SIGNIFICAND:
            raise TypeError(
                f"uniform: dtype must be a real floating dtype, got {target}"
            )
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"uniform: need finite low < high, got {low} and {high}")
        top = _below(math.inf, target)  # the largest finite value
        if max(abs(low), abs(high), high - low) > top:
            raise ValueError(
                f"uniform: low {low}, high {high} and high - low must fit in {target}"
            )
        dev = _device_for(device, target)

        def draw(n: int) -> Buffer:
            u = self._unit(n, target, dev)
            if (low, high) != (0.0, 1.0):
                u = dev.add(dev.multiply(u, float(high - low)), float(low))
                # Rounding can carry low + (high - low) * u up to high itself.
                u = dev.minimum(u, _below(high, target))
            if u.dtype != target:
                u = dev.astype(u, target)  # bfloat16: rounding is monotonic
            return u

        return self._in_chunks(math.prod(dims), target, dev, draw).reshape(dims)

    def _in_chunks(
        self, n: int, dtype: np.dtype[Any], dev: Device, draw: Callable[[int], Buffer]
    ) -> Buffer:
        """draw(n), made _CHUNK values at a time so its temporaries stay small (and
        in cache). Every mapping uses 1, 2 or 4 words per value or pair, so chunks
        of _CHUNK values start on a 128-bit block: the values are the same."""
        if n <= _CHUNK:
            return draw(n)
        out = dev.alloc((n,), dtype)
        for first in range(0, n, _CHUNK):
            m = min(_CHUNK, n - first)
            dev.copy(draw(m), out=out[first : first + m])
        return out

    def _unit(self, n: int, dtype: np.dtype[Any], dev: Device) -> Buffer:
        """n uniforms in [0, 1) with `dtype`'s significand bits, from the top bits,
        held in `dtype` (float32 for bfloat16, which has no arithmetic)."""
        bits = _SIGNIFICAND[dtype]
        if bits == 53:
            return self._unit53(n, dev)
        words = self._bits(n, dev)
        top = dev.bitwise_right_shift(words, 32 - bits)
        work = dt.float32 if dt.is_bfloat16(dtype) else dtype
        return dev.multiply(dev.astype(top, work), 2.0**-bits)

    def _int53(self, n: int, dev: Device) -> Buffer:
        """n 53-bit integers (uint64) from two words each: (a >> 5) << 26 | b >> 6."""
        words = dev.astype(self._bits(2 * n, dev).reshape((n, 2)), dt.uint64)
        a = dev.bitwise_left_shift(
            dev.bitwise_right_shift(dev.copy(words[:, 0]), 5), 26
        )
        return dev.bitwise_or(a, dev.bitwise_right_shift(dev.copy(words[:, 1]), 6))

    def _unit53(self, n: int, dev: Device) -> Buffer:
        return dev.multiply(dev.astype(self._int53(n, dev), dt.float64), 2.0**-53)

    def normal(
        self,
        shape: Sequence[int],
        dtype: Any = np.float32,
        *,
        mean: float = 0.0,
        std: float = 1.0,
        device: str | Device = "cpu",
    ) -> Buffer:
        """Normal(mean, std**2), by Box-Muller in float64 (float32 without it)."""
        dims = check_shape(shape)
        target = dt.as_dtype(dtype)
        if target not in _SIGNIFICAND:
            raise TypeError(
                f"normal: dtype must be a real floating dtype, got {target}"
            )
        if not (math.isfinite(mean) and math.isfinite(std) and std >= 0):
            raise ValueError(
                f"normal: need finite mean and std >= 0, got {mean}, {std}"
            )
        dev = _device_for(device, target)

        def draw(n: int) -> Buffer:
            pairs = -(-n // 2)
            k = self._int53(2 * pairs, dev).reshape((pairs, 2))
            k1, k2 = dev.copy(k[:, 0]), dev.copy(k[:, 1])
            if dev.supports(dt.float64):
                radius, cos, sin = _box_muller64(dev, k1, k2)
            else:
                radius, cos, sin = _box_muller32(dev, k1, k2)
            z = dev.alloc((pairs, 2), radius.dtype)
            dev.multiply(radius, cos, out=z[:, 0])
            dev.multiply(radius, sin, out=z[:, 1])
            z = z.reshape(2 * pairs)[:n]
            if (mean, std) != (0.0, 1.0):
                z = dev.add(dev.multiply(z, float(std)), float(mean))
            return dev.astype(z, target)

        return self._in_chunks(math.prod(dims), target, dev, draw).reshape(dims)

    def randint(
        self,
        low: int,
        high: int,
        shape: Sequence[int],
        dtype: Any = np.int64,
        *,
        device: str | Device = "cpu",
    ) -> Buffer:
        """Integers in [low, high)."""
        dims = check_shape(shape)
        target = dt.as_dtype(dtype)
        if target not in dt.INTEGER:
            raise TypeError(f"randint: dtype must be an integer dtype, got {target}")
        if type(low) is not int or type(high) is not int or not low < high:
            raise ValueError(f"randint: need ints low < high, got {low!r} and {high!r}")
        info = np.iinfo(target)
        if low < info.min or high - 1 > info.max:
            raise ValueError(f"randint: [{low}, {high}) does not fit in {target}")
        dev = _device_for(device, target)

        def draw(n: int) -> Buffer:
            words = dev.astype(self._bits(2 * n, dev).reshape((n, 2)), dt.uint64)
            hi = dev.bitwise_left_shift(dev.copy(words[:, 0]), 32)
            value = dev.bitwise_or(hi, dev.copy(words[:, 1]))
            span = high - low
            if span < 2**64:
                value = dev.remainder(value, span)
            # low + value, computed without overflow in uint64 then reinterpreted.
            value = dev.add(value, low % 2**64)
            return dev.astype(value, target)

        return self._in_chunks(math.prod(dims), target, dev, draw).reshape(dims)

    def bernoulli(
        self, p: float, shape: Sequence[int], dtype: Any = np.bool_, *,
        device: str | Device = "cpu",
    ) -> Buffer:  # fmt: skip
        """True (1) with probability p."""
        dims = check_shape(shape)
        if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ValueError(f"bernoulli: p must be a probability in [0, 1], got {p!r}")
        target = dt.as_dtype(dtype)
        dev = _device_for(device, target)
        threshold = math.ceil(p * 2**53)

        def draw(n: int) -> Buffer:
            # u < p, exactly and without float64: u * 2**53 < ceil(p * 2**53).
            result = dev.less(self._int53(n, dev), threshold)
            return result if target == dt.bool_ else dev.astype(result, target)

        return self._in_chunks(math.prod(dims), target, dev, draw).reshape(dims)

    def permutation(self, n: int, *, device: str | Device = "cpu") -> Buffer:
        """A random permutation of 0, ..., n - 1 (int64)."""
        if type(n) is not int or n < 0:
            raise ValueError(f"permutation: n must be a non-negative int, got {n!r}")
        dev = get_device(device)
        words = dev.astype(self._bits(2 * n, dev).reshape((n, 2)), dt.uint64)
        keys = dev.bitwise_or(
            dev.bitwise_left_shift(dev.copy(words[:, 0]), 32), dev.copy(words[:, 1])
        )
        return dev.argsort(keys)

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed}, counter={self._counter})"


def _device_for(device: str | Device, dtype: np.dtype[Any]) -> Device:
    """The device, after checking it holds `dtype` (before any bits are drawn)."""
    dev = get_device(device)
    if not dev.supports(dtype):
        raise TypeError(f"device {dev.name} does not support dtype {dtype}")
    return dev


def _below(high: float, dtype: np.dtype[Any]) -> float:
    """The largest value of `dtype` below `high`."""
    top = dtype.type(high)
    if float(top) >= high:
        top = np.nextafter(top, dtype.type(-math.inf))
    return float(top)


def _box_muller64(dev: Device, k1: Buffer, k2: Buffer) -> tuple[Buffer, ...]:
    """Radius, cos and sin of Box-Muller in float64, from 53-bit integers."""
    u1 = dev.subtract(1.0, dev.multiply(dev.astype(k1, dt.float64), 2.0**-53))
    u2 = dev.multiply(dev.astype(k2, dt.float64), 2.0**-53)
    angle = dev.multiply(u2, 2.0 * math.pi)
    radius = dev.sqrt(dev.multiply(dev.log(u1), -2.0))  # u1 in (0, 1]: finite
    return radius, dev.cos(angle), dev.sin(angle)


def _box_muller32(dev: Device, k1: Buffer, k2: Buffer) -> tuple[Buffer, ...]:
    """The same in float32, for devices without float64, to a few ulp: no step
    loses relative accuracy, because log takes whichever of u1 and 1 - u1 is exact,
    and the angle is cut to [0, pi/4] in integers (octant = top 3 bits of k2)."""
    f32 = dt.float32
    log_u1 = dev.where(
        dev.less(k1, 2**52),  # u1 > 1/2: log1p(-u) with u = 1 - u1 exact
        dev.log1p(dev.multiply(dev.astype(k1, f32), -(2.0**-53))),
        dev.log(dev.multiply(dev.astype(dev.subtract(2**53, k1), f32), 2.0**-53)),
    )
    radius = dev.sqrt(dev.multiply(log_u1, -2.0))
    octant = dev.bitwise_right_shift(k2, 50)
    rest = dev.bitwise_and(k2, 2**50 - 1)
    odd = dev.equal(dev.bitwise_and(octant, 1), 1)  # measured back from the end
    t = dev.where(odd, dev.subtract(2**50, rest), rest)
    theta = dev.multiply(dev.astype(t, f32), math.pi / 4 * 2.0**-50)
    s, c = dev.sin(theta), dev.cos(theta)
    swap = dev.equal(dev.bitwise_and(dev.add(octant, 1), 2), 2)  # octants 1, 2, 5, 6
    x, y = dev.where(swap, s, c), dev.where(swap, c, s)
    cos_negative = dev.equal(dev.bitwise_and(dev.add(octant, 2), 4), 4)  # 2 to 5
    x = dev.where(cos_negative, dev.negative(x), x)
    y = dev.where(dev.greater_equal(octant, 4), dev.negative(y), y)
    return radius, x, y


default_generator: Final = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (counter back to 0) and return it."""
    return default_generator.manual_seed(seed)
