"""Every hint in an actnet error message names something that exists.

The scan (hint_scan.py) reads every installed actnet package's source: the hints of
its exceptions and warnings (`use tensor.detach().numpy()`, "move one with ...",
`at.from_dlpack`) are resolved by import and getattr. actnet-util's tests see all
seven layers, so the scan runs here. The tests below feed it planted hints first,
so a scan that finds nothing is known to look.
"""

from __future__ import annotations

import textwrap

import hint_scan
import pytest


def _problems(source: str, layer: str = "tensor") -> list[str]:
    code = textwrap.dedent(source)
    return [p.hint for p in hint_scan.problems_in(code, "planted.py", layer)]


def test_every_hint_in_an_error_message_names_something_that_exists() -> None:
    problems = []
    scanned = set()
    for layer, path in hint_scan.source_files():
        scanned.add(layer)
        problems += hint_scan.problems_in(path.read_text(), str(path), layer)
    assert scanned == set(hint_scan.LAYERS)
    assert not problems, "hints that name nothing:\n" + "\n".join(map(str, problems))


def test_the_scan_finds_hints_in_every_layer() -> None:
    counts = dict.fromkeys(hint_scan.LAYERS, 0)
    for layer, path in hint_scan.source_files():
        for message in hint_scan.messages(path.read_text(), str(path), layer):
            counts[layer] += len(hint_scan.hints(message.text))
    assert all(n > 0 for n in counts.values()), counts
    assert sum(counts.values()) > 100, counts


def test_the_hints_issue_13_named_are_scanned() -> None:
    found = set()
    for layer, path in hint_scan.source_files():
        for message in hint_scan.messages(path.read_text(), str(path), layer):
            found.update(hint_scan.hints(message.text))
    assert {
        "Tensor.to",  # mixing cpu:0 and cpu:1 (it said "move one with copy_to")
        "tensor.detach().numpy()",
        "generate_square_subsequent_mask",  # MultiheadAttention's is_causal error
        "safetensors.torch.save_file(torch.load({}), {})",  # a torch.save file
    } <= found


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        # backticks, a call chain through a method's return type
        (
            'raise RuntimeError("use `tensor.detach().nupmy()`")',
            "tensor.detach().nupmy()",
        ),
        ('raise ValueError("call `model.too(...)`")', "model.too(...)"),
        ('raise ValueError("see `Device.copy_too`")', "Device.copy_too"),
        ('raise ValueError("use `at.from_dlpak`")', "at.from_dlpak"),
        ('raise ValueError("`generate_square_mask`")', "generate_square_mask"),
        ('raise ValueError("`actnet demo gtp`")', "actnet demo gtp"),
        # a call outside backticks, chained; a keyword the callee does not take
        (
            'raise RuntimeError("use tensor.detach().nupmy()")',
            "tensor.detach().nupmy()",
        ),
        ('raise RuntimeError("see x.detach().shap")', "x.detach().shap"),
        ('raise RuntimeError("use tensor.grad.zero()")', "tensor.grad.zero()"),
        ('raise TypeError("wrap it in no_gard()")', "no_gard()"),
        ('raise TypeError("use tensor.sum(dims=0)")', "tensor.sum(dims=0)"),
        ('raise TypeError("use at.zeros(2, devize=d)")', "at.zeros(2, devize=d)"),
        # code-shaped words after a hint verb
        (
            'raise ValueError(f"{op}: operands differ; move one with copy_too")',
            "copy_too",
        ),
        ('raise ValueError("use Tensor.too or Device.copy_to")', "Tensor.too"),
        ('raise ValueError("use frobnicate=True")', "frobnicate=True"),
        # a bare name outside the raising layer: Module.zero_grad is nn's
        ('raise ValueError("call zero_grad() first")', "zero_grad()"),
        # a warning, a module constant, a variable, a helper's argument
        ('warnings.warn("call `optimizer.stepp()`")', "optimizer.stepp()"),
        ('_RETAIN_MESSAGE = "use `Tensor.bakward()`"', "Tensor.bakward()"),
        (
            """
            def f(x):
                msg = f"{x}: use `at.wherre`"
                raise ValueError(msg)
            """,
            "at.wherre",
        ),
        (
            """
            def fail(what):
                raise ValueError(what)
            def g():
                fail("use `at.tril_`")
            """,
            "at.tril_",
        ),
        (
            """
            def why(name):
                return f"{name} is a pickle: use `at.lod`"
            def load(name):
                hint = why(name)
                raise ValueError(hint)
            """,
            "at.lod",
        ),
    ],
)
def test_a_planted_bad_hint_is_found(source: str, bad: str) -> None:
    assert _problems(source) == [bad]


@pytest.mark.parametrize(
    "source",
    [
        'raise RuntimeError("use `tensor.detach().numpy()`")',
        'raise ValueError("call `model.to(...)`, or input.to(dtype)")',
        'raise ValueError("see `Device.copy_to`, `at.from_dlpack`")',
        'raise ValueError("`actnet demo gpt`")',
        'raise ValueError("move one to the other with `Tensor.to`")',
        'raise TypeError("use sparse=False")',  # a parameter of a tensor function
        'raise TypeError("the `-` operator; `{}` is wrong")',  # no name in them
        'raise TypeError("save it with `torch.sav(...)` or `np.sve`")',  # theirs
        'raise ValueError("details: https://pytorch.org/docs/a.b_c.html")',
        'raise ValueError("expected 3D or 4D input, got 2D")',
        'raise ValueError("reshape to (n_samples, n_features)")',
        'print("use `at.nothing`")',  # not a message
        '"""Docstring: `at.nothing`."""',
        """
        def f(sparse):
            raise ValueError(f"`sparse` must be a bool, got {sparse!r}")
        """,
    ],
)
def test_a_good_hint_passes(source: str) -> None:
    assert _problems(textwrap.dedent(source), layer="neuron") == []


def test_a_bare_name_resolves_in_the_raising_layer_and_below() -> None:
    source = 'raise ValueError("call zero_grad()")'
    assert _problems(source, layer="nn") == []
    assert _problems(source, layer="tensor") == ["zero_grad()"]


def test_allowed_hints_each_give_a_reason() -> None:
    for hint, reason in hint_scan.ALLOWED.items():
        assert hint and len(reason) > 20, hint
