from importlib.metadata import requires, version

import actnet.ndarray
import actnet.tensor


def test_version_matches_the_installed_distribution() -> None:
    assert actnet.tensor.__version__ == version("actnet-tensor")


def test_the_layer_below_is_declared_and_installed() -> None:
    declared = requires("actnet-tensor") or []
    assert any(r.startswith("actnet-ndarray") for r in declared)
    assert actnet.ndarray.__version__ == version("actnet-ndarray")
