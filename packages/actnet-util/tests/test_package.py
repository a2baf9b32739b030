from importlib.metadata import requires, version

import actnet.nn
import actnet.util


def test_version_matches_the_installed_distribution() -> None:
    assert actnet.util.__version__ == version("actnet-util")


def test_the_layer_below_is_declared_and_installed() -> None:
    declared = requires("actnet-util") or []
    assert any(r.startswith("actnet-nn") for r in declared)
    assert actnet.nn.__version__ == version("actnet-nn")
