"""A layer uses only the public interface of the layers below: no `._name` that
another package defines, no import of another package's private modules or names."""

from __future__ import annotations

from pathlib import Path

import layering
import pytest
from fake_tree import make_layer, run_script, tree_messages

_READS_META = """
    def nbytes(block):
        return block._meta
"""


def _message(attribute: str, owner: str = "mem", user: str = "device") -> str:
    return (
        f".{attribute} is private to actnet-{owner} (defined there, not in "
        f"actnet-{user}): use the {owner} layer's public interface"
    )


@pytest.mark.parametrize(
    "definition",
    [
        'class Block:\n    __slots__ = ("size", "_meta")\n',
        'class Block:\n    __slots__ = "_meta"\n',
        "class Block:\n    _meta = None\n",
        "class Block:\n    _meta: int\n",
        "class Block:\n    def __init__(self):\n        self._meta = 0\n",
        "class Block:\n    @classmethod\n    def f(cls):\n        cls._meta = 0\n",
        (
            "class Block:\n    def __init__(self):\n"
            "        object.__setattr__(self, '_meta', 0)\n"
        ),
        "def _meta():\n    pass\n",
        "class Block:\n    def _meta(self):\n        pass\n",
        "class _meta:\n    pass\n",
    ],
)
def test_each_kind_of_definition_is_seen(tmp_path: Path, definition: str) -> None:
    make_layer(tmp_path, "mem", {"_block.py": definition})
    make_layer(tmp_path, "device", {"_x.py": _READS_META})
    assert tree_messages(tmp_path) == [_message("_meta")]


@pytest.mark.parametrize(
    "use",
    [
        "block._meta[2] = 1",  # a write through the attribute
        "block._meta = 1",  # assigning another object's attribute is a use
        "del block._meta",
        "f(x.block._meta)",
        "super()._meta()",
    ],
)
def test_each_kind_of_use_is_caught(tmp_path: Path, use: str) -> None:
    make_layer(tmp_path, "mem", {"_block.py": "class Block:\n    _meta = 0\n"})
    make_layer(tmp_path, "device", {"_x.py": f"def f(block, x):\n    {use}\n"})
    assert tree_messages(tmp_path) == [_message("_meta")]


def test_use_far_up_the_chain_names_every_owner(tmp_path: Path) -> None:
    make_layer(tmp_path, "mem", {"_a.py": "def _flat():\n    pass\n"})
    make_layer(tmp_path, "device", {"_b.py": "class B:\n    _flat = 1\n"})
    make_layer(tmp_path, "ndarray", {"_c.py": "def f(x):\n    return x._flat\n"})
    [violation] = layering.check_tree(
        [layering.load_package(p) for p in sorted(tmp_path.glob("actnet-*"))]
    )
    assert violation.line == 2
    assert violation.path.name == "_c.py"
    assert violation.message == (
        "._flat is private to actnet-device, actnet-mem (defined there, not in "
        "actnet-ndarray): use the device / mem layer's public interface"
    )


def test_legal_code_passes(tmp_path: Path) -> None:
    make_layer(
        tmp_path,
        "mem",
        {
            "_block.py": """
                class Block:
                    __slots__ = ("_meta", "meta", "__weakref__")
                    def __init__(self, other):
                        self._meta = 0
                        other._stolen = 1  # not self: a use, not a definition
            """
        },
    )
    make_layer(
        tmp_path,
        "device",
        {
            "_x.py": """
                class Buffer:
                    def __init__(self, block):
                        self._own = block.meta  # the public name
                        self.__private = 1  # mangled: not another layer's
                    def _helper(self):
                        return self._own, self.__private, len(self.__dict__)
                def f(block):
                    return block._stolen  # mem never defines it
            """
        },
    )
    assert tree_messages(tmp_path) == []


def test_name_both_define_passes_and_is_reported(tmp_path: Path) -> None:
    make_layer(tmp_path, "mem", {"_a.py": "class A:\n    _lock = None\n"})
    make_layer(
        tmp_path,
        "device",
        {
            "_b.py": """
                class B:
                    def __init__(self, other):
                        self._lock = other._lock  # whose _lock? a human decides
                    def f(self):
                        return self._lock  # B's own: not worth a human's time
            """
        },
    )
    assert tree_messages(tmp_path) == []
    packages = [layering.load_package(p) for p in sorted(tmp_path.glob("actnet-*"))]
    [line] = layering.report_ambiguous(packages)
    assert line.endswith(
        "_b.py:4: ambiguous other._lock: _lock is defined by actnet-device "
        "and by actnet-mem"
    )
    result = run_script(tmp_path, "--report-ambiguous")
    assert result.returncode == 0, result.stdout
    assert line in result.stdout
    assert "1 ambiguous private name use(s) to review" in result.stdout
    assert "ambiguous" not in run_script(tmp_path).stdout


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "from actnet.mem._block import Block\n",
            "imports actnet.mem._block, a private module of actnet-mem",
        ),
        (
            "import actnet.mem._block\n",
            "imports actnet.mem._block, a private module of actnet-mem",
        ),
        (
            "from ..mem._block import Block\n",
            "imports actnet.mem._block, a private module of actnet-mem",
        ),
        (
            "from actnet.mem import Block, _round\n",
            "imports _round from actnet.mem, private to actnet-mem",
        ),
        (
            (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from actnet.mem._block import Block\n"
            ),
            "imports actnet.mem._block, a private module of actnet-mem",
        ),
    ],
)
def test_private_import_is_caught(tmp_path: Path, source: str, message: str) -> None:
    make_layer(tmp_path, "mem", {"__init__.py": "", "_block.py": ""})
    make_layer(tmp_path, "device", {"_x.py": source})
    assert tree_messages(tmp_path) == [
        f"{message}: use the mem layer's public interface"
    ]


def test_public_and_own_private_imports_pass(tmp_path: Path) -> None:
    make_layer(tmp_path, "mem", {"__init__.py": "", "_block.py": ""})
    source = """
        import actnet.mem
        from actnet.mem import Block, __version__
        from actnet.device import _y
        from actnet.device._y import _helper
        from . import _y as y
        from ._y import _helper as h
    """
    make_layer(tmp_path, "device", {"_x.py": source, "_y.py": ""})
    assert tree_messages(tmp_path) == []
