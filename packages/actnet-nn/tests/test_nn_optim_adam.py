"""Adam and AdamW against a NumPy re-implementation of PyTorch's documented
algorithm (the single-tensor form, with its bias corrections)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import Adam, AdamW

SHAPES = [(3, 4), (6,)]
STEPS = 15


def _data(dtype: Any, seed: int = 1) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [
        [rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)
    ]
    return init, grads


def adam_reference(
    init: list[np.ndarray],
    grads: list[list[np.ndarray]],
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled: bool,
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Adam / AdamW as PyTorch documents them."""
    beta1, beta2 = betas
    params = [p.copy() for p in init]
    states: list[dict[str, Any]] = [
        {
            "step": 0,
            "exp_avg": np.zeros_like(p),
            "exp_avg_sq": np.zeros_like(p),
            "max_exp_avg_sq": np.zeros_like(p),
        }
        for p in params
    ]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            s = states[i]
            s["step"] += 1
            t = s["step"]
            g = -g if maximize else g
            if weight_decay != 0:
                if decoupled:
                    params[i] = params[i] * (1 - lr * weight_decay)
                else:
                    g = g + weight_decay * params[i]
            s["exp_avg"] = beta1 * s["exp_avg"] + (1 - beta1) * g
            s["exp_avg_sq"] = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
            v = s["exp_avg_sq"]
            if amsgrad:
                s["max_exp_avg_sq"] = np.maximum(s["max_exp_avg_sq"], v)
                v = s["max_exp_avg_sq"]
            m_hat = s["exp_avg"] / (1 - beta1**t)
            denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
            params[i] = params[i] - lr * m_hat / denom
    return params, states


def _run(
    cls: type[Adam], init: list[np.ndarray], grads: list[list[np.ndarray]], **kw: Any
) -> tuple[list[Parameter], Adam]:
    params = [Parameter(at.tensor(x)) for x in init]
    opt = cls(params, **kw)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = at.tensor(g)
        opt.step()
    return params, opt


COMBOS = [
    {"weight_decay": w, "amsgrad": a, "maximize": m}
    for w, a, m in itertools.product((0.0, 0.1), (False, True), (False, True))
]
CLASSES = [(Adam, False), (AdamW, True)]


@pytest.mark.parametrize(("cls", "decoupled"), CLASSES)
@pytest.mark.parametrize("options", COMBOS, ids=lambda o: repr(sorted(o.items())))
def test_matches_the_reference_in_float64(
    cls: type[Adam], decoupled: bool, options: dict[str, Any]
) -> None:
    init, grads = _data(np.float64)
    hyper: dict[str, Any] = {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6}
    params, opt = _run(cls, init, grads, **hyper, **options)
    expected, states = adam_reference(
        init, grads, **hyper, **options, decoupled=decoupled
    )
    for p, e, s in zip(params, expected, states, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-11, atol=1e-12)
        state = opt.state[p]
        np.testing.assert_allclose(state["exp_avg"].numpy(), s["exp_avg"], rtol=1e-11)
        np.testing.assert_allclose(
            state["exp_avg_sq"].numpy(), s["exp_avg_sq"], rtol=1e-11
        )
        assert ("max_exp_avg_sq" in state) == options["amsgrad"]
        if options["amsgrad"]:
            np.testing.assert_allclose(
                state["max_exp_avg_sq"].numpy(), s["max_exp_avg_sq"], rtol=1e-11
            )


@pytest.mark.parametrize(("cls", "decoupled"), CLASSES)
@pytest.mark.parametrize("options", COMBOS[::3], ids=lambda o: repr(sorted(o.items())))
def test_matches_the_reference_in_float32(
    cls: type[Adam], decoupled: bool, options: dict[str, Any]
) -> None:
    init, grads = _data(np.float32)
    hyper: dict[str, Any] = {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}
    params, _ = _run(cls, init, grads, **hyper, **options)
    expected, _ = adam_reference(
        [x.astype(np.float64) for x in init],
        [[g.astype(np.float64) for g in gs] for gs in grads],
        **hyper,
        **options,
        decoupled=decoupled,
    )
    for p, e in zip(params, expected, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-5, atol=1e-5)


def test_step_is_a_float32_scalar_tensor_counting_steps() -> None:
    init, grads = _data(np.float32)
    params, opt = _run(AdamW, init, grads[:3])
    step = opt.state[params[0]]["step"]
    assert isinstance(step, at.Tensor)
    assert step.shape == ()
    assert step.dtype == np.float32
    assert float(step) == 3.0


def test_first_step_moves_each_element_by_lr() -> None:
    # m_hat = g and v_hat = g * g at step 1, so the update is lr * sign(g).
    p = Parameter(at.tensor([1.0, 1.0, 1.0], dtype="float64"))
    opt = Adam([p], lr=0.1, eps=0.0)
    p.grad = at.tensor([3.0, -0.5, 7.0], dtype="float64")
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 1.1, 0.9], rtol=1e-15)


def test_adamw_defaults_and_decoupled_decay() -> None:
    p = Parameter(at.tensor([2.0], dtype="float64"))
    opt = AdamW([p], lr=0.5)
    assert opt.defaults["weight_decay"] == 1e-2
    assert opt.defaults["betas"] == (0.9, 0.999)
    assert opt.defaults["eps"] == 1e-8
    p.grad = at.tensor([0.0], dtype="float64")
    opt.step()
    # zero gradient: only the decay acts, 2 * (1 - 0.5 * 0.01)
    np.testing.assert_allclose(p.detach().numpy(), [1.99], rtol=1e-15)


def test_adam_with_decoupled_weight_decay_is_adamw() -> None:
    init, grads = _data(np.float64)
    a, _ = _run(Adam, init, grads, weight_decay=0.1, decoupled_weight_decay=True)
    b, _ = _run(AdamW, init, grads, weight_decay=0.1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


def test_parameters_without_gradient_are_skipped() -> None:
    a = Parameter(at.tensor([1.0]))
    b = Parameter(at.tensor([5.0]))
    opt = AdamW([a, b], lr=0.1, weight_decay=0.5)
    a.grad = at.tensor([1.0])
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [5.0])
    assert b not in opt.state


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1}, "Invalid learning rate: -1"),
        ({"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ],
)
def test_invalid_options_raise_as_in_pytorch(
    cls: type[Adam], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cls([Parameter(at.tensor([1.0]))], **kwargs)


@pytest.mark.parametrize("transposed_grad", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_large_parameters_match_the_reference(
    transposed_grad: bool, amsgrad: bool
) -> None:
    # Larger than the optimizer's block (65536 elements): updated block by block
    # when every operand is contiguous, whole otherwise (a transposed gradient).
    rng = np.random.default_rng(5)
    shape = (300, 517)
    init = [rng.standard_normal(shape)]
    grads = [[rng.standard_normal(shape)] for _ in range(3)]
    p = Parameter(at.tensor(init[0]))
    opt = AdamW([p], lr=0.01, weight_decay=0.1, amsgrad=amsgrad, maximize=True)
    for (g,) in grads:
        p.grad = at.tensor(g.T.copy()).T if transposed_grad else at.tensor(g)
        opt.step()
    expected, _ = adam_reference(
        init,
        grads,
        lr=0.01,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.1,
        amsgrad=amsgrad,
        maximize=True,
        decoupled=True,
    )
    np.testing.assert_allclose(p.detach().numpy(), expected[0], rtol=1e-11, atol=1e-12)
