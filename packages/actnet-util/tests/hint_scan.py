"""Find the hints in actnet's error messages and check that each names something.

A hint is code that a raised exception's or a warning's message points the user to:
a name in backticks (`` `tensor.detach().numpy()` ``), a name written as a call
(`detach()`, `input.to(...)`), or code-shaped words after a hint verb ("use
logical_xor", "move one with copy_to", "call Function.apply", "use sparse=False";
code-shaped: dotted, snake_case, `name=value` or quoted). A message is the text of
a `raise` statement, of an exception or warning built anywhere (`ValueError(...)`,
`warnings.warn(...)`), of a module constant named like one (`_RETAIN_MESSAGE`), of
a variable such an expression uses (and what this module's functions that it
calls return), or of a string handed to a helper that puts its argument in a
raise (`self._fail("...")`).

Each hint is resolved against the installed actnet packages by import and getattr:
- a dotted name from its root: a public name of any actnet package (`Device`,
  `Tensor`, `einsum`), an alias the READMEs use (`at`, `nn`, `F`, `xp`, `actnet`),
  or a variable name the messages use for an instance (`tensor`, `model`,
  `optimizer`, ...: VARIABLES); a call's result is the class its return annotation
  names; keyword arguments must be parameters of what is called;
- a bare name as the package that raises it sees it: a public function, class or
  module of that layer or one below, a method or attribute of a public class of
  those layers, a Python builtin, or a parameter of the function that raises it or
  of a public callable of its package;
- `actnet <command> ...` is a command of the CLI (`build_parser`).
Names rooted at torch, NumPy or safetensors (EXTERNAL) are theirs and not checked;
ALLOWED lists, each with its reason, the few hints that cannot be resolved so.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import inspect
import io
import pkgutil
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

LAYERS = ("mem", "device", "ndarray", "tensor", "neuron", "nn", "util")

# The import aliases actnet's READMEs use.
ALIASES = {
    "actnet": "actnet",
    "at": "actnet.tensor",
    "nn": "actnet.nn",
    "F": "actnet.neuron",
    "xp": "actnet.ndarray",
}
# The variable names messages use for an instance, and the classes it may have.
_TENSOR = "actnet.tensor.Tensor"
_ARRAY = "actnet.ndarray.NDArray"
VARIABLES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("tensor", "weight", "bias", "param", "grad"), (_TENSOR,)),
    **dict.fromkeys(("prob_dist", "repeats"), (_TENSOR,)),
    **dict.fromkeys(("input", "x", "other"), (_TENSOR, _ARRAY)),
    "array": (_ARRAY,),
    **dict.fromkeys(("model", "module"), ("actnet.nn.Module",)),
    **dict.fromkeys(("optimizer", "opt"), ("actnet.nn.optim.Optimizer",)),
    **dict.fromkeys(
        ("scheduler", "lr_scheduler"), ("actnet.nn.optim.lr_scheduler.LRScheduler",)
    ),
    "buffer": ("actnet.device.Buffer",),
    "device": ("actnet.device.Device",),
}
# Roots whose names belong to another project: a message that attributes a name
# to torch, NumPy or safetensors is not actnet's to check.
EXTERNAL = frozenset({"torch", "np", "numpy", "safetensors", "ml_dtypes"})
# Hints that cannot be resolved mechanically, each with the reason it is right.
ALLOWED: dict[str, str] = {
    "new()": "PyTorch's legacy Tensor(...) constructor names itself new() in its "
    "messages; actnet.tensor.Tensor(...) repeats them word for word",
    "i.e": "English (id est) in PyTorch's dropout2d warning, repeated word for word",
    "expand({}{{}}, size={})": "PyTorch's expand error for t[k] = v of too many "
    "dimensions (expand(torch.FloatTensor{[2, 3]}, size=[3]): ...), repeated word "
    "for word: it names torch's operator, not a call to make",
    "grid_sampler()": "PyTorch's grid_sample errors name its operator "
    "grid_sampler() (grid_sampler(): expected grid and input to have same batch "
    "size, ...), repeated word for word: not a call to make",
}

_BACKTICKS = re.compile(r"`([^`\n]+)`")
_URL = re.compile(r"\b(?:https?://|github\.com/|www\.)\S+")
_CALL = re.compile(r"(?<![\w.`{}\]])\.?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\(")
_VERB = re.compile(
    r"\b(?:use|call|try|specify|move (?:it|one|them) with|convert (?:it|one|them) "
    r"with|wrap it in)\s+([^;:]*)",
    re.IGNORECASE,
)
_WORD = re.compile(
    r"'[A-Za-z_][\w.]*'|[A-Za-z_][\w.]*(?:\([^()]*\))?(?:=(?:'[^']*'|[\w.{}-]+))?"
)
_EXCEPTION_NAME = re.compile(r"(?:Error|Exception|Warning)$")
_MESSAGE_CONSTANT = re.compile(
    r"^_?[A-Z0-9_]*(?:MESSAGE|WARNING|ERROR|HINT)[A-Z0-9_]*$"
)


@dataclass(frozen=True)
class Message:
    path: str
    line: int
    layer: str
    text: str
    parameters: frozenset[str]  # of the functions that enclose it


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    hint: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.hint!r}: {self.why}"


# --- Messages ---------------------------------------------------------------------


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _texts(node: ast.AST) -> list[str]:
    """The string literals in `node`, an f-string's values shown as `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
        return ["".join(str(p) for p in parts)]
    return [t for child in ast.iter_child_nodes(node) for t in _texts(child)]


def _is_message(node: ast.AST) -> bool:
    """A raise, an exception or warning being built, or a warn() call."""
    if isinstance(node, ast.Raise):
        return node.exc is not None
    if isinstance(node, ast.Call):
        name = _callee(node)
        return name == "warn" or bool(_EXCEPTION_NAME.search(name))
    return False


def _parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    a = func.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
    return {x.arg for x in names if x is not None}


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


@dataclass(frozen=True)
class _Scope:
    """A function (None: the module's top), its nodes but not those of the
    functions inside it, and its parameters and its enclosers'."""

    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    nodes: list[ast.AST]
    parameters: frozenset[str]


def _scopes(tree: ast.Module) -> list[_Scope]:
    found: list[_Scope] = []

    def visit(
        root: ast.AST,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None,
        params: frozenset[str],
    ) -> None:
        nodes: list[ast.AST] = []
        stack = list(ast.iter_child_nodes(root))
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node, node, params | _parameters(node))
            else:
                stack.extend(ast.iter_child_nodes(node))
        found.append(_Scope(function, nodes, params))

    visit(tree, None, frozenset())
    return found


def _raising_helpers(
    scopes: list[_Scope],
) -> dict[str, tuple[list[str], set[str]]]:
    """Functions of the module that put a parameter into a message: name ->
    (their positional parameters, without self or cls; the ones they put)."""
    helpers = {}
    for scope in scopes:
        func = scope.function
        if func is None:
            continue
        params = _parameters(func) - {"self", "cls"}
        used: set[str] = set()
        for node in scope.nodes:
            if _is_message(node):
                used |= _names_in(node) & params
        if used:
            a = func.args
            positional = [x.arg for x in [*a.posonlyargs, *a.args]]
            if positional[:1] in (["self"], ["cls"]):
                positional = positional[1:]
            helpers[func.name] = (positional, used)
    return helpers


def _message_arguments(
    call: ast.Call, helper: tuple[list[str], set[str]]
) -> list[ast.expr]:
    """The arguments of a call to a helper that go into its message."""
    positional, used = helper
    found = [
        arg for name, arg in zip(positional, call.args, strict=False) if name in used
    ]
    return found + [k.value for k in call.keywords if k.arg in used]


def messages(source: str, path: str, layer: str) -> list[Message]:
    """The error and warning messages in one module's source."""
    tree = ast.parse(source, filename=path)
    scopes = _scopes(tree)
    helpers = _raising_helpers(scopes)
    found: list[Message] = []

    def add(node: ast.AST, params: frozenset[str]) -> None:
        for text in _texts(node):
            line = getattr(node, "lineno", 0)
            found.append(Message(path, line, layer, text, params))

    constants: dict[str, list[ast.expr]] = {}  # the module's top-level names
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    constants.setdefault(t.id, []).append(stmt.value)
                    if _MESSAGE_CONSTANT.match(t.id):
                        add(stmt.value, frozenset())
    returned: dict[str, list[_Scope]] = {}  # function name -> its scopes
    for scope in scopes:
        if scope.function is not None:
            returned.setdefault(scope.function.name, []).append(scope)

    def add_with_sources(
        node: ast.AST, params: frozenset[str], assigned: dict[str, list[ast.expr]]
    ) -> None:
        """A message's text, and the text of what it is made from: the values
        assigned to the names it uses, and what this module's functions that it
        (or those values) call return."""
        parts = [node]
        for name in _names_in(node):
            parts += assigned.get(name) or constants.get(name, [])
        for part in parts:
            add(part, params)
            for call in ast.walk(part):
                if isinstance(call, ast.Call):
                    for callee in returned.get(_callee(call), []):
                        for ret in callee.nodes:
                            if isinstance(ret, ast.Return) and ret.value is not None:
                                add(ret.value, callee.parameters)

    for scope in scopes:
        nodes, params = scope.nodes, scope.parameters
        in_raise = {
            id(inner)
            for node in nodes
            if isinstance(node, ast.Raise)
            for inner in ast.walk(node)
            if inner is not node
        }
        assigned: dict[str, list[ast.expr]] = {}
        for node in nodes:
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = (
                    node.targets if isinstance(node, ast.Assign) else [node.target]
                )
                for t in targets:
                    if isinstance(t, ast.Name) and node.value is not None:
                        assigned.setdefault(t.id, []).append(node.value)
        for node in nodes:
            if _is_message(node) and id(node) not in in_raise:
                add_with_sources(node, params, assigned)
            elif isinstance(node, ast.Call) and _callee(node) in helpers:
                for arg in _message_arguments(node, helpers[_callee(node)]):
                    add(arg, params)
    return found


# --- Hints ------------------------------------------------------------------------


_ATTRIBUTE = re.compile(r"\.[A-Za-z_]\w*")


def _call_chain(text: str, start: int) -> str:
    """The call at text[start:] and what is chained onto it: `a.b(...).c(...)`."""
    end = start
    while True:
        depth = 0
        for i in range(text.index("(", end), len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                end = i + 1
                break
        else:
            return text[start:]
        more = _ATTRIBUTE.match(text, end)
        if more is None:
            return text[start:end]
        end = more.end()
        if not text.startswith("(", end):
            return text[start:end]


def hints(text: str) -> list[str]:
    """The code a message's text points to."""
    text = _URL.sub(" ", text)
    found = _BACKTICKS.findall(text)
    rest = _BACKTICKS.sub(" ", text)
    done = 0
    for match in _CALL.finditer(rest):
        if match.start() < done:
            continue  # a call chained onto the previous one
        snippet = _call_chain(rest, match.start())
        done = match.start() + len(snippet)
        if snippet.endswith("(s)"):  # "dimension(s)": a plural, not a call
            continue
        found.append(snippet)
    for clause in _VERB.findall(rest):
        for i, word in enumerate(_WORD.findall(clause)):
            word = word.rstrip(".")
            if word.startswith("'"):  # "call 'fit'"; later, a quoted value
                if i == 0:
                    found.append(word.strip("'"))
            elif any(c in word for c in "_.=") and "(" not in word:
                found.append(word)
    return found


# --- Resolving --------------------------------------------------------------------


class _Instance:
    """An instance of `cls` (a variable of that class, or a call's result)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls


class _Unknown:
    """Something whose type the scan cannot tell: what follows it is unchecked."""


UNKNOWN = _Unknown()


def _walk_public(layer: str) -> list[ModuleType]:
    package = importlib.import_module(f"actnet.{layer}")
    found = [package]
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        parts = info.name.split(".")[2:]
        if any(p.startswith("_") for p in parts):  # private, and __main__
            continue
        found.append(importlib.import_module(info.name))
    return found


@cache
def public_modules() -> dict[str, list[ModuleType]]:
    """Each layer's namespace and public submodules."""
    return {layer: _walk_public(layer) for layer in LAYERS}


def _layers_to(layer: str) -> tuple[str, ...]:
    return LAYERS[: LAYERS.index(layer) + 1]


@cache
def public_names(layer: str) -> dict[str, list[Any]]:
    """The public names of `layer` and the layers below it: name -> objects."""
    names: dict[str, list[Any]] = {}
    for below in _layers_to(layer):
        for module in public_modules()[below]:
            names.setdefault(module.__name__.rsplit(".", 1)[1], []).append(module)
            for name in getattr(module, "__all__", dir(module)):
                if not name.startswith("_") and hasattr(module, name):
                    names.setdefault(name, []).append(getattr(module, name))
    return names


@cache
def public_classes(layer: str) -> list[type]:
    """The actnet classes among the public names of `layer` and below."""
    found: dict[int, type] = {}
    for objects in public_names(layer).values():
        for obj in objects:
            if inspect.isclass(obj) and obj.__module__.startswith("actnet."):
                found[id(obj)] = obj
    return list(found.values())


@cache
def _set_on_self(cls: type) -> frozenset[str]:
    """The names the class's own source assigns as `self.name = ...`."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return frozenset()
    return frozenset(re.findall(r"\bself\.(\w+)\s*(?::[^=\n]*)?=(?!=)", source))


@cache
def _has_attribute(cls: type, name: str) -> bool:
    """Whether instances of `cls` have `name`: a class attribute, method, slot,
    annotated field or one set as `self.name = ...` in the class's source."""
    if hasattr(cls, name):
        return True
    return any(
        name in getattr(klass, "__annotations__", {}) or name in _set_on_self(klass)
        for klass in cls.__mro__
    )


@cache
def _eval_namespace() -> dict[str, Any]:
    space: dict[str, Any] = {}
    for objects in public_names("util").values():
        for obj in objects:
            name = getattr(obj, "__name__", None)
            if isinstance(name, str):
                space.setdefault(name.rsplit(".", 1)[-1], obj)
    return space


def _returned(obj: Any, owner: type | None) -> list[Any] | None:
    """What calling `obj` gives, as resolvable objects; None when unknown."""
    if inspect.isclass(obj):
        return [_Instance(obj)]
    try:
        annotation = inspect.signature(obj).return_annotation
    except (TypeError, ValueError):
        return None
    if isinstance(annotation, str):
        space = {**_eval_namespace(), **getattr(obj, "__globals__", {})}
        if owner is not None:
            space["Self"] = owner
        try:
            # an annotation of actnet's own source, as typing.get_type_hints reads it
            annotation = eval(annotation, {"typing": typing}, space)
        except (NameError, AttributeError, SyntaxError, TypeError):
            return None
    if annotation is typing.Self and owner is not None:
        return [_Instance(owner)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)  # `Tensor | None`
    else:
        members = (typing.get_origin(annotation) or annotation,)  # `list[int]`
    # (`Tensor | None`: a hint chained through it means the Tensor.)
    classes = [
        _Instance(m) for m in members if inspect.isclass(m) and m is not type(None)
    ]
    return classes or None


def _member(cls: type, name: str) -> Any:
    """What `name` of an instance of `cls` resolves to: a method, class or module
    as itself, a property as what its getter returns; anything else (a slot, a
    value set in __init__) is not followed."""
    value = getattr(cls, name, UNKNOWN)
    if isinstance(value, property) and value.fget is not None:
        found = _returned(value.fget, cls)
        return found[0] if found and len(found) == 1 else UNKNOWN
    if callable(value) or inspect.ismodule(value):
        return value
    return UNKNOWN


def _accepts(obj: Any, keywords: list[str]) -> bool:
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return True  # a builtin without a signature: nothing to check
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return True
    return all(k in params for k in keywords)


@cache
def package_parameters(layer: str) -> frozenset[str]:
    """The parameter names of every public callable of one layer (and methods)."""
    found: set[str] = set()
    callables: list[Any] = []
    for module in public_modules()[layer]:
        for name in dir(module):
            if not name.startswith("_"):
                callables.append(getattr(module, name))
    for obj in list(callables):
        if inspect.isclass(obj) and obj.__module__.startswith("actnet."):
            callables += [
                v for k, v in vars(obj).items() if callable(v) and k != "__class__"
            ]
    for obj in callables:
        with contextlib.suppress(TypeError, ValueError):
            found.update(inspect.signature(obj).parameters)
    return frozenset(found)


def _chain(node: ast.expr) -> list[tuple[str, Any]] | None:
    """A name, attribute and call chain as steps: ("name", n), ("attr", n),
    ("call", keyword names); None for anything else."""
    if isinstance(node, ast.Name):
        return [("name", node.id)]
    if isinstance(node, ast.Attribute):
        head = _chain(node.value)
        return None if head is None else [*head, ("attr", node.attr)]
    if isinstance(node, ast.Call):
        head = _chain(node.func)
        keywords = [k.arg for k in node.keywords if k.arg is not None]
        return None if head is None else [*head, ("call", keywords)]
    return None


def _chains(tree: ast.expr) -> list[list[tuple[str, Any]]]:
    """The chains in an expression: the whole, and those inside call arguments
    (whose bare names are placeholders for values and are skipped)."""
    found = []
    chain = _chain(tree)
    if chain is not None:
        found.append(chain)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                inner = _chain(arg)
                if inner is not None and len(inner) > 1:
                    found.append(inner)
    return found


def _cli_command(words: list[str]) -> bool:
    """Whether `actnet WORDS...` is a command of actnet's CLI."""
    parser = importlib.import_module("actnet.util.cli").build_parser()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            parser.parse_args([*words, "--help"])
    except SystemExit as done:
        return done.code == 0
    return False


def check_hint(hint: str, message: Message) -> str | None:
    """Why `hint` names nothing that exists; None when it does."""
    if hint in ALLOWED:
        return None
    if not re.search(r"[A-Za-z]", hint.replace("{}", "")):
        return None  # an operator (`-`, `~`) or a value, not a name
    code = hint.strip().replace("{}", "_")
    if code.startswith("actnet ") and " " in code:
        words = code.split()[1:]
        return None if _cli_command(words) else "no such actnet CLI command"
    method = code.startswith(".")
    code = code.lstrip(".")
    try:
        tree = ast.parse(code, mode="eval").body
    except SyntaxError:
        try:  # a keyword argument alone: `sparse=False`
            call = ast.parse(f"f({code})", mode="eval").body
        except SyntaxError:
            return "not a Python name or expression (add it to ALLOWED?)"
        assert isinstance(call, ast.Call)
        keywords = [k.arg for k in call.keywords if k.arg is not None]
        if not keywords:
            return "not a Python name or expression (add it to ALLOWED?)"
        return _check_parameters(keywords, message)
    chains = _chains(tree)
    if not chains:
        return None  # a literal, a number: nothing named
    for chain in chains:
        why = _check_chain(chain, message, method)
        if why is not None:
            return why
    return None


def _check_parameters(names: list[str], message: Message) -> str | None:
    known = message.parameters | package_parameters(message.layer)
    missing = [n for n in names if n not in known]
    if missing:
        return (
            f"{', '.join(missing)} is not a parameter of the function that raises "
            f"it nor of any public callable of actnet.{message.layer}"
        )
    return None


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def _root(name: str, message: Message, alone: bool, method: bool) -> list[Any] | str:
    """The objects a chain's first name stands for, or why it stands for none."""
    if name in EXTERNAL:
        return "external"
    if name in ALIASES and not method:
        return [importlib.import_module(ALIASES[name])]
    if name in VARIABLES and not alone and not method:
        return [_Instance(_class(path)) for path in VARIABLES[name]]
    layer = message.layer if alone or method else "util"
    found = [] if method else list(public_names(layer).get(name, []))
    found += [
        _member(cls, name) for cls in public_classes(layer) if _has_attribute(cls, name)
    ]
    if found:
        return found
    if alone and hasattr(builtins, name):
        return [getattr(builtins, name)]
    if alone and name in message.parameters | package_parameters(message.layer):
        return [UNKNOWN]  # an argument's name
    where = f"actnet.{message.layer} or below" if alone else "any actnet package"
    return f"{name!r} is no public name, method or attribute in {where}"


def _check_chain(
    chain: list[tuple[str, Any]], message: Message, method: bool
) -> str | None:
    (_, first), steps = chain[0], chain[1:]
    alone = not any(kind == "attr" for kind, _ in steps)
    current = _root(first, message, alone, method)
    if current == "external":
        return None
    if isinstance(current, str):
        return current
    path = first
    owners: list[type | None] = [None] * len(current)
    for kind, value in steps:
        if kind == "attr":
            path += f".{value}"
            nxt, nxt_owners = [], []
            for obj in current:
                if obj is UNKNOWN:
                    nxt.append(UNKNOWN)
                    nxt_owners.append(None)
                elif isinstance(obj, _Instance):
                    if _has_attribute(obj.cls, value):
                        nxt.append(_member(obj.cls, value))
                        nxt_owners.append(obj.cls)
                elif inspect.ismodule(obj):
                    with contextlib.suppress(ImportError):
                        if not hasattr(obj, value):
                            importlib.import_module(f"{obj.__name__}.{value}")
                    if hasattr(obj, value):
                        nxt.append(getattr(obj, value))
                        nxt_owners.append(None)
                elif inspect.isclass(obj) and _has_attribute(obj, value):
                    nxt.append(_member(obj, value))
                    nxt_owners.append(obj)
            if not nxt:
                return f"{path!r} does not exist"
            current, owners = nxt, nxt_owners
        else:
            if not any(
                isinstance(obj, _Instance | _Unknown) or _accepts(obj, value)
                for obj in current
            ):
                return f"{path}() takes no argument named {', '.join(value)}"
            path += "()"
            results: list[Any] = []
            for obj, owner in zip(current, owners, strict=True):
                if not isinstance(obj, _Instance | _Unknown):
                    results += _returned(obj, owner) or []
            if not results:
                results = [UNKNOWN]  # what follows is unchecked
            current, owners = results, [None] * len(results)
    return None


# --- The scan ---------------------------------------------------------------------


def source_files() -> Iterator[tuple[str, Path]]:
    """(layer, path) of every installed actnet source module."""
    for layer in LAYERS:
        package = importlib.import_module(f"actnet.{layer}")
        for folder in package.__path__:
            for path in sorted(Path(folder).rglob("*.py")):
                yield layer, path


def problems_in(source: str, path: str, layer: str) -> list[Problem]:
    found = []
    for message in messages(source, path, layer):
        for hint in hints(message.text):
            why = check_hint(hint, message)
            if why is not None:
                found.append(Problem(path, message.line, hint, why))
    return sorted(set(found), key=lambda p: (p.path, p.line, p.hint))
