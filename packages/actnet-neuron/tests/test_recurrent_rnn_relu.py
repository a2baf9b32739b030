from __future__ import annotations

import pytest
from harness import Case, check, check_float32
from recurrent_oracle import sequence_case

import actnet.neuron as F

CASES = [
    sequence_case("one layer", "rnn_relu", "RNN_RELU", double_backward=True),
    sequence_case(
        "two layers, bidirectional, batch_first",
        "rnn_relu",
        "RNN_RELU",
        num_layers=2,
        bidirectional=True,
        batch_first=True,
    ),
    sequence_case(
        "no biases, two layers, dropout in eval",
        "rnn_relu",
        "RNN_RELU",
        has_biases=False,
        num_layers=2,
        dropout=0.5,
    ),
    sequence_case(
        "bidirectional, one step", "rnn_relu", "RNN_RELU", seq=1, bidirectional=True
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rnn_relu(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rnn_relu_float32(case: Case) -> None:
    check_float32(case, F)
