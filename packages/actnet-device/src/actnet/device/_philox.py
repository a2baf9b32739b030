"""Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC 2011), written once as array arithmetic so every backend computes the same bits.

A counter of four 32-bit words and a key of two are mixed by ten rounds of two
32x32->64 multiplications; here each word is held in a uint64 lane, so the
products are exact on NumPy and CuPy alike.
"""

from __future__ import annotations

from typing import Any, Final

_M0: Final = 0xD2511F53
_M1: Final = 0xCD9E8D57
_W0: Final = 0x9E3779B9  # the golden ratio
_W1: Final = 0xBB67AE85  # sqrt(3) - 1
_MASK: Final = 0xFFFFFFFF
ROUNDS: Final = 10
MULTIPLIERS: Final = (_M0, _M1)


def round_keys(key: tuple[int, int]) -> tuple[int, ...]:
    """The key of each of the ROUNDS rounds, k0 and k1 interleaved (the key
    words each add a Weyl constant per round, mod 2**32): for kernels that run
    the rounds themselves (`_compiled_dropout.py`)."""
    keys: list[int] = []
    for r in range(ROUNDS):
        keys.append((key[0] + r * _W0) & _MASK)
        keys.append((key[1] + r * _W1) & _MASK)
    return tuple(keys)


def philox4x32(
    xp: Any, c0: Any, c1: Any, c2: Any, c3: Any, key: tuple[int, int]
) -> tuple[Any, Any, Any, Any]:
    """Philox4x32-10 of counters (c0, c1, c2, c3): uint64 arrays holding 32-bit words.

    Returns the four output words, as uint64 arrays of 32-bit values.
    """
    c0, c1, c2, c3 = (xp.array(c, dtype=xp.uint64) for c in (c0, c1, c2, c3))
    _rounds(xp, c0, c1, c2, c3, key)
    return c0, c1, c2, c3


def _rounds(
    xp: Any,
    c0: Any,
    c1: Any,
    c2: Any,
    c3: Any,
    key: tuple[int, int],
    p0: Any = None,
    p1: Any = None,
) -> None:
    """The ten rounds, in place on four uint64 arrays of 32-bit words, with two
    arrays of their size for the products (new ones when not given)."""
    m0, m1, mask, shift = (
        xp.uint64(_M0),
        xp.uint64(_M1),
        xp.uint64(_MASK),
        xp.uint64(32),
    )
    if p0 is None or p1 is None:
        p0 = xp.empty_like(c0)
        p1 = xp.empty_like(c0)
    k0, k1 = key[0] & _MASK, key[1] & _MASK
    for r in range(ROUNDS):
        if r:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        xp.multiply(c0, m0, out=p0)
        xp.multiply(c2, m1, out=p1)
        # c0' = hi(p1) ^ c1 ^ k0,  c1' = lo(p1),  c2' = hi(p0) ^ c3 ^ k1,  c3' = lo(p0)
        xp.right_shift(p1, shift, out=c0)
        xp.bitwise_xor(c0, c1, out=c0)
        xp.bitwise_xor(c0, xp.uint64(k0), out=c0)
        xp.right_shift(p0, shift, out=c2)
        xp.bitwise_xor(c2, c3, out=c2)
        xp.bitwise_xor(c2, xp.uint64(k1), out=c2)
        xp.bitwise_and(p1, mask, out=c1)
        xp.bitwise_and(p0, mask, out=c3)


PHILOX_CHUNK: Final = 1 << 14  # counters per pass: the working arrays stay in cache


def philox4x32_into(
    xp: Any, key: tuple[int, int], counter: int, out: Any, work: Any
) -> None:
    """Fill the contiguous 1-d uint32 array `out` with the output words of the
    128-bit counters (counter + i mod 2**64, 0) for i = 0, 1, ..., four words per
    counter, in order. `work` is scratch: a uint64 array of shape (6, chunk), chunk
    at least min(PHILOX_CHUNK, counters needed)."""
    n_words = out.shape[0]
    n_blocks = -(-n_words // 4)
    start = counter & (2**64 - 1)
    mask, shift = xp.uint64(_MASK), xp.uint64(32)
    for first in range(0, n_blocks, PHILOX_CHUNK):
        n = min(PHILOX_CHUNK, n_blocks - first)
        c0, c1, c2, c3, p0, p1 = (work[i, :n] for i in range(6))
        # the counters' index: arange(n) + start + first (mod 2**64), in p0 (the
        # arange itself is the array module's, n words: it has no `out`)
        xp.copyto(p0, xp.arange(n, dtype=xp.uint64))
        xp.add(p0, xp.uint64((start + first) & (2**64 - 1)), out=p0)
        xp.bitwise_and(p0, mask, out=c0)
        xp.right_shift(p0, shift, out=c1)
        c2.fill(0)
        c3.fill(0)
        _rounds(xp, c0, c1, c2, c3, key, p0, p1)
        # The words of these counters; the last chunk may end inside a block.
        words = out[4 * first : 4 * (first + n)]
        whole = words.shape[0] // 4
        grid = words[: 4 * whole].reshape(whole, 4)
        for j, word in enumerate((c0, c1, c2, c3)):
            grid[:, j] = word[:whole]
            if 4 * whole + j < words.shape[0]:
                words[4 * whole + j] = word[whole]


def philox4x32_blocks(xp: Any, key: tuple[int, int], counter: int, n_words: int) -> Any:
    """`n_words` uint32 words: the outputs for the 128-bit counters
    (counter + i mod 2**64, 0) for i = 0, 1, ..., four words per counter, in order
    (`philox4x32_into` on new arrays)."""
    out = xp.empty(n_words, dtype=xp.uint32)
    chunk = min(-(-n_words // 4), PHILOX_CHUNK)
    philox4x32_into(xp, key, counter, out, xp.empty((6, chunk), dtype=xp.uint64))
    return out
