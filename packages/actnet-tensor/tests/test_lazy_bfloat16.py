"""bfloat16 loads on first use (actnet.device's `_dtypes`): float32 training does
not import ml_dtypes (0.6 s), and the tables of this layer and actnet.ndarray
take bfloat16 when it loads exactly as if it had been there from the start.

Each test runs in a fresh interpreter: in this one, ml_dtypes is loaded already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


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


def test_float32_training_does_not_load_ml_dtypes() -> None:
    out = _run(
        """
        import sys
        import actnet.tensor as at
        w = at.randn(4, 3, requires_grad=True)
        x = at.randn(5, 4)
        y = at.maximum(x @ w, at.zeros(())).sum() + (at.arange(3) * 0.5).sum()
        y.backward()
        (w > 0).any(), (at.arange(3) == 1).float(), w.grad.mean(), w.type()
        at.as_dtype("float16"), at.tensor([1, 2]) / 2
        print("ml_dtypes" in sys.modules)
        """
    )
    assert out == "False"


# What this layer and actnet.ndarray decide about bfloat16, as dumped JSON.
_TABLES = """
import itertools, json
import numpy as np
import actnet.device as ad
import actnet.ndarray as xp
import actnet.tensor as at
from actnet.tensor._promotion import result_dtype, scalar_dtype
def name(d):
    return str(np.dtype(d))
def promote(f, *args):
    try:
        return name(f(*args))
    except TypeError:
        return None
kinds = ("bool", "signed integer", "unsigned integer", "integral",
         "real floating", "complex floating", "numeric")
bf = at.bfloat16
pairs = list(itertools.product(ad.ALL, repeat=2))
tables = {
    "tensors": [promote(result_dtype, a, b) for a, b in pairs],
    "scalars": [promote(scalar_dtype, d, v) for d in ad.ALL for v in (1, 1.0, 1j)],
    "arrays": [promote(xp.result_type, a, b) for a, b in pairs],
    "kinds": [xp.isdtype(d, k) for d in ad.ALL for k in kinds],
    "finfo": repr(xp.finfo(bf)),
    "type": at.ones(2).bfloat16().type(),
    "sum": repr(xp.sum(xp.ones(3, dtype=bf)).dtype),
    "sort": repr(xp.sort(xp.ones(3, dtype=bf)).dtype),
    "grad": at.ones(2, dtype=bf).requires_grad_().requires_grad,
    "autocast": name(at.get_autocast_dtype("cpu")),
}
with at.autocast("cpu"):
    tables["cast"] = name((at.ones(2, 2) @ at.ones(2, 2)).dtype)
print(json.dumps(tables))
"""


def test_the_tables_take_bfloat16_as_if_it_had_always_been_there() -> None:
    first = _run("import ml_dtypes\n" + _TABLES)
    late = _run(
        "import actnet.tensor as at\n"
        "(at.ones(2) * 2).sum()\n"  # devices and tables in use before it loads
        "import sys\nassert 'ml_dtypes' not in sys.modules\n" + _TABLES
    )
    assert json.loads(late) == json.loads(first)
    assert json.loads(late)["cast"] == "bfloat16"
