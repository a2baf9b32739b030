"""One side of a benchmark in a process of its own, with no PyTorch loaded.

Why: PyTorch and numba (actnet's compiled kernels) use the same GNU OpenMP runtime
(libgomp.so.1). Whichever library loads it first fixes how its idle threads wait;
loaded by PyTorch, they spin about 3 ms after every parallel loop (GOMP_SPINCOUNT's
default), where actnet makes them sleep after a short spin. In one process with
torch, each compiled actnet kernel then leaves a thread spinning on one of the two
cores while the next matmul wants both: the GPT step took 490-550 ms with torch
imported against 320-340 ms without (same machine, same minute). A user of
actnet has no torch in the process, so the step rows run actnet here, in a child
process, alternating with the peer in the parent: the same run, the same
machine, each library as its users meet it.

The parent::

    with Isolated("gpt_actnet", "steps", {"state": path}) as side:
        ours = side.step("eager")     # a callable for bench_device.interleaved
        loss = ours()                 # one call, run in the child
        seconds = ours.timed(inner=1) # measured in the child, after a warm-up
        plan = side.info("memory_plan")

The child (`python isolated.py MODULE FUNCTION ARGS_JSON`) imports MODULE, calls
FUNCTION(ARGS) for a `Steps`: named callables and named facts, and answers one
JSON request per line on stdin.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

HERE = Path(__file__).resolve().parent


class Steps:
    """What a child serves: `calls` by name (each returns a JSON value) and
    `facts` by name (functions of nothing, asked for after the calls)."""

    def __init__(
        self,
        calls: dict[str, Callable[[], Any]],
        facts: dict[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.calls = calls
        self.facts = facts or {}


class Remote:
    """A call served by the child: `remote()` runs it once there and returns its
    value; `remote.timed(inner)` runs it `inner` times as a warm-up, then `inner`
    times timed, and returns the seconds per call measured in the child."""

    def __init__(self, side: Isolated, name: str) -> None:
        self._side = side
        self.name = name

    def __call__(self) -> Any:
        return self._side.request({"op": "call", "name": self.name})

    def timed(self, inner: int) -> float:
        seconds: float = self._side.request(
            {"op": "time", "name": self.name, "inner": inner}
        )
        return seconds


class Isolated:
    """The child process (see the module docstring); a context manager that
    ends it."""

    def __init__(self, module: str, function: str, args: dict[str, Any]) -> None:
        self._child = subprocess.Popen(
            [sys.executable, str(HERE / "isolated.py"), module, function,
             json.dumps(args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE,
        )  # fmt: skip
        ready = self._read()
        if ready != "ready":
            raise RuntimeError(f"isolated {module}.{function}: child said {ready!r}")

    def _read(self) -> Any:
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            code = self._child.wait()
            raise RuntimeError(f"isolated child ended (exit status {code})")
        return json.loads(line)

    def request(self, message: dict[str, Any]) -> Any:
        assert self._child.stdin is not None
        self._child.stdin.write(json.dumps(message) + "\n")
        self._child.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"isolated child: {reply['error']}")
        return reply["value"]

    def step(self, name: str) -> Remote:
        return Remote(self, name)

    def info(self, name: str) -> Any:
        return self.request({"op": "fact", "name": name})

    def close(self) -> None:
        if self._child.poll() is None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            self._child.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _serve(module: str, function: str, args: dict[str, Any]) -> None:
    sys.path.insert(0, str(HERE))
    # benchutil first: it sets the thread counts before NumPy loads.
    importlib.import_module("benchutil")
    steps: Steps = getattr(importlib.import_module(module), function)(args)
    if "torch" in sys.modules:
        raise RuntimeError(f"{module} imported torch: the side is not isolated")
    out = sys.stdout
    sys.stdout = sys.stderr  # stdout is the protocol's: a print goes to stderr
    out.write(json.dumps("ready") + "\n")
    out.flush()
    for line in sys.stdin:
        message = json.loads(line)
        try:
            op = message["op"]
            if op == "fact":
                value = steps.facts[message["name"]]()
            elif op == "call":
                value = steps.calls[message["name"]]()
            else:
                fn, inner = steps.calls[message["name"]], int(message["inner"])
                for _ in range(inner):
                    fn()
                start = time.perf_counter()
                for _ in range(inner):
                    fn()
                value = (time.perf_counter() - start) / inner
            reply = {"value": value}
        except Exception as exc:  # noqa: BLE001  # reported to the parent, which raises
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
