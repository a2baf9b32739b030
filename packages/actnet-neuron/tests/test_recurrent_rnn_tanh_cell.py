from __future__ import annotations

import pytest
from harness import Case, check, check_float32
from recurrent_oracle import cell_case

import actnet.neuron as F

CASES = [
    cell_case("batched", "rnn_tanh_cell", "RNN_TANH", double_backward=True),
    cell_case("no biases", "rnn_tanh_cell", "RNN_TANH", has_biases=False),
]
# torch's cell functions take a batch only; actnet's also take one sample
UNBATCHED = [cell_case("unbatched", "rnn_tanh_cell", "RNN_TANH", batch=())]


@pytest.mark.parametrize("case", CASES + UNBATCHED, ids=str)
def test_rnn_tanh_cell(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rnn_tanh_cell_float32(case: Case) -> None:
    check_float32(case, F)
