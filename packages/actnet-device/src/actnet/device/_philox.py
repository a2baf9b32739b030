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


def philox4x32(
    xp: Any, c0: Any, c1: Any, c2: Any, c3: Any, key: tuple[int, int]
) -> tuple[Any, Any, Any, Any]:
    """Philox4x32-10 of counters (c0, c1, c2, c3): uint64 arrays holding 32-bit words.

    Returns the four output words, as uint64 arrays of 32-bit values.
    """
    c0, c1, c2, c3 = (xp.array(c, dtype=xp.uint64) for c in (c0, c1, c2, c3))
    _rounds(xp, c0, c1, c2, c3, key)
    return c0, c1, c2, c3


def _rounds(xp: Any, c0: Any, c1: Any, c2: Any, c3: Any, key: tuple[int, int]) -> None:
    """The ten rounds, in place on four uint64 arrays of 32-bit words (with two
    temporaries: the products)."""
    m0, m1, mask, shift = (
        xp.uint64(_M0),
        xp.uint64(_M1),
        xp.uint64(_MASK),
        xp.uint64(32),
    )
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


_CHUNK: Final = 1 << 14  # counters per pass: the working arrays stay in cache


def philox4x32_blocks(xp: Any, key: tuple[int, int], counter: int, n_words: int) -> Any:
    """`n_words` uint32 words: the outputs for the 128-bit counters
    (counter + i mod 2**64, 0) for i = 0, 1, ..., four words per counter, in order."""
    n_blocks = -(-n_words // 4)
    out = xp.empty((n_blocks, 4), dtype=xp.uint32)
    start = counter & (2**64 - 1)
    for first in range(0, n_blocks, _CHUNK):
        n = min(_CHUNK, n_blocks - first)
        index = xp.arange(n, dtype=xp.uint64) + xp.uint64((start + first) & (2**64 - 1))
        c0 = index & xp.uint64(_MASK)
        c1 = index >> xp.uint64(32)
        c2 = xp.zeros(n, dtype=xp.uint64)
        c3 = xp.zeros(n, dtype=xp.uint64)
        _rounds(xp, c0, c1, c2, c3, key)
        for j, word in enumerate((c0, c1, c2, c3)):
            out[first : first + n, j] = word
    return out.reshape(-1)[:n_words]
