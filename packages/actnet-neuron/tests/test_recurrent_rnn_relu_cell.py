from __future__ import annotations

import pytest
from harness import Case, check, check_float32
from recurrent_oracle import cell_case

import actnet.neuron as F

CASES = [
    cell_case("batched", "rnn_relu_cell", "RNN_RELU", double_backward=True),
    cell_case("no biases", "rnn_relu_cell", "RNN_RELU", has_biases=False),
]
# torch's cell functions take a batch only; actnet's also take one sample
UNBATCHED = [cell_case("unbatched", "rnn_relu_cell", "RNN_RELU", batch=())]


@pytest.mark.parametrize("case", CASES + UNBATCHED, ids=str)
def test_rnn_relu_cell(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rnn_relu_cell_float32(case: Case) -> None:
    check_float32(case, F)
