from __future__ import annotations

import pytest
from harness import Case, check, check_float32
from recurrent_oracle import sequence_case

import actnet.neuron as F

CASES = [
    sequence_case("one layer", "lstm", "LSTM", double_backward=True),
    sequence_case(
        "two layers, bidirectional, batch_first",
        "lstm",
        "LSTM",
        num_layers=2,
        bidirectional=True,
        batch_first=True,
    ),
    sequence_case(
        "no biases, two layers, dropout in eval",
        "lstm",
        "LSTM",
        has_biases=False,
        num_layers=2,
        dropout=0.5,
    ),
    sequence_case("bidirectional, one step", "lstm", "LSTM", seq=1, bidirectional=True),
    sequence_case("projections", "lstm", "LSTM", proj_size=2, double_backward=True),
    sequence_case(
        "projections, two layers, bidirectional, no biases",
        "lstm",
        "LSTM",
        proj_size=3,
        num_layers=2,
        bidirectional=True,
        has_biases=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_lstm(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_lstm_float32(case: Case) -> None:
    check_float32(case, F)
