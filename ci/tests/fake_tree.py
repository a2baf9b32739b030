"""Small fake package trees for the layering check's tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import layering

CI = Path(__file__).resolve().parent.parent

# Each layer with the declarations that make it pass the chain rules.
DEPENDENCIES = {
    layer: [f"actnet-{layering.LAYERS[i - 1]}>=0.1"] if i else []
    for i, layer in enumerate(layering.LAYERS)
}


def make_package(
    root: Path, layer: str, deps: list[str], modules: dict[str, str]
) -> Path:
    """packages/actnet-<layer> under `root`; `modules` maps a path relative to
    src/actnet/<layer>/ (subfolders allowed) to its source."""
    package = root / f"actnet-{layer}"
    (package / "src" / "actnet" / layer).mkdir(parents=True)
    quoted = ", ".join(f'"{d}"' for d in deps)
    (package / "pyproject.toml").write_text(
        f'[project]\nname = "actnet-{layer}"\ndependencies = [{quoted}]\n'
    )
    for name, source in modules.items():
        path = package / "src" / "actnet" / layer / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return package


def make_layer(root: Path, layer: str, modules: dict[str, str]) -> Path:
    """A package that declares exactly the layer below it."""
    return make_package(root, layer, DEPENDENCIES[layer], modules)


def messages(package: Path) -> list[str]:
    """What the one-package rules say about `package`."""
    return [v.message for v in layering.check_package(package)]


def tree_messages(root: Path) -> list[str]:
    """What all rules, the cross-package ones too, say about the tree at `root`."""
    packages = [layering.load_package(p) for p in sorted(root.glob("actnet-*"))]
    return [v.message for v in layering.check_tree(packages)]


def run_script(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CI / "layering.py"), str(root), *options],
        check=False,
        capture_output=True,
        text=True,
    )
