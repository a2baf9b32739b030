"""A package's modules form a one-way stack: no import cycle, no import after a
definition, no class patched after its definition."""

from __future__ import annotations

from pathlib import Path

import layering
import pytest
from fake_tree import make_layer, messages

_CYCLE = "import cycle: actnet.mem._a -> actnet.mem._b -> actnet.mem._a"


@pytest.mark.parametrize(
    "spelling",
    [
        "from actnet.mem import _b",
        "from actnet.mem._b import g",
        "from . import _b",
        "from ._b import g",
        "import actnet.mem._b",
        "import actnet.mem._b as b",
        "try:\n    from ._b import g\nexcept ImportError:\n    g = None",
        # Only the body of `if TYPE_CHECKING:` is skipped: its else runs.
        "if TYPE_CHECKING:\n    pass\nelse:\n    from ._b import g",
    ],
)
def test_two_module_cycle_is_caught(tmp_path: Path, spelling: str) -> None:
    package = make_layer(
        tmp_path,
        "mem",
        {"_a.py": spelling + "\n", "_b.py": "from actnet.mem._a import f\n"},
    )
    assert messages(package) == [_CYCLE]


def test_each_cycle_is_reported_once_in_order(tmp_path: Path) -> None:
    package = make_layer(
        tmp_path,
        "mem",
        {
            "_a.py": "from . import _b\n",
            "_b.py": "from . import _c\n",
            "_c.py": "from . import _a\nfrom . import _b\n",
        },
    )
    violations = layering.check_package(package)
    assert [v.message for v in violations] == [
        (
            "import cycle: actnet.mem._a -> actnet.mem._b -> actnet.mem._c "
            "-> actnet.mem._a"
        ),
        "import cycle: actnet.mem._b -> actnet.mem._c -> actnet.mem._b",
    ]
    assert [(v.path.name, v.line) for v in violations] == [("_a.py", 1), ("_b.py", 1)]


def test_a_tangle_is_reported_up_to_a_limit(tmp_path: Path) -> None:
    names = [f"_m{i}" for i in range(6)]
    source = "".join(f"from . import {name}\n" for name in names)
    package = make_layer(tmp_path, "mem", {f"{name}.py": source for name in names})
    found = messages(package)
    assert len(found) == layering.MAX_CYCLES_PER_PACKAGE + 1
    assert len(set(found)) == len(found)
    assert found[-1].startswith("more than ")


def test_cycle_through_the_package_init_is_caught(tmp_path: Path) -> None:
    package = make_layer(
        tmp_path,
        "mem",
        {
            "__init__.py": "from actnet.mem._tensor import Tensor\n",
            "_tensor.py": "from actnet.mem import helpers\nclass Tensor: ...\n",
        },
    )
    assert messages(package) == [
        "import cycle: actnet.mem -> actnet.mem._tensor -> actnet.mem"
    ]


def test_cycle_through_a_subpackage_init_is_caught(tmp_path: Path) -> None:
    # Importing optim.sgd first runs optim/__init__.py, which imports _module.
    package = make_layer(
        tmp_path,
        "mem",
        {
            "_module.py": "from actnet.mem.optim.sgd import SGD\n",
            "optim/__init__.py": "from actnet.mem._module import Module\n",
            "optim/sgd.py": "",
        },
    )
    assert messages(package) == [
        "import cycle: actnet.mem._module -> actnet.mem.optim -> actnet.mem._module"
    ]


def test_one_way_stack_passes(tmp_path: Path) -> None:
    package = make_layer(
        tmp_path,
        "mem",
        {
            "__init__.py": """
                from actnet.mem import optim
                from actnet.mem._a import A
                from actnet.mem._b import B
                __all__ = ["A", "B", "optim"]
            """,
            "_a.py": """
                from __future__ import annotations
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from actnet.mem._b import B  # for annotations: never runs
                class A:
                    def to(self) -> B: ...
                if TYPE_CHECKING:
                    from actnet.mem import _b  # after a definition, but never runs
            """,
            "_b.py": "from . import _a\nfrom ._a import A\nclass B(A): ...\n",
            "optim/__init__.py": "from actnet.mem.optim.sgd import SGD\n",
            "optim/sgd.py": (
                "from actnet.mem.optim import _base\n"
                "from actnet.mem._b import B\n"
                "class SGD(B): ...\n"
            ),
            "optim/_base.py": "",
        },
    )
    assert messages(package) == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(): ...\nimport os\n",
        "class A: ...\nfrom actnet.mem import _b\n",
        "class A: ...\nif True:\n    import os\n",
        "try:\n    class A: ...\nexcept ImportError:\n    from . import _b\n",
        "class A:\n    def f(self): ...\n    import os\n",
    ],
)
def test_import_after_definitions_is_caught(tmp_path: Path, source: str) -> None:
    package = make_layer(tmp_path, "mem", {"_a.py": source, "_b.py": ""})
    [message] = messages(package)
    assert message.startswith("import after definitions: a hidden cycle (")


def test_imports_before_definitions_pass(tmp_path: Path) -> None:
    source = '''
        """Docstring."""
        from __future__ import annotations
        import os
        __all__ = ["f"]
        LIMIT = 3
        from . import _b  # after statements, but before any definition
        def f():
            import json  # function-local: not module level
            return json, os
    '''
    package = make_layer(tmp_path, "mem", {"_a.py": source, "_b.py": ""})
    assert messages(package) == []


@pytest.mark.parametrize(
    "source",
    [
        "class Tensor: ...\ndef add(a, b): ...\nTensor.__add__ = add\n",
        "class Tensor: ...\nTensor.count += 1\n",
        "class Tensor: ...\nsetattr(Tensor, 'add', print)\n",
        "class Tensor: ...\ndef install():\n    Tensor.add = print\n",
        "class Tensor: ...\nclass B:\n    def f(self):\n        Tensor.add = print\n",
    ],
)
def test_patching_a_class_is_caught(tmp_path: Path, source: str) -> None:
    package = make_layer(tmp_path, "mem", {"_a.py": source})
    [message] = messages(package)
    assert message.endswith(
        "outside class Tensor: patching a class after its definition"
    )


def test_patching_a_class_from_another_module_is_caught(tmp_path: Path) -> None:
    package = make_layer(
        tmp_path,
        "mem",
        {
            "_tensor.py": "class Tensor: ...\n",
            "_ops.py": "from ._tensor import Tensor as T\nT.__mul__ = print\n",
        },
    )
    assert messages(package) == [
        "assigns T.__mul__ outside class Tensor: patching a class after its definition"
    ]


def test_class_state_inside_its_own_body_passes(tmp_path: Path) -> None:
    source = """
        class Tensor:
            count = 0
            def __init__(self):
                Tensor.count += 1  # the class's own state, in its own body
                self.add = print  # an instance attribute, not the class
            @classmethod
            def reset(cls):
                cls.count = 0
        def f(t, module):
            t.add = print
            module.Tensor = None  # an attribute of a module, not of Tensor
    """
    package = make_layer(tmp_path, "mem", {"_a.py": source})
    assert messages(package) == []
