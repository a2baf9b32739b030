"""numba, loaded the first time a compiled kernel runs.

`import actnet.device` does not import numba (about 0.3 s and 100 MB of LLVM):
`compiled(fn)` imports it on first use, compiles `fn` for the argument types it
meets (numba's lazy dispatch) and caches the machine code on disk (`cache=True`).
The cache sits in `__pycache__` beside the kernels; where the package directory
cannot be written (a system install), `NUMBA_CACHE_DIR` is pointed at the user's
cache directory before numba loads, unless the user set it.

Kernels are plain Python functions (loops over arrays) that name `prange` for
their parallel loops: run as Python (tests on tiny inputs, debugging) it is
`range`; compiled with `parallel=True`, the function is rebuilt over globals in
which `prange` is numba's. The thread count follows `actnet.device`'s one setting
(`set_num_threads`).

A kernel that calls helper functions needs them compiled too: a `KernelScope`
is a copy of a kernel module's globals in which each helper's name is its
compiled form (made on first use, like every kernel).
"""

from __future__ import annotations

import importlib
import os
import threading
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from actnet.device import _threads

_lock = threading.Lock()  # guards _numba and _compiled
_numba: Any = None
_compiled: dict[tuple[Callable[..., Any], bool, bool, bool], Any] = {}


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "actnet" / "numba"


def _load() -> Any:
    """numba, imported and configured once."""
    global _numba
    if _numba is None:
        here = Path(__file__).parent
        if "NUMBA_CACHE_DIR" not in os.environ and not os.access(here, os.W_OK):
            os.environ["NUMBA_CACHE_DIR"] = str(_cache_dir())
        # Imported here, not at the top: the cold start of `import actnet.device`
        # must not pay for numba (this is no import cycle: numba is not actnet).
        numba = importlib.import_module("numba")
        limit = int(numba.config.NUMBA_NUM_THREADS)
        # Setting numba's count launches its threads (and loads the OpenMP
        # runtime): they are to sleep, not spin, between loops (see _threads).
        with _threads.passive_openmp():
            _threads.on_change(lambda n: numba.set_num_threads(min(n, limit)))
        _numba = numba
    return _numba


def compiled(
    fn: Callable[..., Any],
    *,
    parallel: bool = False,
    reassociate: bool = False,
    contract: bool = False,
) -> Any:
    """`fn` compiled by numba (nopython, cached on disk); `parallel` compiles its
    `prange` loops to run on the threads `set_num_threads` allows; `reassociate`
    lets LLVM reorder its floating-point sums (numba's fastmath flag "reassoc"
    alone), so that reductions vectorize: a sum's last bits then depend on the
    vector width, not on the written order; `contract` lets it fuse a multiply
    and an add into one FMA (the flag "contract" alone: one rounding for two)."""
    key = (fn, parallel, reassociate, contract)
    kernel = _compiled.get(key)
    if kernel is None:
        with _lock:
            kernel = _compiled.get(key)
            if kernel is None:
                numba = _load()
                source = fn
                if parallel or reassociate or contract:
                    scope = {**fn.__globals__, "prange": numba.prange}
                    source = types.FunctionType(
                        fn.__code__,
                        scope if parallel else fn.__globals__,
                        fn.__name__,
                        fn.__defaults__,
                        fn.__closure__,
                    )
                    # numba's disk cache keys an entry by the function's name,
                    # bytecode and argument types, not by these options: without
                    # a name of its own, each variant would load whichever
                    # variant was cached first.
                    suffix = "__parallel" if parallel else ""
                    suffix += "__reassoc" if reassociate else ""
                    suffix += "__contract" if contract else ""
                    source.__qualname__ = fn.__qualname__ + suffix
                kernel = numba.njit(
                    cache=True,
                    parallel=parallel,
                    nogil=True,
                    error_model="numpy",
                    fastmath=_fastmath(reassociate, contract),
                )(source)
                _compiled[key] = kernel
    return kernel


def _fastmath(reassociate: bool, contract: bool) -> set[str] | bool:
    """numba's fastmath argument: the LLVM flags asked for, or False."""
    flags = {"reassoc"} if reassociate else set()
    if contract:
        flags.add("contract")
    return flags or False


def thread_slot() -> int:
    """In a kernel, the number of the thread running it, from 0 to below
    `slots()`: per-thread scratch is a stack of `slots()` slabs, each thread
    using its own. Run as Python this is 0; in a `KernelScope` it is numba's
    `get_thread_id`."""
    return 0


def slots() -> int:
    """How many threads the next kernel launched from this thread may run on
    (numba's count is per launching thread): the slabs per-thread scratch needs.
    It loads numba first when no kernel has yet: numba's count, not 1, is what
    the kernel about to run will use (scratch sized before the first kernel
    loaded numba had one slab, and the second thread wrote past it)."""
    return int(_load().get_num_threads())


def loaded() -> bool:
    """Whether numba has been imported by a compiled kernel."""
    return _numba is not None


class KernelScope:
    """Kernels of one module and the helpers they call, compiled together.

    `helpers` maps each helper function to its `compiled` options. On first use
    the scope copies `namespace` (the module's globals) and puts in it, under
    each helper's name, the helper compiled over that copy: helpers may call
    each other, and a kernel compiled by `compiled(fn, ...)` calls them compiled.
    Run as Python, the same functions call each other as Python. A module that
    imports `thread_slot` gets numba's thread number under that name.
    """

    def __init__(
        self,
        namespace: Mapping[str, Any],
        helpers: Mapping[Callable[..., Any], Mapping[str, bool]],
    ) -> None:
        self._namespace = namespace
        self._helpers = helpers
        self._lock = threading.Lock()
        self._scope: dict[str, Any] | None = None
        self._rebound: dict[Callable[..., Any], Callable[..., Any]] = {}

    def _over(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """fn with the scope as its globals: one object per fn, so that
        `compiled` (which caches by function) compiles it once."""
        rebound = self._rebound.get(fn)
        if rebound is None:
            with self._lock:
                rebound = self._rebound.get(fn)
                if rebound is None:
                    rebound = types.FunctionType(
                        fn.__code__,
                        self._globals(),
                        fn.__name__,
                        fn.__defaults__,
                        fn.__closure__,
                    )
                    self._rebound[fn] = rebound
        return rebound

    def _globals(self) -> dict[str, Any]:
        """The scope, its helpers compiled (under the lock)."""
        if self._scope is None:
            scope = dict(self._namespace)
            if scope.get("thread_slot") is thread_slot:
                scope["thread_slot"] = _load().get_thread_id
            self._scope = scope
            for helper, options in self._helpers.items():
                rebound = types.FunctionType(
                    helper.__code__,
                    scope,
                    helper.__name__,
                    helper.__defaults__,
                    helper.__closure__,
                )
                self._rebound[helper] = rebound
                scope[helper.__name__] = compiled(rebound, **options)
        return self._scope

    def compiled(
        self,
        fn: Callable[..., Any],
        *,
        parallel: bool = False,
        reassociate: bool = False,
        contract: bool = False,
    ) -> Any:
        """`fn` compiled (as `compiled` does, with these options) over the
        scope; a helper as the scope holds it (with its own options)."""
        source = self._over(fn)
        if fn in self._helpers:
            return source.__globals__[fn.__name__]
        return compiled(
            source, parallel=parallel, reassociate=reassociate, contract=contract
        )
