from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_conv_conv1d import CASES

# PyTorch warns (once) that 'same' with an even kernel pads a copy: so do we.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if "random" not in c.tags], ids=str)
def test_conv1d_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]
