"""actnet.nn.functional is torch.nn.functional's path to actnet.neuron's functions."""

from __future__ import annotations

import actnet.nn.functional as F
from actnet import neuron, nn


def test_every_neuron_function_under_the_torch_path_is_the_same_object() -> None:
    names = [n for n in neuron.__all__ if n != "__version__"]
    assert sorted(F.__all__) == sorted(names)
    for name in names:
        assert getattr(F, name) is getattr(neuron, name), name


def test_reachable_after_import_actnet_nn() -> None:
    assert nn.functional is F
