"""The layer chain rules catch what they promise: fed a violation, they report it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_tree import make_package, messages, run_script


def test_clean_package_passes(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        "ndarray",
        ["actnet-device>=0.1,<0.2", "actnet-mem>=0.1", "numpy>=2"],
        {
            "__init__.py": "from actnet.ndarray._core import x\n",
            "_core.py": """
                from typing import TYPE_CHECKING
                import numpy as np
                import actnet.device
                from actnet import mem
                from . import _helpers
                from actnet.ndarray import _helpers as h
                if TYPE_CHECKING:
                    from actnet.device import Device
                def f():
                    import json  # a local import of something else is fine
                    return json
            """,
            "_helpers.py": "",
        },
    )
    assert messages(package) == []


def test_upward_import_is_caught(tmp_path: Path) -> None:
    package = make_package(
        tmp_path, "device", ["actnet-mem>=0.1"], {"_x.py": "import actnet.tensor\n"}
    )
    assert messages(package) == [
        "actnet.device imports actnet.tensor, a layer above it"
    ]


@pytest.mark.parametrize(
    "source",
    [
        "from actnet import nn\n",
        "from actnet.util.data import DataLoader\n",
        "from .. import util\n",
    ],
)
def test_upward_import_spellings_are_caught(tmp_path: Path, source: str) -> None:
    package = make_package(tmp_path, "device", ["actnet-mem>=0.1"], {"_x.py": source})
    [message] = messages(package)
    assert "a layer above it" in message


def test_undeclared_lower_layer_is_caught(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        "ndarray",
        ["actnet-device>=0.1"],
        {"_x.py": "from actnet.mem import Allocator\n"},
    )
    [message] = messages(package)
    assert message == (
        "actnet.ndarray imports actnet.mem, "
        "but actnet-ndarray does not declare actnet-mem"
    )


def test_function_local_import_is_caught(tmp_path: Path) -> None:
    source = """
        def f():
            from actnet.mem import Allocator
            return Allocator
    """
    package = make_package(tmp_path, "device", ["actnet-mem>=0.1"], {"_x.py": source})
    assert messages(package) == ["function-local import of actnet.mem"]


def test_function_local_import_of_own_layer_is_caught(tmp_path: Path) -> None:
    source = """
        class A:
            def f(self):
                lazy = lambda: __import__("actnet.device._numpy")
                import actnet.device._cupy
    """
    package = make_package(tmp_path, "device", ["actnet-mem>=0.1"], {"_x.py": source})
    assert sorted(messages(package)) == [
        "dynamic import of actnet.device._numpy",
        "function-local import of actnet.device._cupy",
    ]


def test_dynamic_import_is_caught(tmp_path: Path) -> None:
    source = "import importlib\nm = importlib.import_module('actnet.mem')\n"
    package = make_package(tmp_path, "device", ["actnet-mem>=0.1"], {"_x.py": source})
    assert messages(package) == ["dynamic import of actnet.mem"]


def test_missing_or_upward_declaration_is_caught(tmp_path: Path) -> None:
    package = make_package(tmp_path, "tensor", ["actnet-nn>=0.1"], {"__init__.py": ""})
    assert messages(package) == [
        "actnet-tensor declares actnet-nn, which is not a layer below it",
        "actnet-tensor must declare the layer below it, actnet-ndarray",
    ]


def test_command_line_exit_status(tmp_path: Path) -> None:
    make_package(tmp_path, "mem", [], {"__init__.py": "import actnet.device\n"})
    bad = run_script(tmp_path)
    assert bad.returncode == 1
    assert "actnet.mem imports actnet.device, a layer above it" in bad.stdout
    ok_root = tmp_path / "ok"
    make_package(ok_root, "mem", [], {"__init__.py": "import os\n"})
    ok = run_script(ok_root)
    assert ok.returncode == 0, ok.stdout
    empty = run_script(tmp_path / "none")
    assert empty.returncode == 2
