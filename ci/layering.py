"""Check actnet's layer chain and each layer's contract on every package's source.

    python ci/layering.py packages/ [--report-ambiguous]

The layer chain. A module under `packages/actnet-<layer>/src/` fails the check when it
- imports an actnet layer above its own,
- imports an actnet layer its package does not declare in `[project] dependencies`,
- imports actnet inside a function (a cycle hidden from the module's top), or
  through `importlib.import_module` / `__import__` with a literal name.
A package also fails when it does not declare the layer directly below it, or
declares one above it.

One contract per layer. A module also fails when it
- reads or writes `expr._name`, where `_name` is a private attribute that another
  actnet package defines and its own package does not (defines: a name in a class's
  `__slots__`, a `def _name` / `class _Name`, a class-level `_name = ...` or
  `_name: T`, or `self._name = ...` / `cls._name = ...` in a method),
- imports another package's private module (`actnet.device._buffer`) or private
  name (`from actnet.device import _x`).
A name that both packages define cannot be told apart by name: such uses pass, and
`--report-ambiguous` lists them for a human to review (all but `self._x` in a
class that defines `_x` itself).

One-way modules. Inside a package,
- the module-level imports between the package's own modules form no cycle,
- no import stands after a function or class definition (a hidden cycle);
  imports under `if TYPE_CHECKING:` do not run and count for neither,
- no code assigns to an attribute of one of the package's classes outside that
  class's body (`Tensor.__add__ = add`: patching a class after its definition).

Small modules. A source module holds at most 600 lines of code: lines holding a
token other than a comment, so blank and comment-only lines are not counted and
docstrings are. The median module size is printed for information.

This is our own AST walk rather than import-linter's layers contract: the contract
sees the upward imports, but not which layers a package *declares*, nor where in a
module an import stands. Tests (`packages/*/tests`) may import any lower layer and
are not checked here.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import statistics
import sys
import tokenize
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("mem", "device", "ndarray", "tensor", "neuron", "nn", "util")
MAX_LINES_OF_CODE = 600
# Enough to show a tangle; a package with more cycles than this needs a redesign,
# not a longer list.
MAX_CYCLES_PER_PACKAGE = 30
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_FUNCTION = ast.FunctionDef | ast.AsyncFunctionDef
_DEFINITION = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_IMPORT = ast.Import | ast.ImportFrom


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Module:
    """One parsed source file of a package."""

    path: Path
    name: str  # dotted: actnet.tensor._ops; an __init__.py is its package
    package: str  # the dotted package its relative imports resolve against
    source: str
    tree: ast.Module
    size: int  # lines of code


@dataclass(frozen=True)
class Package:
    root: Path  # packages/actnet-<layer>
    layer: str
    modules: list[Module]


# --- Loading -------------------------------------------------------------------------


def load_module(path: Path, src: Path) -> Module:
    source = path.read_text()
    package = ".".join(path.relative_to(src).parent.parts)
    name = package if path.name == "__init__.py" else f"{package}.{path.stem}"
    tree = ast.parse(source, filename=str(path))
    return Module(path, name, package, source, tree, lines_of_code(source))


def load_package(root: Path) -> Package:
    src = root / "src"
    modules = [load_module(path, src) for path in sorted(src.rglob("*.py"))]
    return Package(root, root.name.removeprefix("actnet-"), modules)


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


# --- Shared AST helpers --------------------------------------------------------------


def is_private(name: str) -> bool:
    """`_name` is private; `__name__` (a dunder) and `__name` (mangled) are not ours."""
    return name.startswith("_") and not name.startswith("__")


def _layer_of(module: str) -> str | None:
    """'actnet.device._numpy' -> 'device'; None for modules outside actnet."""
    parts = module.split(".")
    if parts[0] != "actnet":
        return None
    return parts[1] if len(parts) > 1 else ""


def _from_module(node: ast.ImportFrom, package: str) -> str:
    """The dotted module a `from ... import` reads from, relative levels resolved."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _imported_modules(node: ast.AST, package: str) -> list[str]:
    """The modules `node` imports; `package` is the dotted package of the module
    the node stands in (relative imports are resolved against it)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        module = _from_module(node, package)
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
    for node in ast.walk(tree):  # outer functions first: skip the nested ones
        function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if function and id(node) not in inside:
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    return inside


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` (its `else:` does run)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                inside.update(id(child) for child in ast.walk(statement))
    return inside


def run_at_import(node: ast.AST) -> Iterator[ast.stmt]:
    """The statements under `node` that run when the module is imported, in source
    order: class bodies and if/try/with/for blocks are entered, functions are not."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            yield child
            if not isinstance(child, _FUNCTION):
                yield from run_at_import(child)
        elif isinstance(child, ast.excepthandler | ast.match_case):
            yield from run_at_import(child)


# --- Rule: the layer chain -----------------------------------------------------------


def check_declarations(
    package: Path, layer: str, declared: set[str]
) -> list[Violation]:
    pyproject = package / "pyproject.toml"
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
    return found


def check_module(module: Module, layer: str, declared: set[str]) -> list[Violation]:
    """Upward, undeclared, function-local and dynamic imports of actnet."""
    path = module.path
    in_function = _function_nodes(module.tree)
    own = LAYERS.index(layer)
    found = []
    for node in ast.walk(module.tree):
        for imported in _imported_modules(node, module.package):
            target = _layer_of(imported)
            if target is None:
                continue
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Call):
                found.append(Violation(path, line, f"dynamic import of {imported}"))
                continue
            if id(node) in in_function:
                found.append(
                    Violation(path, line, f"function-local import of {imported}")
                )
            if target == layer:
                continue
            if target not in LAYERS:
                found.append(
                    Violation(path, line, f"import of unknown layer {imported}")
                )
            elif LAYERS.index(target) > own:
                found.append(
                    Violation(
                        path,
                        line,
                        f"actnet.{layer} imports {imported}, a layer above it",
                    )
                )
            elif target not in declared:
                found.append(
                    Violation(
                        path,
                        line,
                        f"actnet.{layer} imports {imported}, but actnet-{layer} does "
                        f"not declare actnet-{target}",
                    )
                )
    return found


# --- Rule: another package's private modules, names and attributes -------------------


def _private_imports(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """What `node` imports that is private to another package, as messages."""
    own = _layer_of(package)
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
        names: list[str] = []
    else:
        modules = [_from_module(node, package)]
        names = [alias.name for alias in node.names]
    found = []
    for module in modules:
        target = _layer_of(module)
        if target in (None, "", own):
            continue
        if any(is_private(part) for part in module.split(".")[2:]):
            found.append(
                f"imports {module}, a private module of actnet-{target}: "
                f"use the {target} layer's public interface"
            )
        else:
            found += [
                f"imports {name} from {module}, private to actnet-{target}: "
                f"use the {target} layer's public interface"
                for name in names
                if is_private(name)
            ]
    return found


def check_private_imports(module: Module) -> list[Violation]:
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, _IMPORT):
            for message in _private_imports(node, module.package):
                found.append(Violation(module.path, node.lineno, message))
    return found


def _receiver(node: ast.expr) -> str | None:
    """'self' for `self._x`; None when the attribute is read off an expression."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id
    return None


def _assignment(node: ast.AST) -> tuple[list[ast.expr], ast.expr | None]:
    """The targets and the value of an assignment or `del`; ([], None) otherwise."""
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return [node.target], node.value
    if isinstance(node, ast.Delete):
        return node.targets, None
    return [], None


def _slot_names(value: ast.expr) -> list[str]:
    """The names a `__slots__` value lists: a string, tuple, list, set or dict."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    elements: list[ast.expr | None] = []
    if isinstance(value, ast.Tuple | ast.List | ast.Set):
        elements = list(value.elts)
    elif isinstance(value, ast.Dict):
        elements = list(value.keys)
    return [
        e.value
        for e in elements
        if isinstance(e, ast.Constant) and isinstance(e.value, str)
    ]


def _class_body_names(cls: ast.ClassDef) -> set[str]:
    """Names a class body binds: `__slots__` entries and class-level assignments."""
    names: set[str] = set()
    for statement in cls.body:
        targets, value = _assignment(statement)
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            names.add(target.id)
            if target.id == "__slots__" and value is not None:
                names.update(_slot_names(value))
    return names


def _set_on_self(node: ast.AST) -> str | None:
    """The attribute `node` sets on `self` or `cls`: `self._x = ...`,
    `setattr(self, "_x", ...)` or `object.__setattr__(self, "_x", ...)`."""
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
        return node.attr if _receiver(node) in ("self", "cls") else None
    if not isinstance(node, ast.Call) or len(node.args) < 2:
        return None
    func, (obj, key) = node.func, node.args[:2]
    setter = (isinstance(func, ast.Name) and func.id == "setattr") or (
        isinstance(func, ast.Attribute) and func.attr == "__setattr__"
    )
    on_self = isinstance(obj, ast.Name) and obj.id in ("self", "cls")
    if setter and on_self and isinstance(key, ast.Constant):
        return str(key.value)
    return None


def _method_attributes(cls: ast.ClassDef) -> set[str]:
    """The attributes a class's methods set on `self` or `cls`."""
    names: set[str] = set()
    for method in cls.body:
        if not isinstance(method, _FUNCTION):
            continue
        for node in ast.walk(method):
            name = _set_on_self(node)
            if name is not None:
                names.add(name)
    return names


def defined_private_names(package: Package) -> set[str]:
    """The private attribute names a package defines (see the module docstring)."""
    names: set[str] = set()
    for module in package.modules:
        for node in ast.walk(module.tree):
            if isinstance(node, _DEFINITION):
                names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= _class_body_names(node) | _method_attributes(node)
    return {name for name in names if is_private(name)}


@dataclass(frozen=True)
class PrivateUse:
    module: Module
    layer: str  # the package the use stands in
    node: ast.Attribute
    owners: list[str]  # the other packages that define the name
    ambiguous: bool  # the using package defines the name too


def private_uses(packages: list[Package]) -> list[PrivateUse]:
    """Every `expr._name` whose name another package defines."""
    defined = {p.layer: defined_private_names(p) for p in packages}
    uses = []
    for package in packages:
        others = [p.layer for p in packages if p.layer != package.layer]
        for module in package.modules:
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Attribute) or not is_private(node.attr):
                    continue
                owners = [layer for layer in others if node.attr in defined[layer]]
                if owners:
                    ambiguous = node.attr in defined[package.layer]
                    use = PrivateUse(module, package.layer, node, owners, ambiguous)
                    uses.append(use)
    return uses


def check_private_access(packages: list[Package]) -> list[Violation]:
    found = []
    for use in private_uses(packages):
        if use.ambiguous:
            continue  # see report_ambiguous
        owners = ", ".join(f"actnet-{layer}" for layer in use.owners)
        layers = " / ".join(use.owners)
        found.append(
            Violation(
                use.module.path,
                use.node.lineno,
                f".{use.node.attr} is private to {owners} "
                f"(defined there, not in actnet-{use.layer}): use the {layers} "
                f"layer's public interface",
            )
        )
    return found


def _own_class_uses(module: Module) -> set[int]:
    """ids of the `self._x` / `cls._x` in a class's methods where the class itself
    defines `_x`: those are certainly the class's own attribute."""
    own: set[int] = set()
    for cls in ast.walk(module.tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        names = _class_body_names(cls) | _method_attributes(cls)
        names |= {node.name for node in cls.body if isinstance(node, _DEFINITION)}
        for method in cls.body:
            if not isinstance(method, _FUNCTION):
                continue
            own |= {
                id(node)
                for node in ast.walk(method)
                if isinstance(node, ast.Attribute)
                and _receiver(node) in ("self", "cls")
                and node.attr in names
            }
    return own


def report_ambiguous(packages: list[Package]) -> list[str]:
    """Uses of a private name that the using package and another package both
    define, where a name-based check cannot tell whose attribute they read (a
    class's `self._x` for an `_x` that class defines is its own, and not listed)."""
    own = {m.path: _own_class_uses(m) for p in packages for m in p.modules}
    lines = []
    for use in private_uses(packages):
        if not use.ambiguous or id(use.node) in own[use.module.path]:
            continue
        owners = ", ".join(f"actnet-{layer}" for layer in use.owners)
        lines.append(
            f"{use.module.path}:{use.node.lineno}: ambiguous "
            f"{ast.unparse(use.node)}: {use.node.attr} is defined by "
            f"actnet-{use.layer} and by {owners}"
        )
    return lines


# --- Rule: one-way modules inside a package ------------------------------------------


def _known_target(module: str, known: set[str]) -> str | None:
    """`module`, or the deepest package above it that is one of `known`."""
    parts = module.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def _import_targets(
    node: ast.Import | ast.ImportFrom, module: Module, known: set[str]
) -> set[str]:
    """The package's own modules that running `node` in `module` executes."""
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    else:
        base = _from_module(node, module.package)
        named = [
            f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
            for a in node.names
        ]
    targets = set()
    for name in named:
        target = _known_target(name, known)
        if target is None:
            continue
        targets.add(target)
        # Importing a.b.c first runs a.b; the packages that hold `module` itself
        # are already running, so they add no edge.
        parent = _known_target(target.rpartition(".")[0], known)
        while parent is not None:
            if not f"{module.name}.".startswith(f"{parent}."):
                targets.add(parent)
            parent = _known_target(parent.rpartition(".")[0], known)
    return targets - {module.name}


def import_graph(package: Package) -> dict[str, dict[str, int]]:
    """module -> {own module it imports at module level: line of the import}."""
    known = {m.name for m in package.modules}
    graph: dict[str, dict[str, int]] = {m.name: {} for m in package.modules}
    for module in package.modules:
        type_only = _type_checking_nodes(module.tree)
        for statement in run_at_import(module.tree):
            if not isinstance(statement, _IMPORT) or id(statement) in type_only:
                continue
            for target in _import_targets(statement, module, known):
                graph[module.name].setdefault(target, statement.lineno)
    return graph


def _reaching(start: str, graph: dict[str, dict[str, int]]) -> set[str]:
    """The modules from which an import path leads to `start`."""
    found = {start}
    todo = [start]
    while todo:
        target = todo.pop()
        for module, imports in graph.items():
            if target in imports and module not in found:
                found.add(module)
                todo.append(module)
    return found


def _cycles_from(
    start: str, graph: dict[str, dict[str, int]], limit: int
) -> list[list[str]]:
    """Up to `limit` simple cycles whose smallest module is `start`, so that each
    cycle is found once, from one place."""
    back = _reaching(start, graph)  # a path that leaves these never closes
    cycles: list[list[str]] = []
    stack = [[start]]
    while stack and len(cycles) < limit:
        path = stack.pop()
        for target in sorted(graph[path[-1]], reverse=True):
            if target == start:
                cycles.append([*path, start])
            elif target > start and target in back and target not in path:
                stack.append([*path, target])
    return sorted(cycles[:limit])


def import_cycles(graph: dict[str, dict[str, int]], limit: int) -> list[list[str]]:
    """Up to `limit` simple cycles, each once, as [a, b, ..., a] from its smallest
    module."""
    cycles: list[list[str]] = []
    for start in sorted(graph):
        cycles += _cycles_from(start, graph, limit - len(cycles))
    return cycles


def check_cycles(package: Package) -> list[Violation]:
    graph = import_graph(package)
    paths = {m.name: m.path for m in package.modules}
    cycles = import_cycles(graph, MAX_CYCLES_PER_PACKAGE + 1)
    found = [
        Violation(
            paths[cycle[0]],
            graph[cycle[0]][cycle[1]],
            "import cycle: " + " -> ".join(cycle),
        )
        for cycle in cycles[:MAX_CYCLES_PER_PACKAGE]
    ]
    if len(cycles) > MAX_CYCLES_PER_PACKAGE:
        found.append(
            Violation(
                package.root,
                0,
                f"more than {MAX_CYCLES_PER_PACKAGE} import cycles: "
                f"only the first ones are listed",
            )
        )
    return found


def check_late_imports(module: Module) -> list[Violation]:
    """Imports after a function or class definition: a cycle kept hidden by order."""
    type_only = _type_checking_nodes(module.tree)
    found = []
    defined = False
    for statement in run_at_import(module.tree):
        if isinstance(statement, _DEFINITION):
            defined = True
        elif (
            defined
            and isinstance(statement, _IMPORT)
            and id(statement) not in type_only
        ):
            found.append(
                Violation(
                    module.path,
                    statement.lineno,
                    "import after definitions: a hidden cycle "
                    f"({ast.unparse(statement)})",
                )
            )
    return found


def _class_names(package: Package) -> set[str]:
    return {
        node.name
        for module in package.modules
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ClassDef)
    }


def _setattr_target(node: ast.Call) -> tuple[str, str] | None:
    """(name, attribute) for `setattr(name, "attribute", ...)` / `delattr(...)`."""
    func = node.func
    if not (isinstance(func, ast.Name) and func.id in ("setattr", "delattr")):
        return None
    if len(node.args) < 2:
        return None
    obj, key = node.args[:2]
    if isinstance(obj, ast.Name) and isinstance(key, ast.Constant):
        return obj.id, str(key.value)
    return None


def _patched(node: ast.AST) -> list[tuple[str, str]]:
    """(name, attribute) for each `name.attribute` that `node` assigns or deletes."""
    if isinstance(node, ast.Call):
        called = _setattr_target(node)
        return [called] if called else []
    patched = []
    for target in _assignment(node)[0]:
        for part in ast.walk(target):  # `A.x, B.y = ...` too
            if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name):
                patched.append((part.value.id, part.attr))
    return patched


def _inside_class(tree: ast.Module, name: str, node: ast.AST) -> bool:
    return any(
        isinstance(cls, ast.ClassDef) and cls.name == name and node in ast.walk(cls)
        for cls in ast.walk(tree)
    )


def check_class_patching(module: Module, classes: set[str]) -> list[Violation]:
    """Assignments to `SomeClass.attr` of a package class outside its own body."""
    aliases = {name: name for name in classes}  # local name -> class name
    patches: list[tuple[ast.AST, str, str]] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in classes and alias.asname:
                    aliases[alias.asname] = alias.name
        patches += [(node, name, attribute) for name, attribute in _patched(node)]
    found = []
    for node, name, attribute in patches:
        cls = aliases.get(name)
        if cls is None or _inside_class(module.tree, cls, node):
            continue
        found.append(
            Violation(
                module.path,
                getattr(node, "lineno", 0),
                f"assigns {name}.{attribute} outside class {cls}: patching "
                f"a class after its definition",
            )
        )
    return found


# --- Rule: small modules -------------------------------------------------------------

_NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}


def lines_of_code(source: str) -> int:
    """Lines holding a token other than a comment: blank and comment-only lines
    are not counted, every line of a docstring is."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines)


def check_size(module: Module) -> list[Violation]:
    if module.size <= MAX_LINES_OF_CODE:
        return []
    return [
        Violation(
            module.path,
            1,
            f"{module.size} lines of code, over {MAX_LINES_OF_CODE}: split the module "
            f"into modules named after what they hold",
        )
    ]


# --- Running the rules ---------------------------------------------------------------


def _check_loaded(package: Package) -> list[Violation]:
    """Every rule that needs only this one package."""
    if package.layer not in LAYERS:
        return [Violation(package.root, 0, f"unknown layer {package.layer!r}")]
    declared = declared_layers(package.root / "pyproject.toml")
    found = check_declarations(package.root, package.layer, declared)
    classes = _class_names(package)
    for module in package.modules:
        found += check_module(module, package.layer, declared)
        found += check_private_imports(module)
        found += check_late_imports(module)
        found += check_class_patching(module, classes)
        found += check_size(module)
    return found + check_cycles(package)


def check_package(package: Path) -> list[Violation]:
    """The rules that look at one package alone (all but private attribute access)."""
    return _check_loaded(load_package(package))


def check_tree(packages: list[Package]) -> list[Violation]:
    """All rules: each package alone, then private attributes across packages."""
    found = [v for package in packages for v in _check_loaded(package)]
    known = [p for p in packages if p.layer in LAYERS]
    return found + check_private_access(known)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python ci/layering.py",
        description="Check actnet's layer chain and each layer's contract.",
    )
    parser.add_argument("packages_dir", type=Path, help="the packages/ folder")
    parser.add_argument(
        "--report-ambiguous",
        action="store_true",
        help="also list private names both the using package and another define",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    roots = sorted(args.packages_dir.glob("actnet-*"))
    if not roots:
        print(f"no actnet-* packages under {args.packages_dir}", file=sys.stderr)
        return 2
    packages = [load_package(root) for root in roots]
    violations = sorted(check_tree(packages), key=lambda v: (str(v.path), v.line))
    for v in violations:
        print(v)
    if args.report_ambiguous:
        ambiguous = report_ambiguous([p for p in packages if p.layer in LAYERS])
        for line in ambiguous:
            print(line)
        print(f"layering: {len(ambiguous)} ambiguous private name use(s) to review")
    sizes = [m.size for p in packages for m in p.modules]
    if sizes:
        print(
            f"layering: median module {statistics.median(sizes):g} lines of code, "
            f"largest {max(sizes)} (info)"
        )
    print(
        f"layering: {len(packages)} packages, {len(sizes)} modules, "
        f"{len(violations)} violation(s)"
    )
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
