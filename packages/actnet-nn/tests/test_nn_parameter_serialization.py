"""torch.load(weights_only=True)'s allowlist takes Parameters (as PyTorch's
does): actnet.nn registers their pickling's restore function with
actnet.tensor.serialization when imported."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn._parameter import _restore_parameter


def test_parameters_load_under_weights_only() -> None:
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    at.save(
        {"params": list(model.parameters()), "sd": model.state_dict(keep_vars=True)},
        buffer,
    )
    buffer.seek(0)
    loaded = at.load(buffer)  # weights_only=True, the default
    for got, want in zip(loaded["params"], model.parameters(), strict=True):
        assert type(got) is nn.Parameter and got.requires_grad
        np.testing.assert_array_equal(
            np.asarray(got.detach()), np.asarray(want.detach())
        )
    assert type(loaded["sd"]["weight"]) is nn.Parameter


def test_without_the_registration_they_are_refused() -> None:
    buffer = io.BytesIO()
    at.save([nn.Parameter(at.ones(2))], buffer)
    with at.serialization.safe_globals([]):
        at.serialization.clear_safe_globals()
        try:
            buffer.seek(0)
            with pytest.raises(pickle.UnpicklingError, match="_restore_parameter"):
                at.load(buffer)
        finally:
            at.serialization.add_safe_globals([_restore_parameter])
