from importlib.metadata import requires, version

import actnet.neuron
import actnet.nn


def test_version_matches_the_installed_distribution() -> None:
    assert actnet.nn.__version__ == version("actnet-nn")


def test_the_layer_below_is_declared_and_installed() -> None:
    declared = requires("actnet-nn") or []
    assert any(r.startswith("actnet-neuron") for r in declared)
    assert actnet.neuron.__version__ == version("actnet-neuron")
