from __future__ import annotations

import pytest
from harness import Case, check, check_float32
from recurrent_oracle import sequence_case

import actnet.neuron as F

CASES = [
    sequence_case("one layer", "gru", "GRU", double_backward=True),
    sequence_case(
        "two layers, bidirectional, batch_first",
        "gru",
        "GRU",
        num_layers=2,
        bidirectional=True,
        batch_first=True,
    ),
    sequence_case(
        "no biases, two layers, dropout in eval",
        "gru",
        "GRU",
        has_biases=False,
        num_layers=2,
        dropout=0.5,
    ),
    sequence_case("bidirectional, one step", "gru", "GRU", seq=1, bidirectional=True),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gru(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gru_float32(case: Case) -> None:
    check_float32(case, F)
