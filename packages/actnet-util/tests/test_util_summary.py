"""summary(model, *inputs): each row against an independent measurement of the
same thing (parameter counts from the tensors, bytes from the allocator around a
plain forward of the module alone)."""

from __future__ import annotations

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.util import summary


def _model() -> nn.Module:
    at.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 256),
        nn.ReLU(),
        nn.Sequential(nn.Linear(256, 256), nn.ReLU()),
        nn.Linear(256, 10),
    )


def _block(nbytes: int, alignment: int) -> int:
    return -(-nbytes // alignment) * alignment


def test_rows_equal_independent_measurements() -> None:
    model = _model()
    x = at.randn(16, 64)
    s = summary(model, x)
    names = [r.path for r in s.rows]
    assert names == [name for name, _ in model.named_modules()]
    modules = dict(model.named_modules())
    for r in s.rows:
        own = list(modules[r.path].parameters(recurse=False))
        assert r.parameters == sum(int(np.prod(p.shape)) for p in own)
        assert r.parameter_bytes == sum(p.detach().numpy().nbytes for p in own)
    assert s.parameters == sum(int(np.prod(p.shape)) for p in model.parameters())
    assert [r.output_shape for r in s.rows] == [
        (16, 10), (16, 256), (16, 256), (16, 256), (16, 256), (16, 256), (16, 10)
    ]  # fmt: skip
    allocator = x.device.allocator
    align = allocator.alignment
    # the whole model: what a plain forward leaves allocated, less its output
    before = allocator.used_bytes()
    out = model(x)
    assert s.saved_bytes == allocator.used_bytes() - before - _block(16 * 10 * 4, align)
    del out
    # a ReLU keeps its mask (a bool per element), and nothing else
    assert s.rows[2].saved_bytes == _block(16 * 256, align)
    # each module's peak: the allocator's, around a forward of it alone
    for r, inp in ((s.rows[1], x), (s.rows[6], at.randn(16, 256))):
        module = modules[r.path]
        allocator.reset_peak()
        start = allocator.used_bytes()
        kept = module(inp)
        assert r.peak_bytes == allocator.peak_bytes() - start
        del kept
    text = str(s)
    assert text.splitlines()[0].split() == [
        "module", "type", "output", "params", "param", "bytes", "saved", "peak"
    ]  # fmt: skip
    lines = text.splitlines()
    assert lines[1].startswith("(model)  Sequential")
    assert lines[5].startswith("    0 ")  # 2.0, nested twice: indented twice
    assert f"total: {s.parameters:,} parameters" in text


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"model must be an nn\.Module"):
        summary(object())  # type: ignore[arg-type]  # the refusal is tested
    with pytest.raises(ValueError, match="needs a model with parameters"):
        summary(nn.ReLU(), 3.0)
