"""The closed operator set: every primitive a device runs, and its dtype rules.

The layers above compile to these operators and nothing else; a new backend
implements exactly these (most of them come for free from `Kernels`, written once
against the array module). Each elementwise operator maps an input dtype to its
result dtype; a dtype missing from the map is refused with a TypeError.

`quiet` operators run with floating-point warnings off: their IEEE results (inf,
nan) are the answer, as in PyTorch and JAX. The others (add, subtract, multiply,
comparisons, ...) only signal on overflow to infinity, and skip that cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np

from actnet.device import _dtypes as dt

Kind = Literal[
    "unary",
    "binary",
    "where",
    "astype",
    "reduce",
    "arg_reduce",
    "cumulative",
    "matmul",
    "add_scaled",
    "copy",
    "gather",
    "scatter",
    "index",
    "index_update",
    "concatenate",
    "full",
    "arange",
    "sort",
    "searchsorted",
    "nonzero",
    "unique",
    "linalg",
    "fft",
    "random_bits",
    "fused",
]


@dataclass(frozen=True)
class OpSpec:
    name: str
    kind: Kind
    dtypes: dict[np.dtype[Any], np.dtype[Any]] = field(default_factory=dict)
    quiet: bool = False
    doc: str = ""


def _same(dtypes: tuple[np.dtype[Any], ...]) -> dict[np.dtype[Any], np.dtype[Any]]:
    return {d: d for d in dtypes}


def _to(dtypes: tuple[np.dtype[Any], ...], result: np.dtype[Any]) -> dict[Any, Any]:
    return dict.fromkeys(dtypes, result)


_ABS: dict[Any, Any] = {**_same(dt.REAL), **dt.REAL_OF}
_REAL_PART: dict[Any, Any] = {**_same(dt.REAL_FLOATING), **dt.REAL_OF}

# name: (result dtypes, quiet)
UNARY: Final[dict[str, tuple[dict[Any, Any], bool]]] = {
    "abs": (_ABS, False),
    "acos": (_same(dt.FLOATING), True),
    "acosh": (_same(dt.FLOATING), True),
    "asin": (_same(dt.FLOATING), True),
    "asinh": (_same(dt.FLOATING), True),
    "atan": (_same(dt.FLOATING), True),
    "atanh": (_same(dt.FLOATING), True),
    "bitwise_invert": (_same((dt.bool_, *dt.INTEGER)), False),
    "ceil": (_same(dt.REAL), False),
    "conj": (_same(dt.NUMERIC), False),
    "cos": (_same(dt.FLOATING), True),
    "cosh": (_same(dt.FLOATING), True),
    "erf": (_same(dt.REAL_FLOATING), True),
    "exp": (_same(dt.FLOATING), True),
    "expm1": (_same(dt.FLOATING), True),
    "floor": (_same(dt.REAL), False),
    "imag": (_REAL_PART, False),
    "isfinite": (_to(dt.NUMERIC, dt.bool_), False),
    "isinf": (_to(dt.NUMERIC, dt.bool_), False),
    "isnan": (_to(dt.NUMERIC, dt.bool_), False),
    "log": (_same(dt.FLOATING), True),
    "log1p": (_same(dt.FLOATING), True),
    "log2": (_same(dt.FLOATING), True),
    "log10": (_same(dt.FLOATING), True),
    "logical_not": (_same((dt.bool_,)), False),
    "negative": (_same(dt.NUMERIC), False),
    "positive": (_same(dt.NUMERIC), False),
    "real": (_REAL_PART, False),
    "reciprocal": (_same(dt.FLOATING), True),
    "round": (_same(dt.NUMERIC), False),
    "sign": (_same(dt.NUMERIC), True),
    "signbit": (_to(dt.REAL_FLOATING, dt.bool_), False),
    "sin": (_same(dt.FLOATING), True),
    "sinh": (_same(dt.FLOATING), True),
    "sqrt": (_same(dt.FLOATING), True),
    "square": (_same(dt.NUMERIC), True),
    "tan": (_same(dt.FLOATING), True),
    "tanh": (_same(dt.FLOATING), True),
    "trunc": (_same(dt.REAL), False),
}

_NUM = _same(dt.NUMERIC)
_REAL = _same(dt.REAL)
_RFLOAT = _same(dt.REAL_FLOATING)
_INTS = _same(dt.INTEGER)
_BITS = _same((dt.bool_, *dt.INTEGER))
_CMP_ALL = _to((dt.bool_, *dt.NUMERIC), dt.bool_)
_CMP_REAL = _to(dt.REAL, dt.bool_)
_BOOL = _same((dt.bool_,))

BINARY: Final[dict[str, tuple[dict[Any, Any], bool]]] = {
    "add": (_NUM, False),
    "atan2": (_RFLOAT, True),
    "bitwise_and": (_BITS, False),
    "bitwise_left_shift": (_INTS, False),
    "bitwise_or": (_BITS, False),
    "bitwise_right_shift": (_INTS, False),
    "bitwise_xor": (_BITS, False),
    "copysign": (_RFLOAT, False),
    "divide": (_same(dt.FLOATING), True),
    "equal": (_CMP_ALL, False),
    "floor_divide": (_REAL, True),
    "greater": (_CMP_REAL, False),
    "greater_equal": (_CMP_REAL, False),
    "hypot": (_RFLOAT, True),
    "less": (_CMP_REAL, False),
    "less_equal": (_CMP_REAL, False),
    "logaddexp": (_RFLOAT, True),
    "logical_and": (_BOOL, False),
    "logical_or": (_BOOL, False),
    "logical_xor": (_BOOL, False),
    "maximum": (_REAL, False),
    "minimum": (_REAL, False),
    "multiply": (_NUM, False),
    "nextafter": (_RFLOAT, False),
    "not_equal": (_CMP_ALL, False),
    "pow": (_NUM, True),
    "remainder": (_REAL, True),
    "subtract": (_NUM, False),
}

# Reductions over axes. sum/prod/mean/var accumulate in the dtype they are given
# (the layer above chooses it); max/min/argmax/argmin need a non-empty extent.
REDUCE: Final[dict[str, dict[Any, Any]]] = {
    "sum": _NUM,
    # the sum of x**2, accumulated in float64 (vector norms, gradient clipping)
    "sum_of_squares": _same(dt.REAL_FLOATING),
    "prod": _NUM,
    "max": _same((dt.bool_, *dt.REAL)),
    "min": _same((dt.bool_, *dt.REAL)),
    "mean": _same(dt.FLOATING),
    "var": _REAL_PART,
    "any": _to((dt.bool_, *dt.NUMERIC), dt.bool_),
    "all": _to((dt.bool_, *dt.NUMERIC), dt.bool_),
}
ARG_REDUCE: Final[dict[str, dict[Any, Any]]] = {
    "argmax": _to(dt.REAL, dt.int64),
    "argmin": _to(dt.REAL, dt.int64),
}
CUMULATIVE: Final[dict[str, dict[Any, Any]]] = {
    "cumulative_sum": _NUM,
    "cumulative_prod": _NUM,
}


def _with_bfloat16(table: dict[Any, Any]) -> dict[Any, Any]:
    """`table`, which takes bfloat16 wherever it takes float32, with float32's
    result kind (bfloat16 for float32, bool for bool), from when bfloat16 loads
    (`_take_bfloat16`: ml_dtypes is imported on first use, see `_dtypes`)."""
    _TAKE_BFLOAT16.append(table)
    return table


def _take_bfloat16(bfloat16: np.dtype[Any]) -> None:
    for table in _TAKE_BFLOAT16:
        result = table.get(dt.float32)
        if result is not None:
            table[bfloat16] = bfloat16 if result == dt.float32 else result


_TAKE_BFLOAT16: Final[list[dict[Any, Any]]] = []
# bfloat16 computes as float32 does and each result is rounded to bfloat16 once,
# as PyTorch's CPU kernels do: the elementwise loops ml_dtypes gives NumPy work
# that way, and sums, products, means, variances, cumulative sums and matmul
# accumulate in float32 (Kernels). So every table that takes float32 takes it.
for _table in (
    *(table for table, _ in UNARY.values()),
    *(table for table, _ in BINARY.values()),
    *REDUCE.values(),
    *ARG_REDUCE.values(),
    *CUMULATIVE.values(),
):
    _with_bfloat16(_table)
LINALG: Final = (
    "solve",
    "inv",
    "det",
    "slogdet",
    "cholesky",
    "qr",
    "svd",
    "svdvals",
    "eigh",
)
# softmax, log_softmax and class-index cross-entropy: fused, each with its backward
SOFTMAX_FAMILY: Final = (
    "softmax",
    "softmax_backward",
    "log_softmax",
    "log_softmax_backward",
    "cross_entropy",
    "cross_entropy_backward",
)
# 2-d convolution and max pooling, forward and backward (not quiet, as the
# matmul and add they replace)
CONV_FAMILY: Final = (
    "conv2d",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "max_pool2d",
    "max_pool2d_backward",
)
LINALG_DTYPES: Final = _same((dt.float32, dt.float64, *dt.COMPLEX_FLOATING))
# Fourier transforms: complex to complex, real to complex (its half spectrum) and
# back, each in the input's precision.
_COMPLEX_OF: dict[Any, Any] = {dt.float32: dt.complex64, dt.float64: dt.complex128}
FFT: Final[dict[str, dict[Any, Any]]] = {
    "fft": _same(dt.COMPLEX_FLOATING),
    "ifft": _same(dt.COMPLEX_FLOATING),
    "rfft": _COMPLEX_OF,
    "irfft": dt.REAL_OF,
    "hfft": dt.REAL_OF,
    "ihfft": _COMPLEX_OF,
}


def _specs() -> dict[str, OpSpec]:
    specs: dict[str, OpSpec] = {}
    for name, (dtypes, quiet) in UNARY.items():
        specs[name] = OpSpec(name, "unary", dtypes, quiet)
    for name, (dtypes, quiet) in BINARY.items():
        specs[name] = OpSpec(name, "binary", dtypes, quiet)
    for name, dtypes in REDUCE.items():
        quiet = name in ("mean", "var", "prod", "sum_of_squares")
        specs[name] = OpSpec(name, "reduce", dtypes, quiet)
    for name, dtypes in ARG_REDUCE.items():
        specs[name] = OpSpec(name, "arg_reduce", dtypes)
    for name, dtypes in CUMULATIVE.items():
        specs[name] = OpSpec(name, "cumulative", dtypes, True)
    for name in LINALG:
        specs[name] = OpSpec(name, "linalg", LINALG_DTYPES, True)
    for name, dtypes in FFT.items():
        specs[name] = OpSpec(name, "fft", dtypes, True)
    others: list[tuple[str, Kind, dict[Any, Any], bool]] = [
        ("where", "where", {}, False),
        ("astype", "astype", {}, True),
        ("matmul", "matmul", _with_bfloat16(_same((dt.bool_, *dt.NUMERIC))), False),
        ("matmuls", "matmul", _with_bfloat16(_same((dt.bool_, *dt.NUMERIC))), False),
        ("matmul_add", "matmul", _with_bfloat16(_same(dt.NUMERIC)), False),
        ("add_scaled", "add_scaled", _same(dt.FLOATING), False),
        ("copy", "copy", {}, False),
        ("gather", "gather", {}, False),
        ("scatter", "scatter", {}, False),
        ("scatter_add", "scatter", {}, False),
        ("take", "gather", {}, False),
        ("index", "index", {}, False),
        ("index_update", "index_update", {}, True),
        ("concatenate", "concatenate", {}, False),
        ("full", "full", {}, False),
        ("arange", "arange", {}, False),
        ("sort", "sort", _same((dt.bool_, *dt.REAL)), False),
        ("argsort", "sort", _to((dt.bool_, *dt.REAL), dt.int64), False),
        ("searchsorted", "searchsorted", _to(dt.REAL, dt.int64), False),
        ("nonzero", "nonzero", {}, False),
        ("unique", "unique", _same((dt.bool_, *dt.REAL, *dt.COMPLEX_FLOATING)), False),
        ("random_bits", "random_bits", {}, False),
        # Fused operators: one pass where a composition of the above takes several.
        ("gelu", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("gelu_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("silu", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("silu_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("dropout", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), False),
        ("dropout_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), False),
        *(
            (name, "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True)
            for name in SOFTMAX_FAMILY
        ),
        ("layer_norm", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("layer_norm_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("rms_norm", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("rms_norm_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("sgd_update", "fused", _same(dt.FLOATING), True),
        ("adam_update", "fused", _same(dt.REAL_FLOATING), True),
        ("sdpa", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("sdpa_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        *((name, "fused", _same(dt.REAL_FLOATING), False) for name in CONV_FAMILY),
        ("lstm_cell", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
        ("lstm_cell_backward", "fused", _with_bfloat16(_same(dt.REAL_FLOATING)), True),
    ]
    for name, kind, dtypes, quiet in others:
        specs[name] = OpSpec(name, kind, dtypes, quiet)
    for name in ("sort", "argsort", "searchsorted"):  # NumPy orders bfloat16
        _with_bfloat16(specs[name].dtypes)
    return specs


OPS: Final[dict[str, OpSpec]] = _specs()
dt.on_bfloat16(_take_bfloat16)
