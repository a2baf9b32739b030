"""Tests of the counter-based RNG: Philox4x32-10 and `Generator`.

Philox is checked against the published Random123 known-answer vectors and an
independent scalar implementation (plain Python ints); every distribution against
its documented mapping (the module docstring of `_random.py`), recomputed here in
NumPy from the raw words; every draw across "cpu", "cpu:1" and "no_float64".
Statistical bounds are 5 sigma (or a chi-square far in the tail) on fixed seeds,
so the tests are deterministic and a failure means a real change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actnet.device import Generator, default_generator, get_device, manual_seed
from actnet.device._philox import philox4x32, philox4x32_blocks

DEVICES = ("cpu", "cpu:1", "no_float64")
FLOATS = (np.float16, ml_dtypes.bfloat16, np.float32, np.float64)
MASK32 = 0xFFFFFFFF
MASK64 = 2**64 - 1


# ------------------------------------------------ an independent scalar Philox
def philox_ref(ctr: tuple[int, ...], key: tuple[int, int]) -> tuple[int, ...]:
    """Philox4x32-10 as Random123 writes it (philox4x32_R with R = 10): a round,
    then a key bump, ten times, on plain Python ints."""
    multipliers = (0xD2511F53, 0xCD9E8D57)
    weyl = (0x9E3779B9, 0xBB67AE85)
    x = list(ctr)
    k = list(key)
    for _ in range(10):
        prod0 = multipliers[0] * x[0]
        prod1 = multipliers[1] * x[2]
        hi0, lo0 = prod0 >> 32, prod0 & MASK32
        hi1, lo1 = prod1 >> 32, prod1 & MASK32
        x = [hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0]
        k = [(k[0] + weyl[0]) & MASK32, (k[1] + weyl[1]) & MASK32]
    return tuple(x)


def stream_ref(key: tuple[int, int], counter: int, n: int) -> list[int]:
    """n words of the stream: block i is the counter (counter + i mod 2**64, 0)."""
    words: list[int] = []
    i = 0
    while len(words) < n:
        c = (counter + i) & MASK64
        words.extend(philox_ref((c & MASK32, c >> 32, 0, 0), key))
        i += 1
    return words[:n]


def key_of(seed: int) -> tuple[int, int]:
    return (seed & MASK32, seed >> 32)


def host(buf: Any) -> np.ndarray[Any, Any]:
    result: np.ndarray[Any, Any] = buf.device.to_host(buf)
    return result


def words_of(seed: int, n: int, counter: int = 0) -> np.ndarray[Any, Any]:
    """The raw uint32 words a generator would hand to a draw (checked against the
    reference in the Philox tests below)."""
    g = Generator(seed)
    g.set_state({"seed": seed, "counter": counter})
    return host(g.random_bits((n,))).astype(np.uint64)


def int53(words: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """53-bit integers from word pairs: (a >> 5) * 2**26 + (b >> 6)."""
    a, b = words[0::2], words[1::2]
    return (a >> np.uint64(5)) * np.uint64(2**26) + (b >> np.uint64(6))


def ordered(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Floats as integers whose differences count ulps (+0 and -0 both 0)."""
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[x.dtype.itemsize]
    i = x.view(bits).astype(np.int64)
    magnitude = (1 << (8 * x.dtype.itemsize - 1)) - 1
    return np.where(i < 0, -(i & magnitude), i)


def ulp_distance(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> Any:
    assert a.dtype == b.dtype and a.shape == b.shape
    return np.abs(ordered(a) - ordered(b))


# ------------------------------------------------------------ Philox itself
KAT = [  # Random123 kat_vectors, philox4x32 10 rounds: counter, key, output
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (MASK32, MASK32, MASK32, MASK32),
        (MASK32, MASK32),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_philox_known_answers(
    ctr: tuple[int, ...], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    c = [np.array([word], np.uint64) for word in ctr]
    out = philox4x32(np, c[0], c[1], c[2], c[3], key)
    assert tuple(int(w[0]) for w in out) == expected
    assert all(w.dtype == np.uint64 for w in out)
    assert philox_ref(ctr, key) == expected  # the reference is right too


def test_philox_matches_the_scalar_reference() -> None:
    rng = np.random.default_rng(20240611)
    for trial in range(24):
        key = (int(rng.integers(2**32)), int(rng.integers(2**32)))
        if trial == 0:
            key = (0, 0)
        elif trial == 1:
            key = (MASK32, MASK32)
        ctr = rng.integers(0, 2**32, size=(4, 64), dtype=np.uint64)
        ctr[:, 0] = 0
        ctr[:, 1] = MASK32
        out = np.stack(philox4x32(np, ctr[0], ctr[1], ctr[2], ctr[3], key))
        for j in range(ctr.shape[1]):
            expected = philox_ref(tuple(int(c) for c in ctr[:, j]), key)
            assert tuple(int(w) for w in out[:, j]) == expected, (key, ctr[:, j])


@pytest.mark.parametrize(
    ("counter", "n"),
    [(0, 0), (0, 1), (0, 7), (5, 16), (2**32 - 2, 13), (2**64 - 2, 14), (MASK64, 5)],
)
def test_philox_blocks_layout(counter: int, n: int) -> None:
    key = (0x12345678, 0x9ABCDEF0)
    words = philox4x32_blocks(np, key, counter, n)
    assert words.dtype == np.uint32 and words.shape == (n,)
    assert [int(w) for w in words] == stream_ref(key, counter, n)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    ("counter", "n"), [(0, 0), (0, 4), (3, 11), (2**32 - 1, 9), (2**64 - 3, 15)]
)
def test_device_random_bits_matches_the_reference(
    device: str, counter: int, n: int
) -> None:
    dev = get_device(device)
    key = (0xDEADBEEF, 0x01234567)
    buf = dev.random_bits(key, counter, n)
    assert buf.dtype == np.uint32 and buf.shape == (n,) and buf.device is dev
    assert [int(w) for w in host(buf)] == stream_ref(key, counter, n)


@given(
    key=st.tuples(st.integers(0, MASK32), st.integers(0, MASK32)),
    counter=st.integers(0, MASK64),
    n=st.integers(0, 40),
)
def test_device_random_bits_any_key_and_counter(
    key: tuple[int, int], counter: int, n: int
) -> None:
    got = host(get_device("cpu").random_bits(key, counter, n))
    assert [int(w) for w in got] == stream_ref(key, counter, n)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (((0,), 0, 4), "key must be two 32-bit ints"),
        (((0, 2**32), 0, 4), "key must be two 32-bit ints"),
        (([0, 0], 0, 4), "key must be two 32-bit ints"),
        (((0, 0), -1, 4), r"counter must be an int in \[0, 2\*\*64\)"),
        (((0, 0), 2**64, 4), r"counter must be an int in \[0, 2\*\*64\)"),
        (((0, 0), 0, -1), "n must be a non-negative int"),
        (((0, 0), 0, 2.0), "n must be a non-negative int"),
    ],
)
def test_device_random_bits_rejects_bad_arguments(
    args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        get_device("cpu").random_bits(*args)


def test_generator_random_bits_is_the_stream_of_its_seed() -> None:
    seed = 0xFEEDFACE_CAFEBEEF
    got = host(Generator(seed).random_bits((3, 5)))
    assert got.dtype == np.uint32 and got.shape == (3, 5)
    assert [int(w) for w in got.ravel()] == stream_ref(key_of(seed), 0, 15)


# ------------------------------------------------- the same bits everywhere
Draw = Callable[[Generator, str], Any]

EXACT_DRAWS: dict[str, Draw] = {
    "bits": lambda g, d: g.random_bits((7, 3), device=d),
    "randint": lambda g, d: g.randint(-1000, 10**9, (513,), device=d),
    "randint_int8": lambda g, d: g.randint(-128, 128, (257,), np.int8, device=d),
    "randint_uint64": lambda g, d: g.randint(0, 2**64, (99,), np.uint64, device=d),
    "bernoulli": lambda g, d: g.bernoulli(0.37, (301,), device=d),
    "bernoulli_f32": lambda g, d: g.bernoulli(0.5, (64,), np.float32, device=d),
    "permutation": lambda g, d: g.permutation(500, device=d),
}


def _uniform_draw(dtype: Any, low: float, high: float) -> Draw:
    def draw(g: Generator, device: str) -> Any:
        return g.uniform((401,), dtype, low=low, high=high, device=device)

    return draw


for _dtype in FLOATS:
    _name = np.dtype(_dtype).name
    EXACT_DRAWS[f"uniform_{_name}"] = _uniform_draw(_dtype, 0.0, 1.0)
    EXACT_DRAWS[f"uniform_{_name}_range"] = _uniform_draw(_dtype, -3.0, 5.5)


def _holds(device: str, buf_dtype: Any) -> bool:
    return get_device(device).supports(buf_dtype)


@pytest.mark.parametrize("name", sorted(EXACT_DRAWS))
@pytest.mark.parametrize("seed", [0, 7, MASK64])
def test_draws_are_bit_identical_across_devices(name: str, seed: int) -> None:
    draw = EXACT_DRAWS[name]
    reference = host(draw(Generator(seed), "cpu"))
    for device in DEVICES[1:]:
        if not _holds(device, reference.dtype):
            with pytest.raises(TypeError, match="does not support dtype"):
                draw(Generator(seed), device)
            continue
        g = Generator(seed)
        got = host(draw(g, device))
        assert got.dtype == reference.dtype and got.shape == reference.shape
        assert got.tobytes() == reference.tobytes(), (name, device)


@pytest.mark.parametrize("name", sorted(EXACT_DRAWS))
def test_the_stream_continues_identically_across_devices(name: str) -> None:
    """Draws alternate between devices: each continues where the last stopped."""
    draw = EXACT_DRAWS[name]
    on_cpu = Generator(11)
    mixed = Generator(11)
    for device in ("cpu:1", "cpu", "cpu:1"):
        a = host(draw(on_cpu, "cpu"))
        b = host(draw(mixed, device))
        assert a.tobytes() == b.tobytes()
    assert on_cpu.get_state() == mixed.get_state()


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize(
    ("mean", "std"), [(0.0, 1.0), (-2.5, 3.0)], ids=["standard", "scaled"]
)
def test_normals_agree_across_devices(dtype: Any, mean: float, std: float) -> None:
    """cpu and cpu:1 agree within 2 ulp (exactly, in fact). no_float64 has no
    float64, so it computes Box-Muller and std * z + mean in float32: within 8 ulp
    of |mean| + std * |z| (the scale of the affine's rounding) of the float64
    result (4 measured over 3e6 standard draws; NumPy's float32 log alone is up to
    ~4 ulp on some SIMD paths), and within 1 ulp in float16 and bfloat16."""
    n = 20001
    reference = host(Generator(5).normal((n,), dtype, mean=mean, std=std))
    assert reference.dtype == np.dtype(dtype) and reference.shape == (n,)
    assert np.isfinite(reference.astype(np.float64)).all()
    same = host(Generator(5).normal((n,), dtype, mean=mean, std=std, device="cpu:1"))
    assert ulp_distance(same, reference).max() <= 2
    assert same.tobytes() == reference.tobytes()  # the same arithmetic, on CPU
    if np.dtype(dtype) == np.float64:
        with pytest.raises(TypeError, match="does not support dtype float64"):
            Generator(5).normal((n,), dtype, device="no_float64")
        return
    g = Generator(5)
    other = host(g.normal((n,), dtype, mean=mean, std=std, device="no_float64"))
    assert other.dtype == reference.dtype
    assert g.get_state()["counter"] == (n + 1) // 2  # a block per pair, as on cpu
    ref64 = reference.astype(np.float64)
    scale = np.abs(mean) + np.abs(ref64 - mean)
    bound = 8 if np.dtype(dtype) == np.float32 else 1
    error = np.abs(other.astype(np.float64) - ref64)
    assert (error <= bound * ulp_at(scale, dtype)).all()
    if (mean, std) == (0.0, 1.0):
        assert ulp_distance(other, reference).max() <= bound


def ulp_at(magnitude: Any, dtype: Any) -> Any:
    """The spacing of `dtype` at the given magnitudes (normal range)."""
    p = {np.float16: 11, ml_dtypes.bfloat16: 8, np.float32: 24}[dtype]
    return 2.0 ** (np.floor(np.log2(np.maximum(magnitude, 1e-30))) - (p - 1))


def test_float32_normals_without_float64_are_accurate_near_the_axes() -> None:
    """The octant reduction: words that put 2 pi u2 at or next to a multiple of
    pi/4 (where cos or sin is near 0 or the octants meet) and u1 near 0, 1/2, 1."""
    # Find words: draw many and keep those whose 53-bit u2 lies in each octant's
    # first and last 2**-12; compare those against a float64 evaluation.
    n = 2 * 40000
    ref = host(Generator(9).normal((n,), np.float64))
    got = host(Generator(9).normal((n,), np.float32, device="no_float64"))
    k = int53(words_of(9, 2 * n)).reshape(-1, 2)
    frac = (k[:, 1] & np.uint64(2**50 - 1)).astype(np.float64) * 2.0**-50
    edge = np.repeat((frac < 2**-7) | (frac > 1 - 2**-7), 2)
    assert edge.sum() > 500
    expected = ref.astype(np.float32)
    assert ulp_distance(got[edge], expected[edge]).max() <= 8
    assert ulp_distance(got, expected).max() <= 8


# ------------------------------------------- the documented mappings, exactly
SIGNIFICAND = {np.float16: 11, ml_dtypes.bfloat16: 8, np.float32: 24}


@pytest.mark.parametrize("dtype", list(SIGNIFICAND), ids=lambda t: np.dtype(t).name)
def test_uniform_is_the_top_significand_bits(dtype: Any) -> None:
    p = SIGNIFICAND[dtype]
    n = 4099
    words = words_of(3, n)
    expected = ((words >> np.uint64(32 - p)).astype(np.float64) * 2.0**-p).astype(dtype)
    got = host(Generator(3).uniform((n,), dtype))
    assert got.dtype == np.dtype(dtype)
    assert got.tobytes() == expected.tobytes()


def test_uniform_float64_is_53_bits_from_two_words() -> None:
    n = 3001
    words = words_of(4, 2 * n)
    expected = int53(words).astype(np.float64) * 2.0**-53
    got = host(Generator(4).uniform((n,), np.float64))
    assert got.dtype == np.float64
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize(("low", "high"), [(-3.0, 5.5), (0.25, 0.75), (-1e3, 1e-3)])
def test_uniform_range_is_low_plus_span_times_u_in_the_dtype(
    dtype: Any, low: float, high: float
) -> None:
    n = 2003
    unit = host(Generator(8).uniform((n,), dtype))
    work = np.float32 if dtype is ml_dtypes.bfloat16 else dtype
    u = unit.astype(work)
    expected = u * work(high - low) + work(low)
    below = np.nextafter(np.dtype(dtype).type(high), np.dtype(dtype).type(-np.inf))
    if float(np.dtype(dtype).type(high)) < high:
        below = np.dtype(dtype).type(high)
    expected = np.minimum(expected, work(below)).astype(dtype)
    got = host(Generator(8).uniform((n,), dtype, low=low, high=high))
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (1.5, 0.25), (0.0, 0.0)])
def test_normal_is_box_muller_in_float64(dtype: Any, mean: float, std: float) -> None:
    n = 2001  # odd: the last sine is dropped
    pairs = (n + 1) // 2
    k = int53(words_of(6, 4 * pairs)).reshape(pairs, 2)
    u1 = 1.0 - k[:, 0].astype(np.float64) * 2.0**-53
    u2 = k[:, 1].astype(np.float64) * 2.0**-53
    radius = np.sqrt(-2.0 * np.log(u1))
    angle = 2.0 * math.pi * u2
    z = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).ravel()[:n]
    expected = (z * std + mean).astype(dtype)
    got = host(Generator(6).normal((n,), dtype, mean=mean, std=std))
    assert got.dtype == np.dtype(dtype)
    # The same NumPy libm calls: equal, bar a last-bit difference between SIMD paths.
    assert ulp_distance(got, expected).max() <= 1
    assert (got == expected).mean() > 0.999


@pytest.mark.parametrize(
    ("low", "high", "dtype"),
    [
        (0, 10, np.int64),
        (-7, 3, np.int32),
        (-128, 128, np.int8),
        (0, 256, np.uint8),
        (10, 11, np.int16),
        (-(2**63), 2**63, np.int64),
        (0, 2**64, np.uint64),
        (1, 2**64, np.uint64),
        (-(2**63), 2**63 - 1, np.int64),
        (2**40, 3 * 2**40 + 12345, np.uint64),
    ],
)
def test_randint_is_a_64_bit_word_modulo_the_span(
    low: int, high: int, dtype: Any
) -> None:
    n = 1001
    words = [int(w) for w in words_of(12, 2 * n)]
    span = high - low
    expected = [
        ((words[2 * i] << 32 | words[2 * i + 1]) % span) + low for i in range(n)
    ]
    got = host(Generator(12).randint(low, high, (n,), dtype))
    assert got.dtype == np.dtype(dtype)
    assert [int(v) for v in got] == expected


@pytest.mark.parametrize("p", [0.0, 1.0, 0.3, 0.5, 1e-300, 1 - 2**-53, 1, 0])
def test_bernoulli_is_a_float64_uniform_below_p(p: float) -> None:
    n = 3001
    u = int53(words_of(13, 2 * n)).astype(np.float64) * 2.0**-53
    got = host(Generator(13).bernoulli(p, (n,)))
    assert got.dtype == np.bool_
    assert np.array_equal(got, u < p)


@pytest.mark.parametrize("device", DEVICES)
def test_bernoulli_is_exact_at_the_boundary(device: str) -> None:
    """p equal to a drawn u: that draw is False; one float64 above: True."""
    u = int53(words_of(14, 2 * 64)).astype(np.float64) * 2.0**-53
    at = float(u[5])
    assert not host(Generator(14).bernoulli(at, (64,), device=device))[5]
    above = float(np.nextafter(at, 2.0))
    assert host(Generator(14).bernoulli(above, (64,), device=device))[5]


def test_permutation_is_a_stable_argsort_of_64_bit_words() -> None:
    n = 5000
    words = words_of(15, 2 * n)
    keys = words[0::2] << np.uint64(32) | words[1::2]
    got = host(Generator(15).permutation(n))
    assert got.dtype == np.int64
    assert np.array_equal(got, np.argsort(keys, kind="stable"))


# ------------------------------------------------------ statistical sanity
N = 100_000


def assert_within(value: float, expected: float, sigma: float, k: float = 5.0) -> None:
    assert abs(value - expected) <= k * sigma, (value, expected, sigma)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("device", DEVICES)
def test_uniform_moments_and_range(dtype: Any, device: str) -> None:
    if not get_device(device).supports(dtype):
        pytest.skip(f"{device} has no {np.dtype(dtype).name}")
    x = host(Generator(21).uniform((N,), dtype, device=device)).astype(np.float64)
    assert x.min() >= 0.0 and x.max() < 1.0
    # mean 1/2, variance 1/12; sd of the sample variance sqrt((1/80 - 1/144) / N).
    # float16/bfloat16 quantise u to 2**-11 / 2**-8, biasing the mean by 2**-(p+1)
    # (and the variance by about 1/(12 * 4**p)), well inside 5 sigma.
    bias = {np.float16: 2**-12, ml_dtypes.bfloat16: 2**-9}.get(dtype, 0.0)
    assert_within(x.mean() + bias, 0.5, math.sqrt(1 / 12 / N))
    assert_within(x.var(), 1 / 12, math.sqrt((1 / 80 - 1 / 144) / N), k=6)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
def test_uniform_never_reaches_high(dtype: Any) -> None:
    """Rounding low + (high - low) * u up to high is capped at the last value
    below high: [1, 2) in float16 rounds 1 + 2047/2048 up to 2 without it."""
    low, high = 1.0, 2.0
    x = host(Generator(22).uniform((N,), dtype, low=low, high=high))
    below = float(np.nextafter(np.dtype(dtype).type(high), np.dtype(dtype).type(0)))
    assert x.astype(np.float64).min() >= low
    assert x.astype(np.float64).max() <= below < high


@pytest.mark.parametrize(
    ("dtype", "low", "high"),
    [(np.float32, 1e7, 1e7 + 1), (ml_dtypes.bfloat16, 256.0, 258.0)],
)
def test_uniform_caps_values_rounded_up_to_high(
    dtype: Any, low: float, high: float
) -> None:
    """A range one spacing wide: about half the values round up to high."""
    x = host(Generator(23).uniform((1000,), dtype, low=low, high=high))
    assert (x.astype(np.float64) == low).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (3.0, 2.0)])
def test_normal_moments(device: str, mean: float, std: float) -> None:
    z = host(Generator(24).normal((N,), mean=mean, std=std, device=device))
    z = (z.astype(np.float64) - mean) / std
    assert np.isfinite(z).all()
    assert_within(z.mean(), 0.0, math.sqrt(1 / N))
    assert_within(z.var(), 1.0, math.sqrt(2 / N))  # the normal's 4th moment is 3
    inside = (np.abs(z) < 1).mean()  # 0.6827, binomial sd
    assert_within(inside, math.erf(1 / math.sqrt(2)), math.sqrt(0.6827 * 0.3173 / N))
    assert_within((z > 0).mean(), 0.5, math.sqrt(0.25 / N))
    assert np.abs(z).max() < 6.5  # P(|z| > 6.5) is 8e-11 per draw


def test_randint_buckets_pass_a_chi_square_test() -> None:
    """10 buckets, 9 degrees of freedom: the chi-square statistic has mean 9 and
    exceeds 50 with probability about 1e-7."""
    x = host(Generator(25).randint(-3, 7, (N,), np.int16))
    assert x.min() == -3 and x.max() == 6
    counts = np.bincount(x + 3, minlength=10)
    chi2 = float(((counts - N / 10) ** 2 / (N / 10)).sum())
    assert chi2 < 50.0, chi2


def test_randint_with_a_huge_span_covers_both_halves() -> None:
    x = host(Generator(26).randint(-(2**63), 2**63, (N,)))
    assert_within((x < 0).mean(), 0.5, math.sqrt(0.25 / N))


@pytest.mark.parametrize("p", [0.3, 0.01, 0.5])
def test_bernoulli_frequency(p: float) -> None:
    x = host(Generator(27).bernoulli(p, (N,)))
    assert_within(x.mean(), p, math.sqrt(p * (1 - p) / N))


def test_bernoulli_certain_outcomes_and_dtypes() -> None:
    g = Generator(28)
    assert not host(g.bernoulli(0.0, (1000,))).any()
    assert host(g.bernoulli(1.0, (1000,))).all()
    ones = host(g.bernoulli(0.5, (7, 3), np.float32))
    assert ones.dtype == np.float32 and ones.shape == (7, 3)
    assert set(np.unique(ones)) <= {0.0, 1.0}


@pytest.mark.parametrize("n", [0, 1, 2, 17, 10_000])
def test_permutation_is_a_permutation(n: int) -> None:
    x = host(Generator(29).permutation(n))
    assert x.dtype == np.int64 and x.shape == (n,)
    assert np.array_equal(np.sort(x), np.arange(n))


def test_permutations_differ_between_seeds_and_draws() -> None:
    g = Generator(30)
    a, b = host(g.permutation(1000)), host(g.permutation(1000))
    c = host(Generator(31).permutation(1000))
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    # roughly 1 fixed point expected; far from sorted
    assert (a == np.arange(1000)).sum() < 10


# ------------------------------------------------------------------ state
def every_draw(g: Generator, device: str = "cpu") -> list[np.ndarray[Any, Any]]:
    return [
        host(g.random_bits((5,), device=device)),
        host(g.uniform((6,), device=device)),
        host(g.normal((7,), device=device)),
        host(g.randint(0, 100, (3,), device=device)),
        host(g.bernoulli(0.5, (9,), device=device)),
        host(g.permutation(11, device=device)),
    ]


def same_draws(a: list[Any], b: list[Any]) -> bool:
    return all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


def test_get_and_set_state_reproduce_draws_exactly() -> None:
    g = Generator(40)
    every_draw(g)
    state = g.get_state()
    assert state == {"seed": 40, "counter": g.get_state()["counter"]}
    first = every_draw(g)
    g.set_state(state)
    assert same_draws(every_draw(g), first)
    # and on another generator, another device
    other = Generator(999)
    other.set_state(state)
    assert same_draws(every_draw(other, "cpu:1"), first)


def test_state_is_a_plain_dict_that_does_not_alias() -> None:
    g = Generator(41)
    state = g.get_state()
    state["counter"] = 12345
    assert g.get_state()["counter"] == 0
    g.set_state({"seed": 2**64 - 1, "counter": 2**64 - 1})
    assert g.get_state() == {"seed": 2**64 - 1, "counter": 2**64 - 1}
    assert g.seed == 2**64 - 1 and g.key == (MASK32, MASK32)


def test_manual_seed_restarts_the_stream() -> None:
    g = Generator(42)
    every_draw(g)
    assert g.manual_seed(7) is g
    assert g.get_state() == {"seed": 7, "counter": 0}
    assert same_draws(every_draw(g), every_draw(Generator(7)))


def test_module_manual_seed_resets_the_default_generator() -> None:
    saved = default_generator.get_state()
    try:
        assert manual_seed(123) is default_generator
        first = every_draw(default_generator)
        assert default_generator.get_state()["counter"] > 0
        manual_seed(123)
        assert default_generator.get_state() == {"seed": 123, "counter": 0}
        assert same_draws(every_draw(default_generator), first)
    finally:
        default_generator.set_state(saved)


def blocks(words: int) -> int:
    return -(-words // 4)


ADVANCES: dict[str, tuple[Callable[[Generator, int], Any], Callable[[int], int]]] = {
    "random_bits": (lambda g, n: g.random_bits((n,)), lambda n: blocks(n)),
    "uniform_f16": (lambda g, n: g.uniform((n,), np.float16), lambda n: blocks(n)),
    "uniform_bf16": (
        lambda g, n: g.uniform((n,), ml_dtypes.bfloat16),
        lambda n: blocks(n),
    ),
    "uniform_f32": (lambda g, n: g.uniform((n,)), lambda n: blocks(n)),
    "uniform_f64": (
        lambda g, n: g.uniform((n,), np.float64),
        lambda n: blocks(2 * n),
    ),
    # a pair of normals takes two 53-bit uniforms: four words
    "normal": (lambda g, n: g.normal((n,)), lambda n: blocks(4 * -(-n // 2))),
    "randint": (lambda g, n: g.randint(0, 9, (n,)), lambda n: blocks(2 * n)),
    "bernoulli": (lambda g, n: g.bernoulli(0.5, (n,)), lambda n: blocks(2 * n)),
    "permutation": (lambda g, n: g.permutation(n), lambda n: blocks(2 * n)),
}


@pytest.mark.parametrize("name", sorted(ADVANCES))
def test_counters_advance_by_whole_blocks(name: str) -> None:
    draw, used = ADVANCES[name]
    for n in range(10):
        g = Generator(50)
        g.set_state({"seed": 50, "counter": 1000})
        draw(g, n)
        assert g.get_state()["counter"] == 1000 + used(n), n


def test_consecutive_draws_start_on_fresh_blocks() -> None:
    g = Generator(51)
    a = host(g.random_bits((5,)))  # blocks 0, 1 (words 5..7 are skipped)
    b = host(g.random_bits((3,)))  # block 2
    stream = stream_ref(key_of(51), 0, 12)
    assert [int(w) for w in a] == stream[:5]
    assert [int(w) for w in b] == stream[8:11]


def test_the_counter_wraps_modulo_2_to_the_64() -> None:
    g = Generator(52)
    g.set_state({"seed": 52, "counter": 2**64 - 1})
    got = host(g.random_bits((8,)))
    assert [int(w) for w in got] == stream_ref(key_of(52), 2**64 - 1, 8)
    assert g.get_state()["counter"] == 1
    assert [int(w) for w in host(g.random_bits((4,)))] == stream_ref(key_of(52), 1, 4)


def test_fold_in_is_the_documented_derivation() -> None:
    parent = Generator(0x0123456789ABCDEF)
    for data in (0, 1, 2**32, 2**64 - 1, 0xDEAD_0000BEEF):
        w = philox_ref((data & MASK32, data >> 32, 0x5EED, 0), parent.key)
        assert parent.fold_in(data).seed == w[0] | w[1] << 32
        assert parent.fold_in(data).get_state()["counter"] == 0


def test_fold_in_and_split_are_deterministic_distinct_and_leave_the_parent() -> None:
    parent = Generator(60)
    parent.random_bits((9,))
    state = parent.get_state()
    children = parent.split(8)
    assert parent.get_state() == state  # neither advances the parent
    assert [c.seed for c in children] == [parent.fold_in(i).seed for i in range(8)]
    assert parent.get_state() == state
    seeds = {c.seed for c in children}
    assert len(seeds) == 8 and parent.seed not in seeds
    # deterministic: from the key alone, not the counter
    assert [c.seed for c in Generator(60).split(8)] == [c.seed for c in children]
    # their streams differ from each other and from the parent's
    parent_bits = host(Generator(60).random_bits((64,)))
    streams = [host(c.random_bits((64,))).tobytes() for c in children]
    assert len(set(streams)) == 8 and parent_bits.tobytes() not in streams
    # a grandchild differs from a child with the same index
    assert children[1].fold_in(1).seed != children[1].seed
    assert parent.split(0) == []


def test_generators_are_independent_objects() -> None:
    a, b = Generator(70), Generator(70)
    a.random_bits((100,))
    assert b.get_state()["counter"] == 0
    assert "seed=70" in repr(a) and "counter=25" in repr(a)


def test_shapes_are_kept() -> None:
    g = Generator(71)
    assert g.uniform((2, 3, 4)).shape == (2, 3, 4)
    assert g.normal(5).shape == (5,)
    assert g.normal(()).shape == ()
    assert g.randint(0, 3, [0, 4]).shape == (0, 4)
    assert g.bernoulli(0.5, (3, 0)).shape == (3, 0)
    assert g.random_bits((np.int64(2), 2)).shape == (2, 2)
    assert g.uniform((2,), device=get_device("cpu:1")).device is get_device("cpu:1")


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("seed", [-1, 2**64, 1.0, 1.5, True, False, "3", None])
def test_bad_seeds_are_refused(seed: Any) -> None:
    message = r"seed must be an int in \[0, 2\*\*64\)"
    with pytest.raises(ValueError, match=message):
        Generator(seed)
    with pytest.raises(ValueError, match=message):
        Generator(0).manual_seed(seed)
    with pytest.raises(ValueError, match=r"data must be an int in \[0, 2\*\*64\)"):
        Generator(0).fold_in(seed)


def test_good_seed_extremes_are_accepted() -> None:
    assert Generator(0).seed == 0
    assert Generator(2**64 - 1).seed == 2**64 - 1
    assert Generator().seed == 0


@pytest.mark.parametrize("n", [-1, 1.0, True, "2"])
def test_bad_split_counts_are_refused(n: Any) -> None:
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        Generator(0).split(n)


def _refuses(call: Callable[[Generator], Any], error: type, message: str) -> None:
    """The call raises, and the generator's counter has not moved."""
    g = Generator(80)
    g.random_bits((4,))
    before = g.get_state()
    with pytest.raises(error, match=message):
        call(g)
    assert g.get_state() == before


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ((-1,), ValueError),
        ((2, -3), ValueError),
        ((2.0,), TypeError),
        ((True,), TypeError),
        ("3", TypeError),
        (None, TypeError),
        (3.0, TypeError),
    ],
)
def test_bad_shapes_are_refused_by_every_draw(shape: Any, error: type) -> None:
    calls: list[Callable[[Generator], Any]] = [
        lambda g: g.random_bits(shape),
        lambda g: g.uniform(shape),
        lambda g: g.normal(shape),
        lambda g: g.randint(0, 5, shape),
        lambda g: g.bernoulli(0.5, shape),
    ]
    for call in calls:
        _refuses(call, error, "shape must")


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_, np.complex64])
def test_uniform_and_normal_refuse_non_real_float_dtypes(dtype: Any) -> None:
    _refuses(
        lambda g: g.uniform((3,), dtype),
        TypeError,
        "uniform: dtype must be a real floating dtype",
    )
    _refuses(
        lambda g: g.normal((3,), dtype),
        TypeError,
        "normal: dtype must be a real floating dtype",
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_, np.complex64])
def test_randint_refuses_non_integer_dtypes(dtype: Any) -> None:
    _refuses(
        lambda g: g.randint(0, 3, (3,), dtype),
        TypeError,
        "randint: dtype must be an integer dtype",
    )


def test_unknown_dtypes_are_refused() -> None:
    _refuses(lambda g: g.uniform((3,), "not a dtype"), TypeError, "dtype")
    _refuses(lambda g: g.bernoulli(0.5, (3,), object), TypeError, "dtype")


@pytest.mark.parametrize(
    ("low", "high", "dtype"),
    [
        (0, 129, np.int8),
        (-129, 0, np.int8),
        (-1, 10, np.uint8),
        (0, 2**16 + 1, np.uint16),
        (0, 2**63 + 1, np.int64),
        (0, 2**64 + 1, np.uint64),
        (-(2**63) - 1, 0, np.int64),
    ],
)
def test_randint_refuses_ranges_that_do_not_fit(
    low: int, high: int, dtype: Any
) -> None:
    _refuses(lambda g: g.randint(low, high, (3,), dtype), ValueError, "does not fit")


@pytest.mark.parametrize(
    ("low", "high"), [(5, 5), (5, 4), (0.0, 3), (0, 3.0), (True, 3)]
)
def test_randint_refuses_bad_bounds(low: Any, high: Any) -> None:
    _refuses(lambda g: g.randint(low, high, (3,)), ValueError, "need ints low < high")


@pytest.mark.parametrize(
    ("low", "high"),
    [(1.0, 1.0), (2.0, 1.0), (math.nan, 1.0), (0.0, math.inf), (-math.inf, 0.0)],
)
def test_uniform_refuses_bad_bounds(low: float, high: float) -> None:
    _refuses(
        lambda g: g.uniform((3,), low=low, high=high),
        ValueError,
        "uniform: need finite low < high",
    )


@pytest.mark.parametrize(
    ("dtype", "low", "high"),
    [
        (np.float16, 0.0, 1e5),
        (np.float16, -40000.0, 40000.0),
        (np.float32, -3e38, 3e38),
        (np.float64, -1e308, 1e308),
        (ml_dtypes.bfloat16, 0.0, 1e39),
    ],
)
def test_uniform_refuses_ranges_that_overflow_the_dtype(
    dtype: Any, low: float, high: float
) -> None:
    _refuses(
        lambda g: g.uniform((3,), dtype, low=low, high=high),
        ValueError,
        "must fit in",
    )


@pytest.mark.parametrize(
    ("mean", "std"), [(0.0, -1.0), (math.nan, 1.0), (0.0, math.inf), (math.inf, 1.0)]
)
def test_normal_refuses_bad_parameters(mean: float, std: float) -> None:
    _refuses(
        lambda g: g.normal((3,), mean=mean, std=std),
        ValueError,
        "normal: need finite mean and std >= 0",
    )


@pytest.mark.parametrize("p", [-0.1, 1.1, -1, 2, math.nan, math.inf, "0.5", None])
def test_bernoulli_refuses_bad_probabilities(p: Any) -> None:
    _refuses(
        lambda g: g.bernoulli(p, (3,)),
        ValueError,
        r"bernoulli: p must be a probability in \[0, 1\]",
    )


@pytest.mark.parametrize("n", [-1, 2.0, True, None])
def test_permutation_refuses_bad_lengths(n: Any) -> None:
    _refuses(
        lambda g: g.permutation(n),
        ValueError,
        "permutation: n must be a non-negative int",
    )


def test_a_device_without_the_dtype_is_refused_before_drawing() -> None:
    for call in (
        lambda g: g.uniform((3,), np.float64, device="no_float64"),
        lambda g: g.normal((3,), np.float64, device="no_float64"),
        lambda g: g.bernoulli(0.5, (3,), np.float64, device="no_float64"),
    ):
        _refuses(call, TypeError, "no_float64:0 does not support dtype float64")


def test_unknown_devices_are_refused() -> None:
    _refuses(lambda g: g.uniform((3,), device="tpu"), ValueError, "unknown device")
    _refuses(lambda g: g.permutation(3, device=3), TypeError, "a device is a name")


@pytest.mark.parametrize(
    "state",
    [
        None,
        [("seed", 0), ("counter", 0)],
        {"seed": 0},
        {"counter": 0},
        {"seed": 0, "counter": 0, "extra": 1},
        {"seed": -1, "counter": 0},
        {"seed": 2**64, "counter": 0},
        {"seed": 0, "counter": -1},
        {"seed": 0, "counter": 2**64},
        {"seed": 1.0, "counter": 0},
        {"seed": 0, "counter": True},
        {"seed": "0", "counter": 0},
    ],
)
def test_bad_states_are_refused_and_change_nothing(state: Any) -> None:
    g = Generator(90)
    g.random_bits((8,))
    before = g.get_state()
    with pytest.raises(ValueError, match=r"state|seed|counter"):
        g.set_state(state)
    assert g.get_state() == before


def test_bad_state_messages_name_the_field() -> None:
    g = Generator(0)
    with pytest.raises(
        ValueError, match="state must be a dict with 'seed' and 'counter'"
    ):
        g.set_state({"seed": 0})
    with pytest.raises(ValueError, match=r"state\['seed'\] must be an int"):
        g.set_state({"seed": -5, "counter": 0})
    with pytest.raises(ValueError, match=r"state\['counter'\] must be an int"):
        g.set_state({"seed": 0, "counter": 2**64})


# ------------------------------------------------------ long draws, made in chunks
LONG = 2 * 65536 + 3  # more than one pass of the generator's chunking, and odd


def test_long_uniform_draws_follow_the_mapping() -> None:
    words = words_of(11, LONG)
    expected32 = (words >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)
    assert np.array_equal(host(Generator(11).uniform((LONG,))), expected32)
    words = words_of(12, 2 * LONG)
    expected64 = int53(words).astype(np.float64) * 2.0**-53
    assert np.array_equal(host(Generator(12).uniform((LONG,), np.float64)), expected64)


def test_long_normal_draws_follow_the_mapping() -> None:
    pairs = (LONG + 1) // 2
    k = int53(words_of(13, 4 * pairs)).reshape(pairs, 2)
    radius = np.sqrt(-2.0 * np.log(1.0 - k[:, 0].astype(np.float64) * 2.0**-53))
    angle = 2.0 * math.pi * k[:, 1].astype(np.float64) * 2.0**-53
    z = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).ravel()
    got = host(Generator(13).normal((LONG,), np.float64))
    assert ulp_distance(got, z[:LONG]).max() <= 1


def test_long_randint_and_bernoulli_draws_follow_the_mapping() -> None:
    words = words_of(14, 2 * LONG)
    value = (words[0::2] << np.uint64(32)) | words[1::2]
    expected = (value % np.uint64(1000)).astype(np.int64) - 500
    assert np.array_equal(host(Generator(14).randint(-500, 500, (LONG,))), expected)
    k = int53(words_of(15, 2 * LONG))
    expected_b = k < np.uint64(math.ceil(0.3 * 2**53))
    assert np.array_equal(host(Generator(15).bernoulli(0.3, (LONG,))), expected_b)
