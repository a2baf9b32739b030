"""The optimizers' fused path: one device call (sgd_update / adam_update) per group
and dtype, for a Module's parameters filled by backward and for standalone
Parameters whose gradients the user assigns; the same values as the blocked
update of separate device operations, which serves what the fused one does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.nn import Linear, Parameter, ReLU, Sequential
from actnet.nn.optim import SGD, Adam, AdamW
from actnet.nn.optim.optimizer import Optimizer

OPTIMIZERS: list[tuple[type[Any], dict[str, Any]]] = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "maximize": True}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    (Adam, {"lr": 0.01, "betas": (0.3, 0.9)}),
    (AdamW, {"lr": 0.01, "betas": (0.9, 0.95), "weight_decay": 0.1}),
    (AdamW, {"lr": 0.01, "amsgrad": True}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(OPTIMIZERS)]
OP = {SGD: "sgd_update", Adam: "adam_update", AdamW: "adam_update"}


def _spy(monkeypatch: pytest.MonkeyPatch, device: Any, op: str) -> list[int]:
    """Count the tensors of each call of device.<op>."""
    calls: list[int] = []
    real: Callable[..., None] = getattr(device, op)

    def spy(params: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(len(params))
        real(params, *args, **kwargs)

    monkeypatch.setattr(device, op, spy)
    return calls


def _blocked(opt: Optimizer) -> Optimizer:
    """opt, made to take the blocked update of separate device operations."""

    def update(group: dict[str, Any], work: list[Any]) -> None:
        Optimizer._update_group(opt, group, work)

    opt._update_group = update  # type: ignore[method-assign]  # the other path
    return opt


def _standalone(seed: int, dtypes: tuple[Any, ...] = (np.float32,)) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    shapes = [(8, 5), (5,), (), (3, 1, 2)]
    return [
        Parameter(at.tensor(rng.standard_normal(s).astype(dtypes[i % len(dtypes)])))
        for i, s in enumerate(shapes)
    ]


def _assign_grads(params: list[Parameter], step: int) -> None:
    rng = np.random.default_rng(100 + step)
    for p in params:
        p.grad = at.tensor(rng.standard_normal(p.shape).astype(p.dtype))


def _values(opt: Optimizer, params: list[Parameter]) -> list[np.ndarray]:
    out = [p.detach().numpy().copy() for p in params]
    for p in params:
        for v in opt.state[p].values():
            if isinstance(v, at.Tensor):
                out.append(v.detach().numpy().copy())
    return out


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=IDS)
def test_module_parameters_take_one_call_per_step(
    cls: type[Any], options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    model = Sequential(Linear(6, 16), ReLU(), Linear(16, 3))
    opt = cls(model.parameters(), **options)
    device = next(iter(model.parameters())).device
    calls = _spy(monkeypatch, device, OP[cls])
    x = at.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).sum().backward()
        opt.step()
    assert calls == [4, 4, 4]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=IDS)
def test_standalone_parameters_equal_the_blocked_update(
    cls: type[Any], options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Assigned gradients, float32 and float64 parameters in one group (one call
    per dtype), over steps in which one parameter has no gradient at first: bit
    for bit the blocked update's values (small tensors: no BLAS on either)."""
    params = _standalone(1, (np.float32, np.float64))
    twins = _standalone(1, (np.float32, np.float64))
    opt = cls(params, **options)
    twin = _blocked(cls(twins, **options))
    calls = _spy(monkeypatch, params[0].device, OP[cls])
    for step in range(4):
        for ps in (params, twins):
            _assign_grads(ps, step)
            if step == 0:
                ps[1].grad = None  # its state starts a step later
        opt.step()
        twin.step()
        for got, want in zip(_values(opt, params), _values(twin, twins), strict=True):
            np.testing.assert_array_equal(got, want)
    # float32: parameters 0 and 2; float64: 1 (no gradient at first) and 3
    assert calls == [2, 1] + [2, 2] * 3


def test_sgd_on_complex_parameters_is_fused_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(2)
    value = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).astype(np.complex64)
    p, q = Parameter(at.tensor(value)), Parameter(at.tensor(value.copy()))
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    twin = _blocked(SGD([q], lr=0.1, momentum=0.9, weight_decay=0.1))
    calls = _spy(monkeypatch, p.device, "sgd_update")
    for _ in range(3):
        g = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).astype(np.complex64)
        p.grad, q.grad = at.tensor(g), at.tensor(g.copy())
        opt.step()
        twin.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert calls == [1, 1, 1]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS[1::2], ids=IDS[1::2])
def test_large_parameters_agree_with_the_blocked_update(
    cls: type[Any], options: dict[str, Any]
) -> None:
    """Tensors of the threaded kernel and of the blocked path's BLAS axpy (which
    may fuse its multiply-add): equal to that rounding."""
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(s).astype(np.float32) for s in [(300, 517), (70,)]]
    params = [Parameter(at.tensor(v)) for v in values]
    twins = [Parameter(at.tensor(v.copy())) for v in values]
    opt, twin = cls(params, **options), _blocked(cls(twins, **options))
    for step in range(3):
        _assign_grads(params, step)
        _assign_grads(twins, step)
        opt.step()
        twin.step()
    for got, want in zip(_values(opt, params), _values(twin, twins), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_a_gradient_on_another_device_takes_the_blocked_update() -> None:
    """Not the fused operator's case: the blocked update refuses it, as before."""
    p = Parameter(at.tensor(np.ones(3, np.float32)))
    p.grad = at.tensor(np.ones(3, np.float32), device="cpu:1")
    with pytest.raises(ValueError, match="cpu:1"):
        SGD([p], lr=0.1).step()
    with pytest.raises(ValueError, match="cpu:1"):
        Adam([p], lr=0.1).step()
