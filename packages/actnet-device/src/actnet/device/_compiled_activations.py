"""Compiled kernels of the fused activations (the `cpu` device).

Each kernel is a plain loop over flat contiguous arrays that numba compiles
(with FMA contraction, its exp from the helper `_exp_parts`); per element it
computes in float64 and rounds once on the store, as the reference kernels do.
Nothing in a loop calls libm: exp is a polynomial with the exponent set from
its bits, and the normal CDF comes from the rational functions of `_rationals.py`
and the polynomials of `_polynomials.py`, so every loop runs on the vector units.
Other dtypes and layouts take the reference kernel.

The exact gelu works in blocks of BLOCK elements. Each element takes one
rational function of x**2 first: Phi(x) = 1/2 + x P(x**2) / Q(x**2), x P / Q
being erf(x / sqrt 2) / 2 to a few ulp for |x| <= 4; so Phi has about the
reference's (1 + erf) / 2 absolute error, 1e-16 to 3e-16 (relative errors grow
towards x = -4, to 1e-11). Its 17 multiply-adds and a division (which runs
beside them) cost a fifth less than the 23 of a polynomial as accurate. A block
with some |x| > 4 (none, for most activations) then takes the tail form for all
its elements: Phi(-|x|) = exp(-x**2 / 2) erfcx(|x| / sqrt 2) / 2, relative to a
few ulp down to the underflow of float64 (where the reference's 1 + erf
cancels), and Phi(x) = 1 - Phi(-x) for x > 0; the block after it counts its
|x| > 4 first, so that activations wide enough for most blocks to take the tail
form do not pay for both. On float32 either form gives the exact value rounded
(tests/test_compiled.py checks samples against mpmath).

silu and the tanh form of gelu are x sigmoid(w), w = x for silu and w = 2 u =
TANH_A x + TANH_B x**3 for gelu (1/2 (1 + tanh(u)) = sigmoid(2 u)), with
sigmoid(w) = 1 / (1 + e) or e / (1 + e), e = exp(-|w|) <= 1: no cancellation
at either end, nothing overflows.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device._jit import KernelScope
from actnet.device._kernels_activations import (
    BETA,
    INV_SQRT_2PI,
    KAPPA,
    SQRT1_2,
    ActivationKernels,
    Array,
)
from actnet.device._polynomials import ERFCX, EXP
from actnet.device._rationals import CDF_P, CDF_Q, SLOPE_P, SLOPE_Q
from actnet.device._threads import get_num_threads

# From this many elements a kernel runs on the threads set_num_threads allows;
# below, waking them costs more than the loop.
PARALLEL_MIN: Final = 1 << 15
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))

# Elements per decision between the exact gelu's two forms: small enough that
# nearly every block of normal-like activations takes the cheap form, large
# enough to vectorize well. A task of the parallel loop takes TASK_BLOCKS blocks
# in order (so that each knows whether the one before took the tail form).
BLOCK: Final = 128
TASK_BLOCKS: Final = 16
SMALL2: Final = 16.0  # the rational functions of x**2 hold for x**2 <= SMALL2
TANH_A: Final = 2.0 * BETA  # the tanh form as x sigmoid(a x + b x**3)
TANH_B: Final = 2.0 * BETA * KAPPA

# Global arrays are constants to numba: the Horner loops unroll over them.
_CDF_P: Final = np.array(CDF_P)
_CDF_Q: Final = np.array(CDF_Q)
_SLOPE_P: Final = np.array(SLOPE_P)
_SLOPE_Q: Final = np.array(SLOPE_Q)
_ERFCX: Final = np.array(ERFCX)
_EXP: Final = np.array(EXP)
_N_P: Final = len(CDF_P)  # the numerators' coefficients (SLOPE_P's as many)
_N_Q: Final = len(CDF_Q)
_N_ERFCX: Final = len(ERFCX)
_N_EXP: Final = len(EXP)
_ERFCX_K: Final = 2.0  # ERFCX's variable is (u - K) / (u + K)

# exp(m) for m <= 0: m = k log(2) + r with |r| <= log(2)/2, the integer k found
# by rounding at ROUND (1.5 * 2**52); log(2) in two parts, LN2_HI with 32
# significant bits, so k * LN2_HI is exact. 2**k is built as 2**(k + 54) from
# its bits and scaled by 2**-54, so results down to the subnormals round once.
_LOG2E: Final = 1.4426950408889634
_ROUND: Final = 6755399441055744.0
_LN2_HI: Final = 0.6931471803691238
_LN2_LO: Final = 1.9082149292705877e-10
_EXP_MIN: Final = -746.0  # exp rounds to 0 below: clamped, k stays in range
_EXP_BIAS: Final = 1023 + 54
_TWO_M54: Final = 2.0**-54
_CLAMP: Final = 40.0  # |x| beyond which Phi(-|x|) is 0 in float64

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _exp_parts(hi: float, lo: float) -> tuple[float, float]:
    """(e, s) with exp(hi + lo) = e s 2**-54, for hi <= 0 and lo the low part of
    the argument (0, or hi's rounding error): e = exp(r) in [0.7, 1.5], s the
    normal power of two 2**(k + 54). hi is clamped at _EXP_MIN first, NaN too
    (k must be an int): the caller's operand carries the NaN on."""
    # Not max(): NaN must become _EXP_MIN.
    hi = hi if hi > _EXP_MIN else _EXP_MIN  # noqa: FURB136
    k = hi * _LOG2E + _ROUND - _ROUND
    r = hi - k * _LN2_HI - k * _LN2_LO + lo
    e = 0.0
    for j in range(_N_EXP):
        e = e * r + _EXP[j]
    return e, np.int64((np.int64(k) + _EXP_BIAS) << 52).view(np.float64)


def _gelu(x: Array, out: Array) -> None:
    """out = x Phi(x), block by block (see the module doc)."""
    n = x.size
    blocks = (n + BLOCK - 1) // BLOCK
    for task in prange((blocks + TASK_BLOCKS - 1) // TASK_BLOCKS):
        wide = False  # the last block took the tail form: count this one first
        for blk in range(task * TASK_BLOCKS, min(blocks, (task + 1) * TASK_BLOCKS)):
            # Slices, so the inner loops index from 0: numba checks no sign there.
            xb = x[blk * BLOCK : (blk + 1) * BLOCK]
            ob = out[blk * BLOCK : (blk + 1) * BLOCK]
            large = 0  # elements with |x| > 4
            if wide:
                for i in range(xb.size):
                    v: float = np.float64(xb[i])
                    large += v * v > SMALL2
            if large == 0:  # the rational form, counting in the same pass
                for i in range(xb.size):
                    v = np.float64(xb[i])
                    y: float = v * v
                    large += y > SMALL2
                    p = _CDF_P[0]
                    for j in range(1, _N_P):
                        p = p * y + _CDF_P[j]
                    q = _CDF_Q[0]
                    for j in range(1, _N_Q):
                        q = q * y + _CDF_Q[j]
                    ob[i] = v * (0.5 + v * (p / q))
            wide = large > 0
            if not wide:
                continue
            for i in range(xb.size):  # the tail form
                v = np.float64(xb[i])
                z: float = abs(v)
                z = min(z, _CLAMP)
                # -z**2 / 2 as hi + lo exactly: zh has 24 bits, zh * zh is exact.
                zh: float = np.float64(np.float32(z))
                e, scale = _exp_parts(-0.5 * zh * zh, -0.5 * (z - zh) * (z + zh))
                e *= scale  # e = exp(-z**2/2) * 2**54
                u = z * SQRT1_2
                w = 1.0 / (u + _ERFCX_K)
                t = (u - _ERFCX_K) * w
                h = 0.0
                for j in range(_N_ERFCX):
                    h = h * t + _ERFCX[j]
                # Phi(-z) * 2**54 (Phi(-z) = erfc(u) / 2), 0 from _CLAMP on (exp
                # at _EXP_MIN is not, scaled): x = -inf gives NaN, as -inf * 0
                tail = 0.5 * e * (h * w) if z < _CLAMP else 0.0
                # x Phi(x) is scaled last, so that a subnormal result rounds once.
                if v < 0.0:
                    ob[i] = v * tail * _TWO_M54
                else:
                    ob[i] = v * (1.0 - tail * _TWO_M54)


def _gelu_backward(grad: Array, x: Array, out: Array) -> None:
    """out = grad (Phi(x) + x phi(x)), block by block as _gelu."""
    n = x.size
    blocks = (n + BLOCK - 1) // BLOCK
    for task in prange((blocks + TASK_BLOCKS - 1) // TASK_BLOCKS):
        wide = False
        for blk in range(task * TASK_BLOCKS, min(blocks, (task + 1) * TASK_BLOCKS)):
            xb = x[blk * BLOCK : (blk + 1) * BLOCK]
            gb = grad[blk * BLOCK : (blk + 1) * BLOCK]
            ob = out[blk * BLOCK : (blk + 1) * BLOCK]
            large = 0
            if wide:
                for i in range(xb.size):
                    v: float = np.float64(xb[i])
                    large += v * v > SMALL2
            if large == 0:
                for i in range(xb.size):
                    v = np.float64(xb[i])
                    y: float = v * v
                    large += y > SMALL2
                    p = _SLOPE_P[0]
                    for j in range(1, _N_P):
                        p = p * y + _SLOPE_P[j]
                    q = _SLOPE_Q[0]
                    for j in range(1, _N_Q):
                        q = q * y + _SLOPE_Q[j]
                    ob[i] = np.float64(gb[i]) * (0.5 + v * (p / q))
            wide = large > 0
            if not wide:
                continue
            for i in range(xb.size):
                v = np.float64(xb[i])
                z: float = abs(v)
                z = min(z, _CLAMP)
                zh: float = np.float64(np.float32(z))
                e, scale = _exp_parts(-0.5 * zh * zh, -0.5 * (z - zh) * (z + zh))
                e *= scale * _TWO_M54
                u = z * SQRT1_2
                w = 1.0 / (u + _ERFCX_K)
                t = (u - _ERFCX_K) * w
                h = 0.0
                for j in range(_N_ERFCX):
                    h = h * t + _ERFCX[j]
                tail = 0.5 * e * (h * w)
                cdf = tail if v < 0.0 else 1.0 - tail
                ob[i] = np.float64(gb[i]) * (cdf + v * e * INV_SQRT_2PI)


def _gelu_tanh(x: Array, out: Array) -> None:
    """out = x sigmoid(w), w = TANH_A x + TANH_B x**3 (gelu's tanh form)."""
    for i in prange(x.size):
        v: float = np.float64(x[i])
        w = v * (TANH_A + TANH_B * v * v)
        e, scale = _exp_parts(-abs(w), 0.0)
        e *= scale * _TWO_M54
        d = 1.0 / (1.0 + e)  # e = exp(-|w|)
        out[i] = v * (d if w >= 0.0 else e * d)


def _gelu_tanh_backward(grad: Array, x: Array, out: Array) -> None:
    """out = grad (s + x s (1 - s) w'), s = sigmoid(w), w as in _gelu_tanh."""
    for i in prange(x.size):
        v: float = np.float64(x[i])
        w = v * (TANH_A + TANH_B * v * v)
        e, scale = _exp_parts(-abs(w), 0.0)
        e *= scale * _TWO_M54
        d = 1.0 / (1.0 + e)
        s = d if w >= 0.0 else e * d  # sigmoid(w)
        rest = e * d if w >= 0.0 else d  # sigmoid(-w) = 1 - s, without cancelling
        dw = TANH_A + 3.0 * TANH_B * v * v
        out[i] = np.float64(grad[i]) * (s + v * s * rest * dw)


def _silu(x: Array, out: Array) -> None:
    """out = x sigmoid(x)."""
    for i in prange(x.size):
        v: float = np.float64(x[i])
        e, scale = _exp_parts(-abs(v), 0.0)
        e *= scale * _TWO_M54
        d = 1.0 / (1.0 + e)
        out[i] = v * (d if v >= 0.0 else e * d)


def _silu_backward(grad: Array, x: Array, out: Array) -> None:
    """out = grad s (1 + x (1 - s)), s = sigmoid(x)."""
    for i in prange(x.size):
        v: float = np.float64(x[i])
        e, scale = _exp_parts(-abs(v), 0.0)
        e *= scale * _TWO_M54
        d = 1.0 / (1.0 + e)
        s = d if v >= 0.0 else e * d
        rest = e * d if v >= 0.0 else d
        out[i] = np.float64(grad[i]) * (s * (1.0 + v * rest))


def flat(*arrays: Array) -> tuple[Array, ...] | None:
    """The arrays as 1-d views when all are C-contiguous NumPy arrays of one
    compiled dtype and one size, else None (the reference kernel runs)."""
    first = arrays[0]
    if first.dtype not in COMPILED_DTYPES:
        return None
    for a in arrays:
        if a.dtype is not first.dtype and a.dtype != first.dtype:
            return None
        if a.size != first.size or not a.flags.c_contiguous:
            return None
    return tuple(a.reshape(-1) for a in arrays)


def use_threads(n: int) -> bool:
    """Whether a loop over n elements runs parallel (prange on the threads)."""
    # On one thread the serial loop: numba's parallel one vectorizes a little
    # worse (5-10% slower here) and has nothing to share.
    return n >= PARALLEL_MIN and get_num_threads() > 1


# The helper, contracted like the kernels (FMA: one rounding for two).
_SCOPE: Final = KernelScope(globals(), {_exp_parts: {"contract": True}})


def _kernel(fn: Any, n: int) -> Any:
    return _SCOPE.compiled(fn, parallel=use_threads(n), contract=True)


class ActivationCompiled(ActivationKernels):
    """The compiled forms of ActivationKernels' methods."""

    def gelu(self, x: Array, out: Array, approximate: bool) -> None:
        arrays = flat(x, out)
        if arrays is None:
            super().gelu(x, out, approximate)
        elif approximate:
            _kernel(_gelu_tanh, x.size)(*arrays)
        else:
            _kernel(_gelu, x.size)(*arrays)

    def gelu_backward(
        self, grad: Array, x: Array, out: Array, approximate: bool
    ) -> None:
        arrays = flat(grad, x, out)
        if arrays is None:
            super().gelu_backward(grad, x, out, approximate)
        elif approximate:
            _kernel(_gelu_tanh_backward, x.size)(*arrays)
        else:
            _kernel(_gelu_backward, x.size)(*arrays)

    def silu(self, x: Array, out: Array) -> None:
        arrays = flat(x, out)
        if arrays is None:
            super().silu(x, out)
        else:
            _kernel(_silu, x.size)(*arrays)

    def silu_backward(self, grad: Array, x: Array, out: Array) -> None:
        arrays = flat(grad, x, out)
        if arrays is None:
            super().silu_backward(grad, x, out)
        else:
            _kernel(_silu_backward, x.size)(*arrays)
