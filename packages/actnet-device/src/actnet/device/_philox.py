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
    k0, k1 = key[0] & _MASK, key[1] & _MASK
    for r in range(ROUNDS):
        if r:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = c0 * xp.uint64(_M0)
        p1 = c2 * xp.uint64(_M1)
        c0, c1, c2, c3 = (
            (p1 >> xp.uint64(32)) ^ c1 ^ xp.uint64(k0),
            p1 & xp.uint64(_MASK),
            (p0 >> xp.uint64(32)) ^ c3 ^ xp.uint64(k1),
            p0 & xp.uint64(_MASK),
        )
    return c0, c1, c2, c3


def philox4x32_blocks(xp: Any, key: tuple[int, int], counter: int, n_words: int) -> Any:
    """`n_words` uint32 words: the outputs for the 128-bit counters
    (counter + i mod 2**64, 0) for i = 0, 1, ..., four words per counter, in order."""
    n_blocks = -(-n_words // 4)
    index = xp.arange(n_blocks, dtype=xp.uint64) + xp.uint64(counter & (2**64 - 1))
    c0 = index & xp.uint64(_MASK)
    c1 = index >> xp.uint64(32)
    zero = xp.zeros(n_blocks, dtype=xp.uint64)
    words = philox4x32(xp, c0, c1, zero, zero, key)
    return xp.stack(words, axis=1).reshape(-1)[:n_words].astype(xp.uint32)
