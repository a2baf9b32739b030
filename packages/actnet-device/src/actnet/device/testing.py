"""The conformance kit: does a device give the reference's results?

"Weak stream equivalence": a backend may reorder work or run it asynchronously,
but for any deterministic stream of create / load / launch / read operations,
what it reads back must equal what the reference device (`reference`: plain NumPy
kernels) reads.

    from actnet.device.testing import check_conformance
    check_conformance(get_device("cuda:0"))        # raises AssertionError on a mismatch

A `Stream` records operations against symbolic values; `replay` runs it on one
device; `compare` runs it on the reference and a device under test and lists the
mismatches; `standard_streams` covers the whole operator set with seeded data, and
`random_stream` makes fuzzing streams of elementwise and reduction work.

Tolerances (`TOLERANCES`): bool and integer results must be equal exactly (so must
bits, permutations and every index result); floating results must satisfy
|dut - ref| <= atol + rtol * |ref| elementwise with NaN where the reference has NaN:
float16 rtol 1e-3; bfloat16 rtol 1e-2; float32 rtol 1e-5, atol 1e-6; float64 rtol
1e-12, atol 1e-13. Linear algebra and long reductions use `LOOSE` (ten times
those). Results that are not unique (the signs of QR/SVD/eigenvector columns) are
compared through invariants the stream computes on the device (reconstructions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._backend import Backend
from actnet.device._buffer import Buffer
from actnet.device._device import Device
from actnet.device._fused_streams import (
    _attention_stream,
    _conv_stream,
    _fused_stream,
    _norm_stream,
    _optim_stream,
    _softmax_stream,
)
from actnet.device._kernels import Kernels
from actnet.device._opset import BINARY, UNARY
from actnet.device._registry import get_device
from actnet.device._stream import Ref, Stream, _data, _held, _positive

__all__ = [
    "LOOSE",
    "TOLERANCES",
    "Backend",
    "Kernels",
    "Mismatch",
    "Ref",
    "Stream",
    "check_conformance",
    "compare",
    "random_stream",
    "replay",
    "standard_streams",
]

TOLERANCES: Final[dict[np.dtype[Any], tuple[float, float]]] = {
    dt.float16: (1e-3, 1e-4),
    dt.bfloat16: (1e-2, 1e-3),
    dt.float32: (1e-5, 1e-6),
    dt.complex64: (1e-5, 1e-6),
    dt.float64: (1e-12, 1e-13),
    dt.complex128: (1e-12, 1e-13),
}
LOOSE: Final = 10.0  # factor on TOLERANCES for reads marked loose


def _resolve(value: Any, env: dict[int, Buffer]) -> Any:
    if isinstance(value, Ref):
        return env[value.id]
    if isinstance(value, list | tuple):
        return type(value)(_resolve(v, env) for v in value)
    return value


def replay(stream: Stream, device: Device | str) -> list[np.ndarray[Any, Any]]:
    """Run the stream on `device`; return what it read, in order."""
    dev = get_device(device)
    env: dict[int, Buffer] = {}
    reads: list[np.ndarray[Any, Any]] = []
    for step in stream.steps:
        if step.kind == "load":
            assert step.data is not None
            env[step.outputs[0].id] = dev.from_host(step.data)
        elif step.kind == "run":
            args = _resolve(step.args, env)
            kwargs = {k: _resolve(v, env) for k, v in step.kwargs}
            result = dev.run(step.name, args, **kwargs)
            results = result if isinstance(result, tuple) else (result,)
            for ref, buf in zip(step.outputs, results, strict=True):
                env[ref.id] = buf
        elif step.kind == "view":
            source, *args = _resolve(step.args, env)
            env[step.outputs[0].id] = getattr(source, step.name)(*args)
        elif step.kind == "read":
            buf = env[step.outputs[0].id]
            reads.append(dev.to_host(buf))
        else:
            del env[step.outputs[0].id]
    dev.synchronize()
    return reads


@dataclass(frozen=True)
class Mismatch:
    """One read on which a device disagreed with the reference."""

    stream: str
    read: int  # index of the read in the stream
    op: str  # the operator (or view, or load) that made the value
    detail: str

    def __str__(self) -> str:
        return f"{self.stream}, read {self.read} (made by {self.op}): {self.detail}"


def _agree(ref: np.ndarray[Any, Any], dut: np.ndarray[Any, Any], loose: bool) -> str:
    """'' when dut matches ref under the tolerances, else what differs."""
    if ref.shape != dut.shape:
        return f"shape {dut.shape}, expected {ref.shape}"
    if ref.dtype != dut.dtype:
        return f"dtype {dut.dtype}, expected {ref.dtype}"
    tol = TOLERANCES.get(ref.dtype)
    if tol is None:  # bool, integers: exact
        bad = ref != dut
        if bad.any():
            i = _first(bad)
            return (
                f"{int(bad.sum())} elements differ, e.g. at {i}: {dut[i]} != {ref[i]}"
            )
        return ""
    rtol, atol = tol
    if loose:
        rtol, atol = rtol * LOOSE, atol * LOOSE
    r = ref.astype(np.complex128 if ref.dtype.kind == "c" else np.float64)
    nan = np.isnan(r)
    # quiet: a wrong device may hand back any bits, signalling NaNs among them
    with np.errstate(invalid="ignore", over="ignore"):
        d = dut.astype(r.dtype)
        close = (d == r) | (np.abs(d - r) <= atol + rtol * np.abs(r))
    bad = ~np.where(nan, np.isnan(d), close)
    if bad.any():
        i = _first(bad)
        return (
            f"{int(bad.sum())} elements beyond rtol {rtol:g}, atol {atol:g}, "
            f"e.g. at {i}: {d[i]} vs {r[i]}"
        )
    return ""


def _first(bad: np.ndarray[Any, Any]) -> tuple[int, ...]:
    """The index of the first True of `bad` (any number of axes, 0 included)."""
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(bad)), bad.shape))


def compare(
    stream: Stream, device: Device | str, reference: Device | str = "reference"
) -> list[Mismatch]:
    """Replay `stream` on the reference and on `device`; list the disagreements.
    An exception on the device under test, where the reference ran, is a mismatch
    of the read the stream had reached."""
    expected = replay(stream, reference)
    makers = _makers(stream)
    try:
        got = replay(stream, device)
    except Exception as exc:  # noqa: BLE001  # reported, not raised: it is the finding
        return [Mismatch(stream.name, -1, "?", f"raised {exc!r}")]
    reads = [s for s in stream.steps if s.kind == "read"]
    mismatches = []
    for i, (ref, dut, step) in enumerate(zip(expected, got, reads, strict=True)):
        detail = _agree(ref, dut, step.loose)
        if detail:
            mismatches.append(
                Mismatch(stream.name, i, makers[step.outputs[0].id], detail)
            )
    return mismatches


def _makers(stream: Stream) -> dict[int, str]:
    makers: dict[int, str] = {}
    for step in stream.steps:
        for ref in step.outputs:
            makers.setdefault(ref.id, step.name or step.kind)
    return makers


def check_conformance(
    device: Device | str,
    streams: Sequence[Stream] | None = None,
    reference: Device | str = "reference",
) -> None:
    """Raise AssertionError listing every mismatch of `device` with the reference
    on `streams` (default: `standard_streams` for the device's dtypes, and ten
    random streams)."""
    dev = get_device(device)
    if streams is None:
        streams = [
            *standard_streams(dev),
            *(random_stream(seed, dev) for seed in range(10)),
        ]
    mismatches = [m for s in streams for m in compare(s, dev, reference)]
    if mismatches:
        lines = "\n".join(f"  {m}" for m in mismatches[:50])
        raise AssertionError(
            f"{dev.name} disagrees with {get_device(reference).name} on "
            f"{len(mismatches)} read(s):\n{lines}"
        )


# ---------------------------------------------------------------- the streams
_UNIT = {"acos", "asin", "atanh"}
_POSITIVE = {"log", "log2", "log10", "log1p", "sqrt", "reciprocal"}
_ABOVE_ONE = {"acosh"}
# Results that depend on the platform's libm get the loose tolerance.
_TRANSCENDENTAL = _UNIT | _POSITIVE | _ABOVE_ONE | {
    "atan", "asinh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "exp", "expm1", "erf",
    "atan2", "hypot", "logaddexp", "pow",
}  # fmt: skip


def standard_streams(device: Device | str = "cpu", seed: int = 0) -> list[Stream]:
    """Streams covering the whole operator set, on the dtypes `device` holds."""
    dev = get_device(device)
    rng = np.random.default_rng(seed)
    return [
        _elementwise_stream(dev, rng),
        _reduction_stream(dev, rng),
        _structure_stream(dev, rng),
        _sorting_stream(dev, rng),
        _linalg_stream(dev, rng),
        _fft_stream(dev, rng),
        _random_bits_stream(),
        _arena_reuse_stream(dev, rng),
        _fused_stream(dev, rng),
        _attention_stream(dev, rng),
        _softmax_stream(dev, rng),
        _optim_stream(dev, rng),
        _norm_stream(dev, rng),
        _conv_stream(dev, rng),
    ]


def _elementwise_stream(dev: Device, rng: np.random.Generator) -> Stream:
    s = Stream("elementwise")
    shape = (3, 4)
    for name, (table, _) in sorted(UNARY.items()):
        for dtype in _held(dev, list(table)):
            if dtype in (dt.float16,) and name in _TRANSCENDENTAL:
                continue  # float16 libm results differ by more than an ulp
            if name in _UNIT:
                data = (rng.random(shape) * 1.8 - 0.9).astype(dtype)
            elif name in _POSITIVE:
                data = _positive(rng, shape, dtype)
            elif name in _ABOVE_ONE:
                data = _positive(rng, shape, dtype) + dtype.type(1)
            else:
                data = _data(rng, shape, dtype)
            x = s.load(data)
            s.read(s.run(name, x), loose=name in _TRANSCENDENTAL)
    for name, (table, _) in sorted(BINARY.items()):
        for dtype in _held(dev, list(table)):
            if dtype == dt.float16 and name in _TRANSCENDENTAL:
                continue
            a = s.load(_data(rng, shape, dtype))
            if name in ("bitwise_left_shift", "bitwise_right_shift"):
                b = s.load(rng.integers(0, 5, shape).astype(dtype))
            elif name in ("divide", "floor_divide", "remainder", "pow"):
                b = s.load(_positive(rng, (4,), dtype) if dtype.kind != "c"
                           else _data(rng, (4,), dtype))  # fmt: skip
                if name == "pow" and dtype.kind in "iu":
                    b = s.load(rng.integers(0, 3, (4,)).astype(dtype))
            else:
                b = s.load(_data(rng, (4,), dtype))  # broadcast along rows
            s.read(s.run(name, a, b), loose=name in _TRANSCENDENTAL)
    for dtype in _held(dev, [dt.float32, dt.int32, dt.float64]):
        a = s.load(_data(rng, shape, dtype))
        s.read(s.run("add", a, 3))
        s.read(s.run("multiply", 2, a))
        c = s.load(rng.random(shape) < 0.5)
        s.read(s.run("where", c, a, s.load(_data(rng, (1, 4), dtype))))
        if dtype.kind == "f":
            s.read(s.run("add_scaled", a, s.load(_data(rng, shape, dtype)), -0.75))
            # an optimizer's update into a, large enough for a fused BLAS path
            big = s.load(_data(rng, (130, 129), dtype))
            s.read(s.run("add_scaled", big, s.load(_data(rng, (130, 129), dtype)),
                         0.01, out=big))  # fmt: skip
        for target in _held(dev, [dt.int8, dt.uint8, dt.int64, dt.float16, dt.bfloat16,
                                  dt.float32, dt.float64, dt.bool_]):  # fmt: skip
            if dtype.kind == "f" and target.kind in "iub":
                continue  # float to int casts of out-of-range values are undefined
            s.read(s.run("astype", a, target))
    return s


def _reduction_stream(dev: Device, rng: np.random.Generator) -> Stream:
    s = Stream("reductions")
    for dtype in _held(dev, [dt.float32, dt.float64, dt.int32, dt.int64]):
        x = s.load(_data(rng, (4, 5, 6), dtype))
        for axis in (None, 0, -1, (0, 2)):
            for name in ("sum", "prod", "max", "min", "any", "all"):
                if name == "prod" and dtype.kind == "i":
                    continue  # integer products overflow: wraparound is not compared
                s.read(s.run(name, x, axis, True), loose=True)
            if dtype.kind == "f":
                s.read(s.run("sum_of_squares", x, axis), loose=True)
                s.read(s.run("mean", x, axis), loose=True)
                s.read(s.run("var", x, axis, correction=1.0), loose=True)
        for axis in (None, 1):
            s.read(s.run("argmax", x, axis))
            s.read(s.run("argmin", x, axis, True))
        s.read(s.run("cumulative_sum", x, 2, include_initial=True), loose=True)
        if dtype.kind == "f":
            s.read(s.run("cumulative_prod", x, 0), loose=True)
        s.read(
            s.run("sum", x, 1, dtype=dt.int64 if dtype.kind == "i" else dtype),
            loose=True,
        )
    for dtype in _held(dev, [dt.float32, dt.float64]):
        a = s.load(_data(rng, (2, 3, 4), dtype))
        b = s.load(_data(rng, (4, 5), dtype))
        s.read(s.run("matmul", a, b), loose=True)
        s.read(s.run("matmul", s.load(_data(rng, (4,), dtype)), b), loose=True)
        g = s.load(_data(rng, (6, 5), dtype))
        w = s.load(_data(rng, (5, 4), dtype))
        x = s.load(_data(rng, (6, 4), dtype))
        products = [(g, w), (s.view(g, "swapaxes", 0, 1), x)]  # Linear's backward
        for ref in s.run("matmuls", products, n_outputs=2):
            s.read(ref, loose=True)
        bias = s.load(_data(rng, (4,), dtype))
        s.read(s.run("matmul_add", g, w, bias), loose=True)  # Linear's forward
    if dt.bfloat16 in dev.dtypes:  # accumulated in float32, rounded once
        x = s.load(_data(rng, (4, 5, 6), dt.bfloat16))
        for name in ("sum", "sum_of_squares", "prod", "mean", "max", "min"):
            s.read(s.run(name, x, (0, 2)), loose=True)
        s.read(s.run("var", x, -1, correction=1.0), loose=True)
        s.read(s.run("cumulative_sum", x, 1), loose=True)
        s.read(s.run("argmax", x, 1))
        a = s.load(_data(rng, (2, 3, 40), dt.bfloat16))
        b = s.load(_data(rng, (40, 5), dt.bfloat16))
        s.read(s.run("matmul", a, b), loose=True)
        bt = s.view(s.load(_data(rng, (5, 40), dt.bfloat16)), "swapaxes", -1, -2)
        s.read(s.run("matmul", a, bt), loose=True)  # a transposed view
    return s


def _structure_stream(dev: Device, rng: np.random.Generator) -> Stream:
    s = Stream("structure")
    for dtype in _held(dev, [dt.float32, dt.int64, dt.bool_]):
        x = s.load(_data(rng, (4, 6), dtype))
        s.read(s.view(x, "transpose"))
        t = s.view(x, "transpose")
        s.read(s.run("copy", t))
        s.read(s.view(x, "reshape", (3, 8)))
        s.read(s.view(x, "__getitem__", (slice(1, None, 2), slice(None, None, -1))))
        s.read(s.view(s.view(x, "expand_dims", 0), "broadcast_to", (2, 4, 6)))
        s.read(s.view(x, "as_strided", (3, 3), (6, 1), 2))
        s.read(s.view(x, "diagonal"))
        idx = s.load(np.array([5, 0, 2, 2]))
        s.read(s.run("take", x, idx, 1))
        g = s.load(rng.integers(0, 6, (4, 3)))
        s.read(s.run("gather", x, g, 1))
        perm = s.load(np.stack([rng.permutation(6)[:3] for _ in range(4)]))
        src = s.load(_data(rng, (4, 3), dtype))
        s.read(s.run("scatter", x, perm, src, 1))
        if dtype != dt.bool_:
            s.read(s.run("scatter_add", x, g, src, 1))
            rows = s.load(np.array([0, 2, 0, 3]))
            vals = s.load(_data(rng, (4, 6), dtype))
            for mode in ("add", "max"):  # repeated rows accumulate
                s.read(s.run("index_update", x, (rows,), vals, mode))
            # With "set", which of repeated writes wins is undefined: distinct rows.
            distinct = (s.load(np.array([1, 3])),)
            new_rows = s.load(_data(rng, (2, 6), dtype))
            s.read(s.run("index_update", x, distinct, new_rows, "set"))
        mask = s.load(rng.random((4, 6)) < 0.4)
        s.read(s.run("index", x, (mask,)))
        s.read(s.run("index", x, (s.load(np.array([3, 0, 2, 2])), slice(1, 3))))
        s.read(s.run("concatenate", [x, x, s.view(x, "__getitem__", slice(0, 1))], 0))
        s.read(s.run("full", (2, 3), True if dtype == dt.bool_ else 7, dtype))
    for dtype in _held(dev, [dt.float32, dt.int32, dt.float64]):
        s.read(s.run("arange", 1, 10, 2, dtype=dtype))
        if dtype.kind == "f":
            s.read(s.run("arange", 0.0, 1.0, 0.1, dtype=dtype))
    return s


def _sorting_stream(dev: Device, rng: np.random.Generator) -> Stream:
    s = Stream("sorting")
    for dtype in _held(dev, [dt.float32, dt.int64, dt.uint8, dt.bool_, dt.float64]):
        x = s.load(rng.integers(0, 5, (3, 7)).astype(dtype))  # many ties
        for descending in (False, True):
            s.read(s.run("sort", x, 1, descending=descending))
            s.read(s.run("argsort", x, 1, descending=descending))
        s.read(s.run("argsort", x, 0))
        if dtype != dt.bool_:
            flat = s.view(x, "reshape", (21,))
            srt = s.run("sort", flat)
            s.read(s.run("searchsorted", srt, x, side="left"))
            s.read(s.run("searchsorted", srt, x, side="right"))
            for out in s.run("unique", x, n_outputs=4):
                s.read(out)
        for out in s.run("nonzero", x, n_outputs=2):
            s.read(out)
    return s


def _linalg_stream(dev: Device, rng: np.random.Generator) -> Stream:
    s = Stream("linalg")
    for dtype in _held(dev, [dt.float32, dt.float64]):
        m = rng.standard_normal((2, 4, 4))
        spd = m @ np.swapaxes(m, -1, -2) + 4 * np.eye(4)
        a = s.load(spd.astype(dtype))
        b = s.load(rng.standard_normal((2, 4, 3)).astype(dtype))
        s.read(s.run("solve", a, b), loose=True)
        s.read(s.run("inv", a), loose=True)
        s.read(s.run("det", a), loose=True)
        for out in s.run("slogdet", a, n_outputs=2):
            s.read(out, loose=True)
        s.read(s.run("cholesky", a), loose=True)
        s.read(s.run("cholesky", a, upper=True), loose=True)
        r = s.load(rng.standard_normal((5, 3)).astype(dtype))
        q, rr = s.run("qr", r, n_outputs=2)
        s.read(s.run("matmul", q, rr), loose=True)  # signs are not unique: products are
        u, sv, vh = s.run("svd", r, full_matrices=False, n_outputs=3)
        s.read(sv, loose=True)
        us = s.run("multiply", u, s.view(sv, "expand_dims", 0))
        s.read(s.run("matmul", us, vh), loose=True)
        s.read(s.run("svdvals", r), loose=True)
        w, v = s.run("eigh", a, n_outputs=2)
        s.read(w, loose=True)
        vw = s.run("multiply", v, s.view(w, "expand_dims", 1))
        s.read(s.run("matmul", vw, s.view(v, "swapaxes", -1, -2)), loose=True)
    return s


def _fft_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """Transforms over one and several axes, padded and cut, in every norm."""
    s = Stream("fft")
    for dtype in _held(dev, [dt.complex64, dt.complex128]):
        x = s.load(_data(rng, (4, 6, 5), dtype))
        real = s.load(_data(rng, (4, 6, 5), dt.REAL_OF[dtype]))
        for norm in ("backward", "ortho", "forward"):
            for op in ("fft", "ifft"):
                s.read(s.run(op, x, norm=norm), loose=True)
                s.read(s.run(op, x, (3, 8), (0, 2), norm=norm), loose=True)
            s.read(s.run("rfft", real, None, (1, 2), norm=norm), loose=True)
            s.read(s.run("rfft", real, 7, 0, norm=norm), loose=True)
            s.read(s.run("irfft", x, None, None, norm=norm), loose=True)
            s.read(s.run("irfft", x, (5, 9), (2, 1), norm=norm), loose=True)
            s.read(s.run("hfft", x, 7, 1, norm=norm), loose=True)
            s.read(s.run("ihfft", real, None, 0, norm=norm), loose=True)
    return s


def _random_bits_stream() -> Stream:
    s = Stream("random_bits")
    for key, counter, n in (
        ((0, 0), 0, 10),
        ((12345, 678), 2**64 - 2, 17),
        ((1, 2), 99, 0),
    ):
        s.read(s.run("random_bits", key, counter, n))
    return s


def _arena_reuse_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """Values made, dropped and made again: freed blocks are reused in between."""
    s = Stream("arena reuse")
    dtype = _held(dev, [dt.float32])[0]
    keep = s.load(_data(rng, (8,), dtype))
    for i in range(20):
        tmp = s.run("multiply", keep, float(i))
        tmp2 = s.run("add", tmp, keep)
        s.drop(tmp)
        keep = s.run("subtract", tmp2, 1.0)
        s.drop(tmp2)
        s.read(keep)
    return s


_RANDOM_UNARY: Final = ("negative", "abs", "square", "exp", "tanh", "sin", "floor")
_RANDOM_BINARY: Final = ("add", "subtract", "multiply", "maximum", "minimum")
_RANDOM_REDUCE: Final = ("sum", "max", "min", "mean")


def random_stream(seed: int, device: Device | str = "cpu", length: int = 60) -> Stream:
    """A seeded random stream of float32 elementwise and reduction work on a pool
    of live values (values are dropped at random, so blocks get reused)."""
    dev = get_device(device)
    rng = np.random.default_rng(seed)
    s = Stream(f"random stream {seed}")
    dtype = _held(dev, [dt.float32])[0]
    pool: list[tuple[Ref, tuple[int, ...]]] = []
    pick: Callable[[], tuple[Ref, tuple[int, ...]]] = lambda: pool[
        int(rng.integers(len(pool)))
    ]
    for _ in range(length):
        choice = rng.random()
        if not pool or choice < 0.15:
            shape = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 4)))
            pool.append((s.load((rng.standard_normal(shape) * 2).astype(dtype)), shape))
        elif choice < 0.45:
            ref, shape = pick()
            name = _RANDOM_UNARY[int(rng.integers(len(_RANDOM_UNARY)))]
            pool.append((s.run(name, ref), shape))
        elif choice < 0.75:
            ref, shape = pick()
            name = _RANDOM_BINARY[int(rng.integers(len(_RANDOM_BINARY)))]
            if rng.random() < 0.5:
                pool.append((s.run(name, ref, float(rng.standard_normal())), shape))
            else:
                other = s.load(rng.standard_normal(shape[-1:]).astype(dtype))
                pool.append((s.run(name, ref, other), shape))
        elif choice < 0.9:
            ref, shape = pick()
            if not shape:
                continue
            name = _RANDOM_REDUCE[int(rng.integers(len(_RANDOM_REDUCE)))]
            axis = int(rng.integers(len(shape)))
            reduced = tuple(n for i, n in enumerate(shape) if i != axis)
            pool.append((s.run(name, ref, axis), reduced))
        else:
            i = int(rng.integers(len(pool)))
            ref, _ = pool.pop(i)
            s.drop(ref)
            continue
        s.read(pool[-1][0], loose=True)
    return s
