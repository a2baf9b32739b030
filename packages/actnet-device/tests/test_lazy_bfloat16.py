"""bfloat16 loads on first use (`_dtypes`): `import actnet.device` and float32
work do not import ml_dtypes (0.6 s); asking for bfloat16 in any way does, and
then every table takes it exactly as if it had been there from the start.

Each test runs in a fresh interpreter: in this one, ml_dtypes is loaded already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import actnet.device
from actnet.device import is_bfloat16, on_bfloat16


def _run(code: str) -> str:
    """Run `code` in a fresh interpreter; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    return done.stdout.strip()


def test_float32_work_does_not_load_ml_dtypes() -> None:
    out = _run(
        """
        import sys
        import numpy as np
        import actnet.device as ad
        print("ml_dtypes" in sys.modules)
        for name in ("cpu", "reference"):
            dev = ad.get_device(name)
            x = dev.from_host(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
            y = dev.sum(dev.matmul(x, x.swapaxes(0, 1)), (0,))
            dev.cumulative_sum(dev.gelu(dev.add(x, 1.5)), 1)
            dev.softmax(x, 1)
            ad.Generator(0).normal((5,), ad.float32, device=dev)
            dev.to_host(y)
        ad.as_dtype("float32"), ad.is_bfloat16(ad.float32)
        print("ml_dtypes" in sys.modules)
        """
    )
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(
    "ask",
    [
        "ad.bfloat16",
        "ad.ALL",
        "ad.as_dtype('bfloat16')",
        "ad.get_device('cpu').dtypes",
        "ad.get_device('no_float64')",
        "import ml_dtypes; ad.as_dtype(ml_dtypes.bfloat16)",
        "import ml_dtypes; ad.is_bfloat16(np.dtype(ml_dtypes.bfloat16))",
        "import ml_dtypes; cpu.from_host(np.ones(2, ml_dtypes.bfloat16))",
    ],
)
def test_each_way_of_asking_for_bfloat16_loads_it(ask: str) -> None:
    out = _run(
        f"""
        import sys
        import numpy as np
        import actnet.device as ad
        cpu = ad.get_device("cpu")
        print("ml_dtypes" in sys.modules)
        {ask}
        print("ml_dtypes" in sys.modules, ad.bfloat16 in cpu.dtypes)
        """
    )
    assert out.split() == ["False", "True", "True"]


# Every table that takes bfloat16, as a test can read it: the operator set, the
# cpu device's own elementwise tables, the random and norm constants.
_TABLES = """
import json
import numpy as np
from actnet.device import _norms, _random
def name(d):
    return str(np.dtype(d))
cpu = ad.get_device("cpu")
x = cpu.from_host(np.ones(3, ad.bfloat16))
tables = {
    "ops": {op: sorted([name(a), name(r)] for a, r in spec.dtypes.items())
            for op, spec in ad.OPS.items()},
    "unary": {op: sorted([name(a), name(r)] for a, r in t[0].items())
              for op, t in cpu._unary_ops.items()},
    "binary": {op: sorted([name(a), name(r)] for a, r in t[0].items())
               for op, t in cpu._binary_ops.items()},
    "cpu": sorted(name(d) for d in cpu.dtypes),
    "significand": sorted((name(d), b) for d, b in _random._SIGNIFICAND.items()),
    "eps": sorted((name(d), e) for d, e in _norms._MACHINE_EPS.items()),
    "all": [name(d) for d in ad.ALL],
    "sum": str(cpu.to_host(cpu.sum(x, (0,)))),
}
print(json.dumps(tables))
"""


def test_the_tables_take_bfloat16_as_if_it_had_always_been_there() -> None:
    first = _run("import ml_dtypes\nimport actnet.device as ad\n" + _TABLES)
    late = _run(
        "import numpy as np\nimport actnet.device as ad\n"
        "cpu = ad.get_device('cpu')\n"  # made before bfloat16 loads
        "cpu.add(cpu.from_host(np.ones(2)), 1.0)\n" + _TABLES
    )
    assert json.loads(late) == json.loads(first)
    assert ["bfloat16", "bfloat16"] in json.loads(late)["ops"]["add"]


def test_is_bfloat16() -> None:
    assert is_bfloat16(actnet.device.bfloat16)
    for dtype in (actnet.device.float32, actnet.device.float16, np.dtype("V2")):
        assert not is_bfloat16(dtype)


def test_a_completion_given_after_bfloat16_loaded_runs_at_once() -> None:
    seen: list[np.dtype[object]] = []
    on_bfloat16(seen.append)
    assert seen == [actnet.device.bfloat16]


def test_as_dtype_refusals_name_bfloat16_among_the_dtypes() -> None:
    with pytest.raises(TypeError, match=r"complex256 is not a device data type.*"
                       r"bfloat16"):  # fmt: skip
        actnet.device.as_dtype(np.dtype("complex256"))
    with pytest.raises(TypeError, match="must be a data type"):
        actnet.device.as_dtype("bfloat17")
