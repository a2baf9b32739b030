from importlib.metadata import requires, version

import actnet.device
import actnet.ndarray


def test_version_matches_the_installed_distribution() -> None:
    assert actnet.ndarray.__version__ == version("actnet-ndarray")


def test_the_layer_below_is_declared_and_installed() -> None:
    declared = requires("actnet-ndarray") or []
    assert any(r.startswith("actnet-device") for r in declared)
    assert actnet.device.__version__ == version("actnet-device")
