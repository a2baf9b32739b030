"""SGD against a NumPy re-implementation of PyTorch's documented algorithm."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import SGD

SHAPES = [(4, 3), (5,)]
STEPS = 12


def _data(dtype: Any, seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [
        [rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)
    ]
    return init, grads


def sgd_reference(
    init: list[np.ndarray],
    grads: list[list[np.ndarray]],
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> list[np.ndarray]:
    """PyTorch's SGD, as its documentation writes it."""
    params = [p.copy() for p in init]
    bufs: list[np.ndarray | None] = [None] * len(params)
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            g = -g if maximize else g
            if weight_decay != 0:
                g = g + weight_decay * params[i]
            if momentum != 0:
                prev = bufs[i]
                buf = (
                    g.copy() if prev is None else momentum * prev + (1 - dampening) * g
                )
                bufs[i] = buf
                g = g + momentum * buf if nesterov else buf
            params[i] = params[i] - lr * g
    return params


def _run(
    init: list[np.ndarray], grads: list[list[np.ndarray]], **options: Any
) -> tuple[list[Parameter], SGD]:
    params = [Parameter(at.tensor(x)) for x in init]
    opt = SGD(params, **options)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = at.tensor(g)
        opt.step()
    return params, opt


COMBOS = [
    {"momentum": m, "dampening": d, "weight_decay": w, "nesterov": n, "maximize": x}
    for m, d, w, n, x in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (0.0, 0.1), (False, True), (False, True)
    )
    if not (n and (m == 0 or d != 0))
]


@pytest.mark.parametrize("options", COMBOS, ids=lambda o: repr(sorted(o.items())))
def test_matches_the_reference_in_float64(options: dict[str, Any]) -> None:
    init, grads = _data(np.float64)
    params, _ = _run(init, grads, lr=0.05, **options)
    expected = sgd_reference(init, grads, lr=0.05, **options)
    for p, e in zip(params, expected, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("options", COMBOS[::3], ids=lambda o: repr(sorted(o.items())))
def test_matches_the_reference_in_float32(options: dict[str, Any]) -> None:
    init, grads = _data(np.float32)
    params, _ = _run(init, grads, lr=0.05, **options)
    expected = sgd_reference(
        [x.astype(np.float64) for x in init],
        [[g.astype(np.float64) for g in gs] for gs in grads],
        lr=0.05,
        **options,
    )
    for p, e in zip(params, expected, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-5, atol=1e-5)


def test_default_lr_and_plain_step() -> None:
    p = Parameter(at.tensor([1.0, 2.0]))
    opt = SGD([p])
    assert opt.defaults["lr"] == 1e-3
    p.grad = at.tensor([10.0, -20.0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.99, 2.02], rtol=1e-6)
    assert len(opt.state) == 0  # no momentum, no state


def test_momentum_buffer_is_the_first_gradient_then_accumulates() -> None:
    p = Parameter(at.tensor([0.0]))
    opt = SGD([p], lr=1.0, momentum=0.5, dampening=0.5)
    p.grad = at.tensor([2.0])
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), [2.0])
    p.grad = at.tensor([4.0])
    opt.step()
    # 0.5 * 2 + (1 - 0.5) * 4
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), [3.0])
    np.testing.assert_array_equal(p.detach().numpy(), [-5.0])


def test_parameters_without_gradient_are_skipped() -> None:
    a = Parameter(at.tensor([1.0, 1.0]))
    b = Parameter(at.tensor([3.0]))
    opt = SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5)
    a.grad = at.tensor([1.0, -1.0])
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [3.0])
    assert b not in opt.state
    assert a in opt.state


def test_step_returns_the_closure_loss_computed_with_grad() -> None:
    p = Parameter(at.tensor([3.0]))
    opt = SGD([p], lr=0.25)

    def closure() -> at.Tensor:
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 9.0
    np.testing.assert_array_equal(p.detach().numpy(), [1.5])  # 3 - 0.25 * 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1}, "Invalid learning rate: -1"),
        ({"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"lr": 0.1, "weight_decay": -1e-2}, "Invalid weight_decay value: -0.01"),
        ({"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum"),
        (
            {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
            "Nesterov momentum requires a momentum and zero dampening",
        ),
    ],
)
def test_invalid_options_raise_as_in_pytorch(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SGD([Parameter(at.tensor([1.0]))], **kwargs)


def test_integer_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        SGD([at.tensor([1, 2])], lr=0.1)


@pytest.mark.parametrize("transposed_grad", [False, True])
@pytest.mark.parametrize(
    "options",
    [
        {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1, "maximize": True},
        {"momentum": 0.5, "dampening": 0.3},
        {},
    ],
)
def test_large_parameters_match_the_reference(
    transposed_grad: bool, options: dict[str, Any]
) -> None:
    # Larger than the optimizer's block (65536 elements): updated block by block
    # when every operand is contiguous, whole otherwise (a transposed gradient).
    rng = np.random.default_rng(3)
    shape = (300, 517)
    init = [rng.standard_normal(shape)]
    grads = [[rng.standard_normal(shape)] for _ in range(3)]
    p = Parameter(at.tensor(init[0]))
    opt = SGD([p], lr=0.05, **options)
    for (g,) in grads:
        p.grad = at.tensor(g.T.copy()).T if transposed_grad else at.tensor(g)
        opt.step()
    full = {
        "momentum": 0.0,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
        "maximize": False,
    }
    expected = sgd_reference(init, grads, lr=0.05, **(full | options))
    np.testing.assert_allclose(p.detach().numpy(), expected[0], rtol=1e-12, atol=1e-13)
