"""util_porting.port_source, the porting rule's import rewrite: each form of
import statement, what it leaves alone, that line numbers do not move, and that
every path of the map is a module on both sides (torch 2.13.0 and actnet)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from util_porting import IMPORT_MAP, PortingError, load_source, map_module, port_source

import actnet.nn
import actnet.nn.functional
import actnet.nn.optim
import actnet.nn.optim.lr_scheduler
import actnet.tensor
import actnet.tensor.checkpoint
import actnet.util.data

REWRITES = [
    ("import torch\n", "import actnet.tensor as torch\n"),
    ("import torch.nn as nn\n", "import actnet.nn as nn\n"),
    ("import torch.nn.functional as F\n", "import actnet.nn.functional as F\n"),
    ("import torch.optim as optim\n", "import actnet.nn.optim as optim\n"),
    (
        "from torch.optim.lr_scheduler import StepLR\n",
        "from actnet.nn.optim.lr_scheduler import StepLR\n",
    ),
    (
        "from torch.utils.data import DataLoader, Dataset\n",
        "from actnet.util.data import DataLoader, Dataset\n",
    ),
    (
        "from torch.utils.data.dataloader import DataLoader\n",
        "from actnet.util.data.dataloader import DataLoader\n",
    ),
    (
        "from torch.utils.checkpoint import checkpoint\n",
        "from actnet.tensor.checkpoint import checkpoint\n",
    ),
    ("from torch.nn import functional as F\n", "import actnet.nn.functional as F\n"),
    ("from torch import nn\n", "import actnet.nn as nn\n"),
    ("from torch import optim as O\n", "import actnet.nn.optim as O\n"),
    ("from torch import Tensor\n", "from actnet.tensor import Tensor\n"),
    (
        "from torch import nn, Tensor as T\n",
        "from actnet.tensor import Tensor as T; import actnet.nn as nn\n",
    ),
    ("from torch.nn import Linear\n", "from actnet.nn import Linear\n"),
    ("import torch.nn\n", "import actnet.nn, actnet.tensor as torch\n"),
    ("import os, torch\n", "import os, actnet.tensor as torch\n"),
    ("import torch as T\n", "import actnet.tensor as T\n"),
]


@pytest.mark.parametrize(("source", "expected"), REWRITES, ids=[r[0] for r in REWRITES])
def test_each_import_form_is_rewritten(source: str, expected: str) -> None:
    assert port_source(source) == expected
    compile(expected, "<rewrite>", "exec")


UNTOUCHED = [
    "import numpy as np\n",
    "import torchvision\n",  # torch's prefix, another package
    "from torchvision import datasets\n",
    "from . import model\n",
    "x = 'import torch'\n",  # a string, not a statement
    "# import torch\n",
    "torch_like = 1\n",
]


@pytest.mark.parametrize("source", UNTOUCHED)
def test_everything_else_is_left_as_it_is(source: str) -> None:
    assert port_source(source) == source


def test_indentation_comments_and_line_numbers_are_kept() -> None:
    source = (
        "def f():\n"
        "    import torch  # inside a function\n"
        "    try:\n"
        "        from torch.nn import (\n"
        "            Linear,\n"
        "            ReLU,\n"
        "        )\n"
        "    except ImportError:\n"
        "        pass\n"
        "    return torch, Linear, ReLU\n"
        "x = 1  # import torch\n"
    )
    ported = port_source(source)
    assert ported.splitlines()[1] == (
        "    import actnet.tensor as torch  # inside a function"
    )
    assert ported.splitlines()[3] == "        from actnet.nn import Linear, ReLU"
    assert ported.count("\n") == source.count("\n")
    assert ported.splitlines()[9:] == source.splitlines()[9:]
    module = load_source("m", ported)
    assert module.f() == (actnet.tensor, actnet.nn.Linear, actnet.nn.ReLU)


def test_the_rewrite_is_idempotent_and_leaves_no_torch_import() -> None:
    for path in sorted((Path(__file__).parent / "ported").glob("*.py")):
        ported = port_source(path.read_text())
        assert port_source(ported) == ported
        assert "import torch" not in ported.replace("# import torch", "")
        compile(ported, str(path), "exec")


def test_an_import_sharing_its_line_is_refused() -> None:
    with pytest.raises(PortingError, match="line 1: an import sharing its line"):
        port_source("x = 1; import torch\n")
    with pytest.raises(PortingError, match="line 1"):
        port_source("import torch; x = 1\n")


def test_the_names_bound_are_actnets() -> None:
    module = load_source(
        "bound",
        port_source(
            "import torch\n"
            "import torch.nn as nn\n"
            "import torch.nn.functional as F\n"
            "from torch import optim\n"
            "from torch.utils.data import DataLoader\n"
            "from torch.utils.checkpoint import checkpoint\n"
        ),
    )
    assert module.torch is actnet.tensor
    assert module.nn is actnet.nn
    assert module.F is actnet.nn.functional
    assert module.optim is actnet.nn.optim
    assert module.DataLoader is actnet.util.data.DataLoader
    assert module.checkpoint is actnet.tensor.checkpoint.checkpoint
    # and torch's submodules through `torch`, as torch's own code reaches them
    assert module.torch.nn.utils is actnet.nn.utils
    assert module.torch.optim.lr_scheduler is actnet.nn.optim.lr_scheduler
    assert module.torch.utils.data is actnet.util.data
    assert module.torch.utils.checkpoint is actnet.tensor.checkpoint


@pytest.mark.parametrize(("theirs", "mine"), IMPORT_MAP)
def test_every_path_of_the_map_is_a_module_on_both_sides(
    theirs: str, mine: str
) -> None:
    importlib.import_module(theirs)
    importlib.import_module(mine)
    assert map_module(theirs) == mine
    assert map_module(theirs + ".x.y") == mine + ".x.y"
