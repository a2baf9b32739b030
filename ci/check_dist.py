"""Check the built distributions of actnet's packages.

    python ci/check_dist.py DIST_DIR LAYER [LAYER ...]

For each layer: exactly one wheel and one sdist, named with the version in its
`_version.py`; the wheel holds `actnet/<layer>/py.typed` and no `actnet/__init__.py`
(the namespace is shared, PEP 420), and nothing outside `actnet/<layer>/` and its
dist-info.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def version_of(layer: str) -> str:
    text = (
        ROOT / "packages" / f"actnet-{layer}" / "src" / "actnet" / layer / "_version.py"
    )
    match = re.search(r'__version__ = "([^"]+)"', text.read_text())
    if match is None:
        raise SystemExit(f"no __version__ in {text}")
    return match.group(1)


def check_layer(dist: Path, layer: str) -> list[str]:
    version = version_of(layer)
    stem = f"actnet_{layer}-{version}"
    problems = []
    wheels = list(dist.glob(f"actnet_{layer}-*.whl"))
    sdists = list(dist.glob(f"actnet_{layer}-*.tar.gz"))
    if [w.name for w in wheels] != [f"{stem}-py3-none-any.whl"]:
        problems.append(
            f"actnet-{layer}: expected one wheel {stem}-py3-none-any.whl, "
            f"found {[w.name for w in wheels]}"
        )
    if [s.name for s in sdists] != [f"{stem}.tar.gz"]:
        problems.append(
            f"actnet-{layer}: expected one sdist {stem}.tar.gz, "
            f"found {[s.name for s in sdists]}"
        )
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        if "actnet/__init__.py" in names:
            problems.append(f"{wheel.name} holds actnet/__init__.py")
        if f"actnet/{layer}/py.typed" not in names:
            problems.append(f"{wheel.name} lacks actnet/{layer}/py.typed")
        if f"actnet/{layer}/__init__.py" not in names:
            problems.append(f"{wheel.name} lacks actnet/{layer}/__init__.py")
        strays = [
            n
            for n in names
            if not n.startswith((f"actnet/{layer}/", f"{stem}.dist-info/"))
        ]
        if strays:
            problems.append(
                f"{wheel.name} holds files outside actnet/{layer}/: {strays}"
            )
    for sdist in sdists:
        with tarfile.open(sdist) as tar:
            names = tar.getnames()
        if f"{stem}/src/actnet/__init__.py" in names:
            problems.append(f"{sdist.name} holds src/actnet/__init__.py")
        if f"{stem}/src/actnet/{layer}/py.typed" not in names:
            problems.append(f"{sdist.name} lacks src/actnet/{layer}/py.typed")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(
            "usage: python ci/check_dist.py DIST_DIR LAYER [LAYER ...]", file=sys.stderr
        )
        return 2
    dist = Path(argv[0])
    problems = [p for layer in argv[1:] for p in check_layer(dist, layer)]
    for p in problems:
        print(p)
    print(f"check_dist: {len(argv) - 1} packages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
