"""The BLAS and thread policy: the `cpu` device's matmul (folded, cut into parts
run on the threads set_num_threads allows, BLAS on one thread per part) against
NumPy's matmul and a float64 oracle, for every shape combination the operator
accepts; the thread pool (`parallel_for`), single-threaded BLAS blocks and the
thread count they restore."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from _helpers import get, put, rng_for

from actnet.device import _compiled_matmul as matmul_module
from actnet.device import _threads, get_device, get_num_threads, set_num_threads
from actnet.device._compiled_matmul import (
    PARALLEL_MIN_FLOPS,
    MatmulCompiled,
    fold,
    split,
)
from actnet.device._kernels import Kernels

CPU = get_device("cpu")
REF = get_device("reference")


@pytest.fixture
def two_threads() -> Iterator[None]:
    """Two threads for the test, the count before restored after it."""
    before = get_num_threads()
    set_num_threads(2)
    try:
        yield
    finally:
        set_num_threads(before)


def _run(code: str, **env: str) -> str:
    """Run `code` in a fresh interpreter; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return done.stdout.strip()


def _data(shape: tuple[int, ...], dtype: Any, *key: Any) -> np.ndarray[Any, Any]:
    rng = rng_for(shape, np.dtype(dtype).name, *key)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _assert_rounding_of(
    got: np.ndarray[Any, Any], a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]
) -> None:
    """got is a @ b within the rounding of a K-term dot product in got's dtype
    (|error| <= gamma_K |a| @ |b|, gamma_K = K u / (1 - K u), u its unit
    roundoff), against NumPy's matmul of the same operands (two such errors)
    and against a float64 oracle (one)."""
    wide = np.complex128 if got.dtype.kind == "c" else np.float64
    exact = np.matmul(a.astype(wide), b.astype(wide))
    magnitude = np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    k = a.shape[-1]
    u = np.finfo(got.dtype).eps / 2
    gamma = (k + 2) * u / (1 - (k + 2) * u)  # +2: complex products round twice
    assert got.shape == exact.shape and got.dtype == a.dtype
    assert np.all(np.abs(got - exact) <= gamma * magnitude + 1e-300)
    # NumPy's own product of these finite operands, the peer. OpenBLAS's SkylakeX
    # kernels sometimes raise the invalid flag on small operands (lanes past the
    # data), which NumPy reports as a RuntimeWarning: seen once in a full run, its
    # values finite and right. The values are what is compared.
    with np.errstate(invalid="ignore"):
        numpy = np.matmul(a, b)
    assert np.all(np.isfinite(numpy))
    assert np.all(np.abs(got - numpy) <= 2 * gamma * magnitude + 1e-300)


def _shapes() -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every kind of operand pair matmul takes: 1-d on either side or both,
    stacks of matrices with and without batch axes of their own, batch axes
    broadcast from 1 or absent, at sizes below and above PARALLEL_MIN_FLOPS."""
    for m, k, n in ((3, 5, 4), (200, 150, 300)):
        matrices: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
            ((k,), (k,)),
            ((k,), (k, n)),
            ((m, k), (k,)),
            ((m, k), (k, n)),
        ]
        for a_batch, b_batch in itertools.product(
            ((), (3,), (1,), (2, 3), (2, 1)), ((), (3,), (1,), (1, 3), (2, 3))
        ):
            if not a_batch and not b_batch:
                continue
            for a_vector, b_vector in ((False, False), (True, False), (False, True)):
                if (a_vector and a_batch) or (b_vector and b_batch):
                    continue  # a 1-d operand has no batch axes
                a_shape = (k,) if a_vector else (*a_batch, m, k)
                b_shape = (k,) if b_vector else (*b_batch, k, n)
                matrices.append((a_shape, b_shape))
        yield from matrices


@pytest.mark.usefixtures("two_threads")
@pytest.mark.parametrize(("a_shape", "b_shape"), list(_shapes()))
def test_every_shape_combination_agrees_with_numpy(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    a = _data(a_shape, np.float32, "a")
    b = _data(b_shape, np.float32, "b")
    got = get(CPU.matmul(put(a), put(b)))
    _assert_rounding_of(got, a, b)


@pytest.mark.usefixtures("two_threads")
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((4, 4, 128, 64), (4, 4, 64, 128)),  # attention's q @ k^T
        ((4, 64, 256), (256, 384)),  # a Linear layer: folds into one product
        ((64, 2048), (2048, 128)),
        ((3, 1, 150, 90), (1, 5, 90, 120)),  # batch axes broadcast both ways
        ((300, 200), (7, 200, 300)),  # a shared left matrix
        ((2, 600, 70), (70,)),
    ],
)
def test_large_products_in_each_blas_dtype(
    dtype: Any, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    a = _data(a_shape, dtype, "a")
    b = _data(b_shape, dtype, "b")
    got = get(CPU.matmul(put(a), put(b)))
    _assert_rounding_of(got, a, b)


@pytest.mark.usefixtures("two_threads")
def test_strided_transposed_and_broadcast_operands() -> None:
    """Views as the layers above make them: transposed (x^T @ grad), strided
    (every other row), a broadcast (stride-0) batch, and a transposed out."""
    x = _data((512, 256), np.float32, "x")
    g = _data((512, 384), np.float32, "g")
    xb, gb = put(x), put(g)
    got = get(CPU.matmul(xb.T, gb))
    _assert_rounding_of(got, x.T, g)
    every_other = xb[::2]
    got = get(CPU.matmul(every_other, put(_data((256, 300), np.float32, "w"))))
    _assert_rounding_of(got, x[::2], _data((256, 300), np.float32, "w"))
    stacked = put(_data((1, 200, 256), np.float32, "s")).broadcast_to(6, 200, 256)
    k = _data((6, 256, 200), np.float32, "k")
    got = get(CPU.matmul(stacked, put(k)))
    _assert_rounding_of(got, np.broadcast_to(get(stacked), (6, 200, 256)), k)
    out_t = CPU.alloc((384, 256), np.float32).T  # (256, 384), column-major
    CPU.matmul(xb.T, gb, out=out_t)
    _assert_rounding_of(get(out_t), x.T, g)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float16, np.bool_])
def test_other_dtypes_take_the_reference_kernel(dtype: Any) -> None:
    rng = rng_for("ints", np.dtype(dtype).name)
    a = rng.integers(0, 3, (5, 40, 30)).astype(dtype)
    b = rng.integers(0, 3, (30, 20)).astype(dtype)
    np.testing.assert_array_equal(get(CPU.matmul(put(a), put(b))), np.matmul(a, b))


def test_empty_products() -> None:
    for a_shape, b_shape in (((0, 5), (5, 3)), ((4, 0), (0, 3)), ((2, 0, 5), (5, 3))):
        a = np.ones(a_shape, np.float32)
        b = np.ones(b_shape, np.float32)
        np.testing.assert_array_equal(get(CPU.matmul(put(a), put(b))), np.matmul(a, b))


def test_large_products_are_shared_and_small_ones_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parts of a product of PARALLEL_MIN_FLOPS or more go to parallel_for;
    a smaller one, or any with one thread allowed, runs whole."""
    calls: list[int] = []

    def spy(fn: Any, n: int) -> None:
        calls.append(n)
        _threads.parallel_for(fn, n)

    monkeypatch.setattr(matmul_module, "parallel_for", spy)
    large = (200, 150), (150, 300)  # 2 * 200 * 300 * 150 flops
    assert PARALLEL_MIN_FLOPS <= 2 * 200 * 300 * 150
    small = (20, 150), (150, 300)
    before = get_num_threads()
    try:
        for threads in (2, 1):
            set_num_threads(threads)
            for a_shape, b_shape in (large, small):
                a = _data(a_shape, np.float32)
                b = _data(b_shape, np.float32)
                _assert_rounding_of(get(CPU.matmul(put(a), put(b))), a, b)
    finally:
        set_num_threads(before)
    assert len(calls) == 1 and calls[0] >= 2


def test_the_reference_device_keeps_numpys_matmul() -> None:
    assert not isinstance(REF._backend, MatmulCompiled)
    assert isinstance(CPU._backend, MatmulCompiled)
    assert type(REF._backend).matmul is Kernels.matmul


def test_a_linear_layers_batch_folds_into_one_product() -> None:
    a = np.zeros((16, 128, 256), np.float32)
    b = np.zeros((1, 256, 768), np.float32)
    out = np.zeros((16, 128, 768), np.float32)
    fa, fb, fo = fold(a, b, out)
    assert (
        fa.shape == (2048, 256) and fb.shape == (256, 768) and fo.shape == (2048, 768)
    )
    assert np.shares_memory(fo, out) and np.shares_memory(fa, a)
    transposed = np.zeros((16, 256, 128), np.float32).transpose(0, 2, 1)
    assert fold(transposed, b, out)[0] is transposed  # would need a copy
    batched = np.zeros((16, 256, 768), np.float32)
    assert fold(a, batched, out)[1] is batched  # b has a batch of its own


def test_parts_cover_the_result_once() -> None:
    a = np.zeros((3, 1, 100, 40), np.float32)
    b = np.zeros((1, 5, 40, 70), np.float32)
    out = np.zeros((3, 5, 100, 70), np.float32)
    for count in (1, 2, 3, 8, 40, 1000):
        hits = np.zeros(out.shape, np.int64)
        for pa, pb, po in split(a, b, out, count):
            assert np.broadcast_shapes(pa.shape[:-2], pb.shape[:-2]) == po.shape[:-2]
            assert (pa.shape[-2], pb.shape[-1]) == po.shape[-2:]
            # po is a view of out: mark its elements through the offsets
            start = (po.__array_interface__["data"][0] - out.ctypes.data) // 4
            index = np.unravel_index(start, out.shape)
            hits[
                tuple(slice(i, i + s) for i, s in zip(index, po.shape, strict=True))
            ] += 1
        assert np.all(hits == 1), count


def test_blas_runs_on_one_thread_inside_and_its_count_comes_back(
    two_threads: None,
) -> None:
    if _threads.blas_threads() is None:
        pytest.skip(
            "NumPy's BLAS is not an OpenBLAS whose thread count actnet can set: "
            "the policy then leaves BLAS alone, so there is nothing to check"
        )
    seen: list[int | None] = []
    with _threads.single_threaded_blas():
        seen.append(_threads.blas_threads())
        with _threads.single_threaded_blas():
            seen.append(_threads.blas_threads())
        seen.append(_threads.blas_threads())
    assert seen == [1, 1, 1]
    assert _threads.blas_threads() == 2
    with pytest.raises(RuntimeError), _threads.single_threaded_blas():
        raise RuntimeError
    assert _threads.blas_threads() == 2
    CPU.matmul(put(_data((300, 400), np.float32)), put(_data((400, 500), np.float32)))
    assert _threads.blas_threads() == 2
    set_num_threads(1)
    assert _threads.blas_threads() == 1
    with _threads.single_threaded_blas():
        set_num_threads(2)  # inside: BLAS stays at one thread until the block ends
        assert _threads.blas_threads() == 1
    assert _threads.blas_threads() == 2


def test_parallel_for_runs_every_index_once_on_the_threads_allowed() -> None:
    before = get_num_threads()
    try:
        for threads in (1, 2, 3):
            set_num_threads(threads)
            lock = threading.Lock()
            calls: list[int] = []
            idents: set[int] = set()

            def work(i: int) -> None:
                time.sleep(0.002)  # releases the GIL, as BLAS does
                with lock:  # noqa: B023  # used while the loop's values hold
                    calls.append(i)  # noqa: B023
                    idents.add(threading.get_ident())  # noqa: B023

            _threads.parallel_for(work, 24)
            assert sorted(calls) == list(range(24))
            assert 1 <= len(idents) <= threads
            assert threading.get_ident() in idents  # the caller works too
    finally:
        set_num_threads(before)


def test_parallel_for_reraises_and_stays_usable(two_threads: None) -> None:
    def fail(i: int) -> None:
        if i == 3:
            raise KeyError(i)

    with pytest.raises(KeyError):
        _threads.parallel_for(fail, 10)
    done: list[int] = []
    _threads.parallel_for(done.append, 10)
    assert sorted(done) == list(range(10))


def test_nested_parallel_for_runs_in_the_caller(two_threads: None) -> None:
    inner: list[list[int]] = [[] for _ in range(4)]

    def outer(i: int) -> None:
        _threads.parallel_for(inner[i].append, 5)

    _threads.parallel_for(outer, 4)
    assert inner == [list(range(5))] * 4


def test_a_forked_child_gets_a_pool_of_its_own() -> None:
    if not hasattr(os, "fork"):
        pytest.skip("os.fork does not exist on this platform (Windows)")
    out = _run(
        """
        import os
        from actnet.device import _threads, set_num_threads
        set_num_threads(2)
        seen = []
        _threads.parallel_for(seen.append, 8)
        pid = os.fork()
        if pid == 0:
            child = []
            _threads.parallel_for(child.append, 8)
            os._exit(0 if sorted(child) == list(range(8)) else 1)
        _, status = os.waitpid(pid, 0)
        print(sorted(seen) == list(range(8)), os.waitstatus_to_exitcode(status))
        """
    )
    assert out == "True 0"


def test_omp_num_threads_lists_give_the_first_level() -> None:
    code = """
    from actnet.device import get_num_threads
    from actnet.device._threads import blas_threads
    print(get_num_threads(), blas_threads())
    """
    count, blas = _run(code, OMP_NUM_THREADS="3,1", OPENBLAS_NUM_THREADS="1").split()
    assert count == "3" and blas in ("3", "None")


def test_numbas_openmp_loads_with_a_passive_wait_policy() -> None:
    """The policy is in the environment only while numba's threads launch, and a
    policy the user chose is left alone."""
    code = """
    import os
    import numpy as np
    from actnet.device import _threads, get_device
    seen = []
    original = _threads.passive_openmp

    def spy():
        seen.append(os.environ.get("OMP_WAIT_POLICY"))
        return original()

    _threads.passive_openmp = spy
    cpu = get_device("cpu")
    cpu.gelu(cpu.from_host(np.ones(10, np.float32)))  # loads numba
    with original():
        inside = os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT")
    after = os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT")
    print(seen, *inside, *after)
    """
    env = {k: v for k, v in os.environ.items() if k not in _threads._WAIT_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    spins = str(_threads.SPIN_COUNT)
    assert done.stdout.split() == ["[None]", "PASSIVE", spins, "None", "None"]
    user = _run(
        "from actnet.device import _threads\nimport os\n"
        "with _threads.passive_openmp():\n    print(os.environ['OMP_WAIT_POLICY'])",
        OMP_WAIT_POLICY="ACTIVE",
    )
    assert user == "ACTIVE"


# ------------------------------------------------------------------ matmuls
@pytest.mark.usefixtures("two_threads")
@pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])
def test_matmuls_equal_each_product(device: Any) -> None:
    """A group of products as Linear's backward makes them (g @ w, g^T @ x), with
    a folded batch, a 1-d operand, a small one and other dtypes among them."""

    def on(x: Any) -> Any:
        return put(x, device)

    g = _data((16, 64, 384), np.float32, "g")
    w = _data((384, 256), np.float32, "w")
    x = _data((1024, 256), np.float32, "x")
    g2 = on(g.reshape(1024, 384))
    cases = [
        [(on(g), on(w)), (g2.T, on(x))],
        [(on(_data((3, 5), np.float64, "a")), on(_data((5,), np.float64, "b")))],
        [
            (
                on(_data((300, 200), np.float64, "c")),
                on(_data((200, 90), np.float64)),
            ),
            (on(_data((7, 40), np.float64, "d")), on(_data((40, 2), np.float64))),
            (on(_data((2, 600, 70), np.complex64)), on(_data((70,), np.complex64))),
        ],
    ]
    for products in cases:
        outs = device.matmuls(products)
        assert isinstance(outs, tuple) and len(outs) == len(products)
        for (a, b), out in zip(products, outs, strict=True):
            _assert_rounding_of(get(out), get(a), get(b))
    assert device.matmuls([]) == ()
    ints = on(np.arange(12, dtype=np.int64).reshape(3, 4))
    (product,) = device.matmuls([(ints, ints.T)])
    np.testing.assert_array_equal(get(product), get(ints) @ get(ints).T)


def test_a_group_gives_each_thread_whole_products(
    monkeypatch: pytest.MonkeyPatch, two_threads: None
) -> None:
    """Two products of equal work on two threads: two parts (each product
    whole, the larger first), where matmul one after the other cuts each in
    2 * PARTS_PER_THREAD."""
    calls: list[int] = []

    def spy(fn: Any, n: int) -> None:
        calls.append(n)
        _threads.parallel_for(fn, n)

    monkeypatch.setattr(matmul_module, "parallel_for", spy)
    g, w, x = (
        put(_data((512, 384), np.float32)),
        put(_data((384, 256), np.float32)),
        put(_data((512, 256), np.float32)),
    )
    CPU.matmuls([(g, w), (g.T, x)])
    assert calls == [2]
    CPU.matmul(g, w)
    assert calls[1] == 2 * matmul_module.PARTS_PER_THREAD
    calls.clear()
    small = put(_data((8, 8), np.float32))
    CPU.matmuls([(g, w), (small, small)])  # the small one whole, the large one cut
    assert calls == [3]


def test_matmuls_refuses_what_is_not_pairs_of_buffers() -> None:
    a = put(_data((3, 4), np.float32))
    with pytest.raises(TypeError, match="products must be a sequence"):
        CPU.matmuls(a)  # type: ignore[arg-type]  # what is refused
    with pytest.raises(TypeError, match=r"products\[1\] must be an \(a, b\) pair"):
        CPU.matmuls([(a, a.T), (a,)])  # type: ignore[list-item]  # what is refused
    with pytest.raises(
        TypeError, match=r"products\[0\] has dtypes float32 and float64"
    ):
        CPU.matmuls([(a, put(_data((4, 2), np.float64)))])
    with pytest.raises(ValueError, match="do not align"):
        CPU.matmuls([(a, a)])


# --------------------------------------------------------------- matmul_add
@pytest.mark.usefixtures("two_threads")
@pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])
def test_matmul_add_equals_matmul_then_add(device: Any) -> None:
    """Bit for bit matmul followed by add (the product rounded, then the sum),
    for a Linear layer's bias over a folded batch, a full-shape addend, one
    broadcast along a batch axis, a column, small and large products, a 1-d
    operand and float64."""
    cases = [
        ((16, 128, 256), (256, 384), (384,), np.float32),
        ((512, 256), (256, 300), (512, 300), np.float32),
        ((3, 200, 150), (150, 300), (1, 200, 300), np.float64),
        ((300, 200), (200, 256), (300, 1), np.float32),
        ((7, 5), (5, 3), (3,), np.float32),
        ((2, 600, 70), (70,), (600,), np.float32),
        ((4, 300), (300, 200), (), np.float64),
    ]
    for a_shape, b_shape, c_shape, dtype in cases:
        a, b = (
            put(_data(a_shape, dtype, "a"), device),
            put(_data(b_shape, dtype, "b"), device),
        )
        c = put(_data(c_shape, dtype, "c"), device)
        got = get(device.matmul_add(a, b, c))
        want = get(device.add(device.matmul(a, b), c))
        np.testing.assert_array_equal(got, want)
        exact = get(a).astype(np.float64) @ get(b).astype(np.float64) + get(c)
        np.testing.assert_allclose(
            got, exact, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4
        )


def test_matmul_add_adds_in_every_part(
    monkeypatch: pytest.MonkeyPatch, two_threads: None
) -> None:
    """A large product is cut as matmul cuts it, each part adding its part of
    the addend (rows cut: the bias whole; columns cut: its columns)."""
    calls: list[int] = []

    def spy(fn: Any, n: int) -> None:
        calls.append(n)
        _threads.parallel_for(fn, n)

    monkeypatch.setattr(matmul_module, "parallel_for", spy)
    for a_shape, b_shape in (((1024, 256), (256, 300)), ((300, 256), (256, 1024))):
        a, b = put(_data(a_shape, np.float32)), put(_data(b_shape, np.float32))
        c = put(_data((b_shape[1],), np.float32, "bias"))
        np.testing.assert_array_equal(
            get(CPU.matmul_add(a, b, c)), get(CPU.add(CPU.matmul(a, b), c))
        )
    assert calls == [2 * matmul_module.PARTS_PER_THREAD] * 4


def test_matmul_add_refusals() -> None:
    a = put(_data((3, 4), np.float32))
    b = put(_data((4, 5), np.float32))
    with pytest.raises(TypeError, match="matmul_add: a, b and c have dtypes"):
        CPU.matmul_add(a, b, put(_data((5,), np.float64)))
    with pytest.raises(ValueError, match=r"c of shape \(3, 1, 5\) does not broadcast"):
        CPU.matmul_add(a, b, put(_data((3, 1, 5), np.float32)))
    with pytest.raises(ValueError, match=r"c of shape \(4,\) does not broadcast"):
        CPU.matmul_add(a, b, put(_data((4,), np.float32)))
