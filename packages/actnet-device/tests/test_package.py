import re
from importlib.metadata import requires, version
from pathlib import Path

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


def test_readme_lists_exactly_the_operator_set() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## The operator set (closed)")[1].split("## Random")[0]
    bullets = section.split("\n- ")[1:]
    listed = set()
    for bullet in bullets:
        names = bullet.split(":", 1)[1] if "**" in bullet else ""
        listed |= set(re.findall(r"\b([a-z][a-z0-9_]*)\b", names.split("Each")[0]))
    assert set(actnet.device.OPS) <= listed
