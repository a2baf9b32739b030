"""Check actnet's layer chain on the source of every package.

    python ci/layering.py packages/

A module under `packages/actnet-<layer>/src/` fails the check when it
- imports an actnet layer above its own,
- imports an actnet layer its package does not declare in `[project] dependencies`,
- imports actnet inside a function (a cycle hidden from the module's top), or
  through `importlib.import_module` / `__import__` with a literal name.
A package also fails when it does not declare the layer directly below it, or
declares one above it.

This is our own AST walk rather than import-linter's layers contract: the contract
sees the upward imports, but not which layers a package *declares*, nor where in a
module an import stands. Tests (`packages/*/tests`) may import any lower layer and
are not checked here.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("mem", "device", "ndarray", "tensor", "neuron", "nn", "util")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def declared_layers(pyproject: Path) -> set[str]:
    """The actnet layers a package's `[project] dependencies` name."""
    with open(pyproject, "rb") as f:
        deps = tomllib.load(f)["project"].get("dependencies", [])
    layers = set()
    for dep in deps:
        match = _NAME.match(dep)
        name = match.group(1).lower().replace("_", "-") if match else ""
        if name.startswith("actnet-"):
            layers.add(name.removeprefix("actnet-"))
    return layers


def _layer_of(module: str) -> str | None:
    """'actnet.device._numpy' -> 'device'; None for modules outside actnet."""
    parts = module.split(".")
    if parts[0] != "actnet":
        return None
    return parts[1] if len(parts) > 1 else ""


def _imported_modules(node: ast.AST, package: str) -> list[str]:
    """The modules `node` imports; `package` is the dotted package of the module
    the node stands in (relative imports are resolved against it)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            module = f"{base}.{node.module}" if node.module else base
        else:
            module = node.module or ""
        if module == "actnet" or not node.module:  # from actnet import device
            return [f"{module}.{alias.name}" for alias in node.names]
        return [module]
    if isinstance(node, ast.Call):
        func = node.func
        dynamic = (isinstance(func, ast.Name) and func.id == "__import__") or (
            isinstance(func, ast.Attribute) and func.attr == "import_module"
        )
        if dynamic and node.args and isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            if isinstance(value, str):
                return [value]
    return []


def _function_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes that stand inside a function or lambda body."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for child in ast.walk(node):
                if child is not node:
                    inside.add(id(child))
    return inside


def check_module(
    path: Path, src: Path, layer: str, declared: set[str]
) -> list[Violation]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(src).parent.parts)
    in_function = _function_nodes(tree)
    own = LAYERS.index(layer)
    found = []
    for node in ast.walk(tree):
        for module in _imported_modules(node, package):
            target = _layer_of(module)
            if target is None:
                continue
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Call):
                found.append(Violation(path, line, f"dynamic import of {module}"))
                continue
            if id(node) in in_function:
                found.append(
                    Violation(path, line, f"function-local import of {module}")
                )
            if target == layer:
                continue
            if target not in LAYERS:
                found.append(Violation(path, line, f"import of unknown layer {module}"))
            elif LAYERS.index(target) > own:
                found.append(
                    Violation(
                        path, line, f"actnet.{layer} imports {module}, a layer above it"
                    )
                )
            elif target not in declared:
                found.append(
                    Violation(
                        path,
                        line,
                        f"actnet.{layer} imports {module}, but actnet-{layer} does "
                        f"not declare actnet-{target}",
                    )
                )
    return found


def check_package(package: Path) -> list[Violation]:
    layer = package.name.removeprefix("actnet-")
    if layer not in LAYERS:
        return [Violation(package, 0, f"unknown layer {layer!r}")]
    pyproject = package / "pyproject.toml"
    declared = declared_layers(pyproject)
    own = LAYERS.index(layer)
    found = []
    for name in sorted(declared):
        if name not in LAYERS or LAYERS.index(name) >= own:
            found.append(
                Violation(
                    pyproject,
                    0,
                    f"actnet-{layer} declares actnet-{name}, "
                    f"which is not a layer below it",
                )
            )
    if own > 0 and LAYERS[own - 1] not in declared:
        found.append(
            Violation(
                pyproject,
                0,
                f"actnet-{layer} must declare the layer below it, "
                f"actnet-{LAYERS[own - 1]}",
            )
        )
    for path in sorted((package / "src").rglob("*.py")):
        found += check_module(path, package / "src", layer, declared)
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python ci/layering.py PACKAGES_DIR", file=sys.stderr)
        return 2
    packages = sorted(Path(argv[0]).glob("actnet-*"))
    if not packages:
        print(f"no actnet-* packages under {argv[0]}", file=sys.stderr)
        return 2
    violations = [v for p in packages for v in check_package(p)]
    for v in violations:
        print(v)
    checked = sum(1 for p in packages for _ in (p / "src").rglob("*.py"))
    print(
        f"layering: {len(packages)} packages, {checked} modules, "
        f"{len(violations)} violation(s)"
    )
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
