from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import actnet.neuron as F
import actnet.tensor as at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_attention_scaled_dot_product_attention import CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if "random" not in c.tags], ids=str)
def test_scaled_dot_product_attention_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]


def test_a_float32_mask_with_a_float64_query_matches_torch() -> None:
    # torch takes a float32 attn_mask with any query; a float64 one with a
    # float32 query it refuses, and so does actnet
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    mask = rng.standard_normal((3, 3)).astype(np.float32)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(mask)
    )
    mine = F.scaled_dot_product_attention(
        *(at.tensor(a) for a in (q, k, v)), attn_mask=at.tensor(mask)
    )
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype"):
        torch.nn.functional.scaled_dot_product_attention(
            *(torch.tensor(a, dtype=torch.float32) for a in (q, k, v)),
            attn_mask=torch.tensor(mask, dtype=torch.float64),
        )
    with pytest.raises(TypeError, match="attn_mask must be bool, float32 or"):
        F.scaled_dot_product_attention(
            *(at.tensor(a, dtype="float32") for a in (q, k, v)),
            attn_mask=at.tensor(mask, dtype="float64"),
        )
