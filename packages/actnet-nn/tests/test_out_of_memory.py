"""Out of memory inside a model: the error names the operator and the module's
path, and a failed step leaves the parameters and the optimizer's state as they
were and frees all it made, so training goes on with a smaller batch (the
oracle: the same run without the failed step)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.device import Device, OutOfMemoryError, get_device
from actnet.nn import functional as F

DEVICE = "cpu:11"  # a device of these tests alone: its limit is theirs


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.Linear(32, 512)
        self.out = nn.Linear(512, 32)

    def forward(self, x: at.Tensor) -> at.Tensor:
        return x + self.out(F.relu(self.attn(x)))


def _model() -> nn.Module:
    at.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), Block(), Block(), nn.Linear(32, 5)).to(
        DEVICE
    )


@pytest.fixture
def device() -> Iterator[Device]:
    dev = get_device(DEVICE)
    yield dev
    dev.set_memory_limit(None)


def _batch(n: int, seed: int) -> tuple[at.Tensor, at.Tensor]:
    rng = np.random.default_rng(seed)
    x = at.tensor(rng.standard_normal((n, 16)).astype(np.float32)).to(DEVICE)
    y = at.tensor(rng.integers(0, 5, n)).to(DEVICE)
    return x, y


def test_the_error_names_the_operator_and_the_module_path(device: Device) -> None:
    model = _model()
    x, _ = _batch(4096, 0)  # (4096, 512) float32 activations: 8 MiB each
    device.set_memory_limit(device.memory_stats().reserved_bytes)
    with pytest.raises(OutOfMemoryError) as info:
        model(x)
    error = info.value
    # a Linear with a bias runs as the device's matmul_add (the bias added in cache)
    assert error.operator == "matmul_add"
    assert error.module == "1.attn"  # the first Block's first Linear
    assert "inside the module 1.attn (Linear)" in error.__notes__
    assert "raised by the operator 'matmul_add'" in error.__notes__


def _step(
    model: nn.Module, opt: nn.optim.Optimizer, batch: tuple[at.Tensor, at.Tensor]
) -> float:
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(batch[0]), batch[1])
    loss.backward()
    opt.step()
    return float(loss)


def _state(model: nn.Module, opt: nn.optim.Optimizer) -> list[np.ndarray]:
    values = [p.detach().numpy().copy() for p in model.parameters()]
    for state in opt.state.values():
        values += [v.detach().numpy().copy() for v in state.values()]
    return values


def test_training_goes_on_after_an_out_of_memory_step(device: Device) -> None:
    batches = [_batch(8, seed) for seed in range(6)]
    reference = _model()
    ref_opt = nn.optim.AdamW(reference.parameters(), lr=1e-2)
    expected = [_step(reference, ref_opt, b) for b in batches]

    model = _model()
    opt = nn.optim.AdamW(model.parameters(), lr=1e-2)
    losses = [_step(model, opt, b) for b in batches[:3]]
    before = _state(model, opt)
    opt.zero_grad(set_to_none=True)  # what the step does first
    used = device.memory_stats().used_bytes
    device.set_memory_limit(device.memory_stats().reserved_bytes)
    big = _batch(4096, 99)
    with pytest.raises(OutOfMemoryError):
        _step(model, opt, big)
    del big
    assert device.memory_stats().used_bytes == used  # every temporary freed
    for a, b in zip(_state(model, opt), before, strict=True):
        assert np.array_equal(a, b)
    losses += [_step(model, opt, b) for b in batches[3:]]  # within the same limit
    assert losses == expected
    for a, b in zip(_state(model, opt), _state(reference, ref_opt), strict=True):
        assert np.array_equal(a, b)
