from importlib.metadata import requires, version

import actnet.device
import actnet.mem


def test_version_matches_the_installed_distribution() -> None:
    assert actnet.device.__version__ == version("actnet-device")


def test_the_layer_below_is_declared_and_installed() -> None:
    declared = requires("actnet-device") or []
    assert any(r.startswith("actnet-mem") for r in declared)
    assert actnet.mem.__version__ == version("actnet-mem")


def test_cupy_is_an_extra_not_a_dependency() -> None:
    declared = requires("actnet-device") or []
    cupy = [r for r in declared if r.startswith("cupy")]
    assert cupy and all("extra == " in r for r in cupy)
