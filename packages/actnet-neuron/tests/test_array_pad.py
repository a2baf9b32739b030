"""pad against numpy.pad (constant, reflect, edge, wrap), gradients by the
harness, and torch's refusals."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}  # fmt: skip


def _np_pad(x: np.ndarray, pad: tuple[int, ...], mode: str) -> np.ndarray:
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, mode=NUMPY_MODE[mode])  # type: ignore[call-overload]


CASES = [
    Case(
        f"{mode} {pad} of {shape}",
        lambda rng, shape=shape: [rng.standard_normal(shape)],
        lambda F, x, pad=pad, mode=mode: F.pad(x, pad, mode=mode),
        lambda x, pad=pad, mode=mode: _np_pad(x, pad, mode),
    )
    for mode in ("constant", "reflect", "replicate", "circular")
    for shape, pad in (((2, 5), (2, 1)), ((2, 3, 4), (1, 2, 2, 1)))
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_pad(case: Case) -> None:
    check(case, F)


def test_constant_value_and_negative_pads() -> None:
    x = np.arange(12.0).reshape(3, 4)
    got = F.pad(at.tensor(x), (-1, 2, 1, -1), value=7.0).numpy()
    want = np.pad(x[:-1, 1:], ((1, 0), (0, 2)), constant_values=7.0)
    np.testing.assert_array_equal(got, want)


def test_refusals() -> None:
    x = at.ones(2, 3, 4)
    with pytest.raises(ValueError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(RuntimeError, match="less than the corresponding input"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported"):
        F.pad(at.ones(1, 2, 3, 4), (1, 1), mode="reflect")
    with pytest.raises(ValueError, match="doesn't take in value"):
        F.pad(x, (1, 1), mode="replicate", value=1.0)
