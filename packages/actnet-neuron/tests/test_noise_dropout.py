from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at
from actnet.device import Generator
from actnet.ndarray import from_buffer


def mask(seed: int, p: float, shape: tuple[int, ...]) -> np.ndarray:
    """The keep-mask dropout draws from Generator(seed)."""
    return np.asarray(from_buffer(Generator(seed).bernoulli(1 - p, shape, "bool")))


# Identity and scaling: these cases also run against PyTorch (the crosscheck).
IDENTITY_CASES = [
    Case(
        "not training",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.dropout(x, p=0.4, training=False),
        lambda x: x,
        double_backward=True,
    ),
    Case(
        "p = 0",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.dropout(x, p=0.0),
        lambda x: x,
    ),
    Case(
        "p = 1: zeros",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.dropout(x, p=1.0),
        lambda x: np.zeros_like(x),
    ),
]
CASES = [
    *IDENTITY_CASES,
    Case(
        "p = 0.3, a seeded generator",
        lambda rng: [rng.standard_normal((4, 5))],
        lambda F, x: F.dropout(x, p=0.3, generator=Generator(7)),
        lambda x: x * mask(7, 0.3, x.shape) / 0.7,
        double_backward=True,
    ),
    Case(
        "p = 0.5 on a transposed view",
        lambda rng: [rng.standard_normal((6, 3))],
        lambda F, x: F.dropout(x.T, generator=Generator(1)),
        lambda x: x.T * mask(1, 0.5, (3, 6)) * 2,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_dropout(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_dropout_float32(case: Case) -> None:
    check_float32(case, F)


def test_dropout_statistics() -> None:
    p = 0.3
    y = F.dropout(at.ones(200_000), p=p, generator=Generator(3)).numpy()
    dropped = (y == 0).mean()
    assert abs(dropped - p) < 0.005  # about 5 standard deviations
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / (1 - p)], rtol=1e-6)


def test_dropout_draws_a_new_mask_each_call() -> None:
    x = at.ones(1000)
    gen = Generator(5)
    first, second = F.dropout(x, generator=gen), F.dropout(x, generator=gen)
    assert not np.array_equal(first.numpy(), second.numpy())
    again = F.dropout(x, generator=Generator(5))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    default_a, default_b = F.dropout(x), F.dropout(x)  # the default generator
    assert not np.array_equal(default_a.numpy(), default_b.numpy())


def test_dropout_gradient_is_the_mask_scaled() -> None:
    x = at.ones(50, requires_grad=True)
    y = F.dropout(x, p=0.2, generator=Generator(2))
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout_not_training_returns_the_input() -> None:
    x = at.randn(3)
    assert F.dropout(x, training=False) is x


def test_dropout_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="dropout: dropout probability has to be"):
        F.dropout(at.ones(2), p=1.5)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.dropout(at.ones(2, requires_grad=True), inplace=True)
    with pytest.raises(TypeError, match="dropout: input must have a floating"):
        F.dropout(at.tensor([1, 2]))
    with pytest.raises(TypeError, match="dropout: generator must be"):
        F.dropout(at.ones(2), generator=np.random.default_rng())  # type: ignore[arg-type]
