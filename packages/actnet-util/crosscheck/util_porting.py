"""The porting rule, mechanised: PyTorch source runs on actnet with only its
imports rewritten (the root README's "Porting from PyTorch").

    text = Path("ported/mingpt.py").read_text()
    theirs = load_source("mingpt", text)               # as written, on torch
    mine = load_source("mingpt", port_source(text))    # the same text on actnet

`port_source` rewrites each `import` statement by IMPORT_MAP (the longest
matching torch path wins) and nothing else: every other line, comment and
blank stays where it was, so a traceback's line numbers are the original's.
`copy_state` moves a torch model's state dict into an actnet model by name,
through NumPy; `without_dropout` sets every dropout probability of a model to
0 (torch's and actnet's random generators differ, so only a run without
dropout can match step for step).
"""

from __future__ import annotations

import ast
import itertools
import linecache
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import actnet.tensor as at

# torch's module path -> actnet's, the porting rule (root README).
IMPORT_MAP: tuple[tuple[str, str], ...] = (
    ("torch.utils.data", "actnet.util.data"),
    ("torch.utils.checkpoint", "actnet.tensor.checkpoint"),
    ("torch.nn.functional", "actnet.nn.functional"),
    ("torch.optim", "actnet.nn.optim"),
    ("torch.nn", "actnet.nn"),
    ("torch", "actnet.tensor"),
)


_loaded = itertools.count()


class PortingError(ValueError):
    """An import statement `port_source` does not rewrite: one that shares its
    line with another statement (`x = 1; import torch`)."""


def map_module(path: str) -> str:
    """actnet's module path for torch's `path` (itself when not torch's).

    >>> map_module("torch.nn.functional"), map_module("torch.optim.lr_scheduler")
    ('actnet.nn.functional', 'actnet.nn.optim.lr_scheduler')
    """
    for theirs, mine in IMPORT_MAP:
        if path == theirs or path.startswith(theirs + "."):
            return mine + path[len(theirs) :]
    return path


def _is_torch(path: str) -> bool:
    return path == "torch" or path.startswith("torch.")


def _is_mapped_module(path: str) -> bool:
    """Whether `path` is a module the map moves as a whole (`torch.nn`): then
    `from torch import nn` becomes an import of actnet.nn. Any other name
    (`from torch.nn import Linear`, `from torch.optim import lr_scheduler`) is
    imported from the mapped module as it is."""
    return any(path == theirs for theirs, _ in IMPORT_MAP)


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


def _rewrite_import(node: ast.Import) -> str | None:
    if not any(_is_torch(a.name) for a in node.names):
        return None
    parts = []
    for a in node.names:
        if not _is_torch(a.name):
            parts.append(_alias(a.name, a.asname))
        elif a.asname:
            parts.append(f"{map_module(a.name)} as {a.asname}")
        elif a.name == "torch":
            parts.append("actnet.tensor as torch")
        else:
            # `import torch.nn` loads torch.nn and binds `torch`: load actnet.nn,
            # bind `torch` to actnet.tensor (which then reaches `torch.nn`)
            parts.append(f"{map_module(a.name)}, actnet.tensor as torch")
    return "import " + ", ".join(parts)


def _rewrite_from(node: ast.ImportFrom) -> str | None:
    module = node.module or ""
    if node.level or not _is_torch(module):
        return None
    statements = []
    names = []
    for a in node.names:
        inner = f"{module}.{a.name}"
        if a.name != "*" and _is_mapped_module(inner):
            # `from torch import nn`: a module the map moves as a whole
            statements.append(f"import {map_module(inner)} as {a.asname or a.name}")
        else:
            names.append(_alias(a.name, a.asname))
    if names:
        statements.insert(0, f"from {map_module(module)} import {', '.join(names)}")
    return "; ".join(statements)


def port_source(text: str) -> str:
    """`text` with its torch imports rewritten by IMPORT_MAP, nothing else.

    >>> port_source("import torch\\nimport torch.nn as nn\\nx = torch.ones(2)\\n")
    'import actnet.tensor as torch\\nimport actnet.nn as nn\\nx = torch.ones(2)\\n'
    """
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, int, int, str]] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            new = _rewrite_import(node)
        elif isinstance(node, ast.ImportFrom):
            new = _rewrite_from(node)
        else:
            continue
        if new is not None:
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            end_col = node.end_col_offset or 0
            edits.append((node.lineno, end, node.col_offset, end_col, new))
    for first, last, col, end_col, new in sorted(edits, reverse=True):
        head = lines[first - 1][:col]
        body = lines[last - 1].rstrip("\r\n")
        newline = lines[last - 1][len(body) :] or "\n"
        rest = body[end_col:].strip()  # a comment is kept; a statement is not
        if head.strip() or (rest and not rest.startswith("#")):
            raise PortingError(
                f"line {first}: an import sharing its line with other statements "
                "is not rewritten; put it on its own line"
            )
        comment = f"  {rest}" if rest else ""
        # the statement's first line takes the rewrite; its continuation lines
        # stay as blank lines so that the line numbers do not move
        blank = ["\n"] * (last - first)
        lines[first - 1 : last] = [head + new + comment + newline, *blank]
    return "".join(lines)


class _SourceLoader:
    """What linecache asks a module's `__loader__` for: the ported text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def get_source(self, name: str) -> str:
        return self.text


def load_source(name: str, text: str, filename: str | None = None) -> types.ModuleType:
    """Run `text` as a fresh module (registered in sys.modules under a name of
    its own, as dataclasses need, so that the torch and actnet versions of one
    file live side by side); tracebacks show its lines (through linecache and
    the module's `__loader__`)."""
    filename = filename or f"ported {name}"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    module = types.ModuleType(f"_ported_{name}_{next(_loaded)}")
    module.__file__ = filename
    module.__loader__ = _SourceLoader(text)  # type: ignore[assignment]  # get_source is all linecache uses
    sys.modules[module.__name__] = module
    exec(compile(text, filename, "exec"), module.__dict__)  # noqa: S102  # the point
    return module


def to_numpy(t: Any) -> np.ndarray:
    """A tensor of either library as a NumPy array."""
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def initial_state(model: Any) -> dict[str, np.ndarray]:
    """A copy of a torch model's state dict as NumPy arrays (taken before it
    trains, to start the actnet model from it later)."""
    return {k: to_numpy(v).copy() for k, v in model.state_dict().items()}


def copy_state(theirs: Any, mine: Any) -> None:
    """Load `theirs` (a torch model, or `initial_state`'s arrays) into actnet
    model `mine` by name: the same keys in the same order, through NumPy."""
    source = theirs if isinstance(theirs, dict) else initial_state(theirs)
    assert list(mine.state_dict()) == list(source), "state-dict keys differ"
    mine.load_state_dict({k: at.tensor(v) for k, v in source.items()})


def without_dropout(model: Any) -> None:
    """Set every dropout probability in `model` to 0: the Dropout modules' `p`,
    the recurrent layers' `dropout` and MultiheadAttention's `dropout`."""
    for module in model.modules():
        kind = type(module).__name__
        if kind.startswith(("Dropout", "AlphaDropout", "FeatureAlphaDropout")):
            module.p = 0.0
        elif kind in {"RNN", "LSTM", "GRU", "MultiheadAttention"}:
            module.dropout = 0.0


def assert_close(
    mine: Iterable[float], theirs: Iterable[float], atol: float, what: str
) -> None:
    """Equal lengths and every pair within `atol`."""
    a, b = list(mine), list(theirs)
    assert len(a) == len(b), f"{what}: {len(a)} values against torch's {len(b)}"
    np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=what)


# ------------------------------------------------- running a port beside torch
PORTED = Path(__file__).resolve().parent / "ported"


def ported_pair(
    name: str, edit: tuple[str, str] | None = None
) -> tuple[types.ModuleType, types.ModuleType]:
    """ported/<name>.py run on torch as written, and on actnet with its imports
    rewritten; `edit` (old, new) changes both texts alike first."""
    text = (PORTED / f"{name}.py").read_text()
    if edit is not None:
        assert text.count(edit[0]) == 1
        text = text.replace(*edit)
    theirs = load_source(name, text, f"ported/{name}.py [torch]")
    mine = load_source(name, port_source(text), f"ported/{name}.py [actnet]")
    return theirs, mine


class Recording:
    """A dataset that records the indices its DataLoader asks for (torch's run)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset, self.indices = dataset, list[int]()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> Any:
        self.indices.append(int(i))
        return self.dataset[i]


class Replaying:
    """The same examples in the same order for actnet's run: its shuffling
    (a sampler on another generator) draws other indices, so the recorded ones
    are used."""

    def __init__(self, dataset: Any, indices: list[int]) -> None:
        self.dataset, self.order = dataset, iter(indices)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> Any:
        return self.dataset[next(self.order)]
