from importlib.metadata import requires, version

import actnet.neuron
import actnet.tensor


def test_version_matches_the_installed_distribution() -> None:
    assert actnet.neuron.__version__ == version("actnet-neuron")


def test_the_layer_below_is_declared_and_installed() -> None:
    declared = requires("actnet-neuron") or []
    assert any(r.startswith("actnet-tensor") for r in declared)
    assert actnet.tensor.__version__ == version("actnet-tensor")
