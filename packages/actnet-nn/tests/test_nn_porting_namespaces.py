"""Code ported from PyTorch reaches torch.nn and torch.optim through `torch`
(actnet.tensor, under the porting rule): importing actnet.nn registers them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import actnet.nn
import actnet.nn.functional
import actnet.nn.optim
import actnet.tensor as torch  # as ported code names it


def test_torch_nn_and_torch_optim_are_actnet_nn_and_its_optim() -> None:
    assert torch.nn is actnet.nn
    assert torch.optim is actnet.nn.optim
    assert torch.nn.functional is actnet.nn.functional
    assert torch.nn.utils.clip_grad_norm_ is actnet.nn.utils.clip_grad_norm_
    assert torch.optim.lr_scheduler.StepLR is actnet.nn.optim.lr_scheduler.StepLR


def test_a_file_that_only_imports_torch_finds_torch_nn() -> None:
    """PyTorch code that only does `import torch` (a model file that subclasses
    torch.nn.Module) finds torch.nn, torch.optim, torch.softmax and x.relu():
    in a fresh interpreter, asking actnet.tensor for them imports the layers
    above that provide them (installed here)."""
    code = """
        import sys
        import actnet.tensor as torch
        assert "actnet.nn" not in sys.modules and "actnet.neuron" not in sys.modules
        x = torch.tensor([[-1.0, 1.0]])
        print(x.relu().tolist(), "actnet.neuron" in sys.modules)
        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Linear(2, 1)
        opt = torch.optim.SGD(Model().parameters(), lr=0.1)
        print(type(opt).__name__, torch.softmax(x, 1).tolist())
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split("\n")[:2] == [
        "[[0.0, 1.0]] True",
        "SGD [[0.11920291930437088, 0.8807970881462097]]",
    ]
