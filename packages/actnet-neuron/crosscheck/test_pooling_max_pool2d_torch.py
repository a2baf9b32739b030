from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_pooling_max_pool2d import CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if "random" not in c.tags], ids=str)
def test_max_pool2d_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]
