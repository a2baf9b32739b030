from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_loss_kl_div import CASES


# PyTorch warns that its 'mean' will become 'batchmean'; the case checks today's.
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_kl_div_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]
