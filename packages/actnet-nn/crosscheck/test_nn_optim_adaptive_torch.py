"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam against torch.optim
(PyTorch 2.13.0, CPU, the single-tensor path): same parameters, the same 100
gradients, every option combination that changes the update, in float32 and
float64; parameters and state within 1e-6 of the tensor's largest magnitude
(float32; 1e-10 in float64), the state under the same names, in the same
order, of the same dtypes. A state_dict taken mid-run (ours, or PyTorch's
converted) continues.

Not bit for bit in float32: PyTorch's CPU kernels fuse the multiply-adds of
`add(alpha=)`, `addcmul` and `lerp` (one rounding; actnet rounds each operation,
as its fused Adam and SGD do), and its float32 `sqrt` is not always correctly
rounded, so single elements differ by an ulp; after 100 steps the largest
difference is about 3e-7 of the tensor's scale. The weight decays of the grid
are powers of two, so that `weight_decay * param` is exact: otherwise the
gradient's L2 term `grad + weight_decay * param` is rounded once by PyTorch and
twice here, and where it cancels to almost nothing (|g| near eps / sqrt(1 -
alpha)) RMSprop's first step, g / (sqrt((1 - alpha) g^2) + eps), turns that ulp
into a difference of 1e-6 of the parameter. `test_any_weight_decay_stays_close`
runs weight_decay=0.01, within 1e-5 in float32. Adadelta takes two square roots
a step (one of them of its accumulated update), so in float32 its state is
within 2e-6 (about 1.1e-6 is seen)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import Adadelta, Adagrad, Adamax, NAdam, RAdam, RMSprop

torch.set_num_threads(2)

SHAPES = [(16, 8), (8,), (5, 3, 2)]
STEPS = 100
TOL = {np.float32: 1e-6, np.float64: 1e-10}
# PyTorch's options that select its implementation, which actnet does not take
IMPLEMENTATION_KEYS = {"foreach", "capturable", "differentiable", "fused"}
WD = 2**-7  # a weight decay whose products are exact (see the docstring)


def _data(dtype: Any) -> tuple[list[np.ndarray], list[list[np.ndarray | None]]]:
    rng = np.random.default_rng(42)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads: list[list[np.ndarray | None]] = []
    for step in range(STEPS):
        row: list[np.ndarray | None] = [
            rng.standard_normal(s).astype(dtype) for s in SHAPES
        ]
        if step % 7 == 3:
            row[2] = None  # a parameter without a gradient is skipped
        grads.append(row)
    return init, grads


DATA = {dtype: _data(dtype) for dtype in TOL}


def assert_close(ours: np.ndarray, theirs: np.ndarray, tol: float) -> None:
    """Within tol of the largest magnitude of theirs."""
    assert ours.dtype == theirs.dtype
    scale = max(float(np.abs(theirs).max()), np.finfo(theirs.dtype).tiny)
    diff = float(np.abs(ours - theirs).max())
    assert diff <= tol * scale, (diff, scale)


class Pair:
    """One of our optimizers and torch's, on equal parameters."""

    def __init__(self, ours: type[Any], options: dict[str, Any], dtype: Any) -> None:
        self.init, self.grads = DATA[dtype]
        self.tol = TOL[dtype] * (2 if ours is Adadelta and dtype is np.float32 else 1)
        self.params = [Parameter(at.tensor(x)) for x in self.init]
        self.tparams = [torch.nn.Parameter(torch.tensor(x)) for x in self.init]
        self.opt = ours(self.params, **options)
        theirs = getattr(torch.optim, ours.__name__)
        self.topt = theirs(self.tparams, foreach=False, **options)

    def step(self, i: int) -> None:
        for p, q, g in zip(self.params, self.tparams, self.grads[i], strict=True):
            p.grad = None if g is None else at.tensor(g)
            q.grad = None if g is None else torch.tensor(g)
        self.opt.step()
        self.topt.step()

    def check(self) -> None:
        for p, q in zip(self.params, self.tparams, strict=True):
            assert_close(p.detach().numpy(), q.detach().numpy(), self.tol)
            ours, theirs = self.opt.state[p], self.topt.state[q]
            assert list(ours) == list(theirs)
            for key, value in theirs.items():
                mine = ours[key].numpy()
                if key == "step":
                    assert mine.dtype == np.float32
                    assert mine == value.numpy()
                else:
                    assert_close(mine, value.numpy(), self.tol)


def _grid(**axes: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [
        dict(zip(axes, values, strict=True))
        for values in itertools.product(*axes.values())
    ]


CASES: list[tuple[type[Any], dict[str, Any]]] = (
    [
        (RMSprop, {"lr": 0.01, **o})
        for o in _grid(
            momentum=(0.0, 0.9),
            centered=(False, True),
            weight_decay=(0.0, WD),
            maximize=(False, True),
        )
    ]
    + [(RMSprop, {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "momentum": 0.5})]
    + [
        (Adagrad, {"lr": 0.05, **o})
        for o in _grid(
            lr_decay=(0.0, 0.01),
            weight_decay=(0.0, WD),
            initial_accumulator_value=(0.0, 0.1),
            maximize=(False, True),
        )
    ]
    + [(Adagrad, {"lr": 0.1, "eps": 1e-6})]
    + [
        (Adadelta, o)
        for o in _grid(
            lr=(1.0, 0.5),
            rho=(0.9,),
            weight_decay=(0.0, WD),
            maximize=(False, True),
        )
    ]
    + [(Adadelta, {"lr": 2.0, "rho": 0.5, "eps": 1e-4})]
    + [
        (Adamax, {"lr": 0.01, **o})
        for o in _grid(
            betas=((0.9, 0.999), (0.8, 0.9)),
            weight_decay=(0.0, 8 * WD),
            maximize=(False, True),
        )
    ]
    + [
        (cls, {"lr": 0.01, **o})
        for cls in (NAdam, RAdam)
        for o in _grid(
            weight_decay=(0.0, 8 * WD),
            decoupled_weight_decay=(False, True),
            maximize=(False, True),
        )
        if o["weight_decay"] or not o["decoupled_weight_decay"]
    ]
    + [
        (NAdam, {"lr": 0.02, "betas": (0.8, 0.95), "momentum_decay": 0.01}),
        (RAdam, {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6}),  # rho_t > 5 at 2
    ]
)
IDS = [f"{c.__name__}-{sorted(o.items())}" for c, o in CASES]


def _from_torch(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return at.tensor(value.numpy().copy())
    if isinstance(value, dict):
        return {k: _from_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_torch(v) for v in value]
    return value


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("ours", "options"), CASES, ids=IDS)
def test_100_steps_match_torch_and_state_dicts_continue(
    ours: type[Any], options: dict[str, Any], dtype: Any
) -> None:
    pair = Pair(ours, options, dtype)
    for i in range(STEPS // 2):
        pair.step(i)
        if i % 25 == 24:
            pair.check()
    # mid-run: our state_dict, loaded into a fresh optimizer over copies of the
    # parameters, and torch's, converted to actnet tensors, into another one
    twins = [Parameter(at.tensor(p.detach().numpy().copy())) for p in pair.params]
    twin = ours(twins, lr=1.0)
    twin.load_state_dict(pair.opt.state_dict())
    cousins = [Parameter(at.tensor(q.detach().numpy().copy())) for q in pair.tparams]
    cousin = ours(cousins, lr=1.0)
    cousin.load_state_dict(_from_torch(pair.topt.state_dict()))
    for i in range(STEPS // 2, STEPS):
        pair.step(i)
        for params, opt in ((twins, twin), (cousins, cousin)):
            for p, g in zip(params, pair.grads[i], strict=True):
                p.grad = None if g is None else at.tensor(g)
            opt.step()
        if i % 25 == 24:
            pair.check()
    for p, t, c, q in zip(pair.params, twins, cousins, pair.tparams, strict=True):
        # ours continues bitwise; from torch's state, within the tolerance
        np.testing.assert_array_equal(t.detach().numpy(), p.detach().numpy())
        assert_close(c.detach().numpy(), q.detach().numpy(), pair.tol)


LAYOUT: list[tuple[type[Any], dict[str, Any]]] = [
    (RMSprop, {"momentum": 0.9, "centered": True}),
    (RMSprop, {}),
    (Adagrad, {"lr_decay": 0.1}),
    (Adadelta, {}),
    (Adamax, {}),
    (NAdam, {"decoupled_weight_decay": True, "weight_decay": 8 * WD}),
    (RAdam, {}),
]


@pytest.mark.parametrize(
    ("ours", "options"), LAYOUT, ids=[c.__name__ for c, _ in LAYOUT]
)
def test_state_dict_layout_matches_torch(
    ours: type[Any], options: dict[str, Any]
) -> None:
    pair = Pair(ours, options, np.float32)
    for when in ("built", "stepped"):
        mine, theirs = pair.opt.state_dict(), pair.topt.state_dict()
        assert list(mine) == list(theirs), when
        assert list(mine["state"]) == list(theirs["state"]), when
        for k, state in theirs["state"].items():
            assert list(mine["state"][k]) == list(state), when
            for key, value in state.items():
                assert mine["state"][k][key].shape == tuple(value.shape)
        for group, tgroup in zip(
            mine["param_groups"], theirs["param_groups"], strict=True
        ):
            # the same keys in the same order, but for torch's implementation keys
            assert list(group) == [k for k in tgroup if k not in IMPLEMENTATION_KEYS]
            for key, value in group.items():
                assert value == tgroup[key], key
        pair.step(0)


INVALID: list[tuple[type[Any], dict[str, Any]]] = [
    (RMSprop, {"lr": -1}),
    (RMSprop, {"eps": -1e-8}),
    (RMSprop, {"momentum": -1.0}),
    (RMSprop, {"weight_decay": -1.0}),
    (RMSprop, {"alpha": -0.5}),
    (Adagrad, {"lr": -0.1}),
    (Adagrad, {"lr_decay": -1.0}),
    (Adagrad, {"weight_decay": -1.0}),
    (Adagrad, {"initial_accumulator_value": -1.0}),
    (Adagrad, {"eps": -1.0}),
    (Adadelta, {"lr": -1.0}),
    (Adadelta, {"rho": 1.5}),
    (Adadelta, {"rho": -0.1}),
    (Adadelta, {"eps": -1.0}),
    (Adadelta, {"weight_decay": -1.0}),
    (Adamax, {"lr": -1.0}),
    (Adamax, {"betas": (1.0, 0.9)}),
    (Adamax, {"betas": (0.9, -0.1)}),
    (NAdam, {"eps": -1.0}),
    (NAdam, {"betas": (0.9, 1.0)}),
    (NAdam, {"momentum_decay": -1.0}),
    (RAdam, {"weight_decay": -0.5}),
    (RAdam, {"betas": (-0.1, 0.9)}),
]


@pytest.mark.parametrize(("ours", "kwargs"), INVALID)
def test_invalid_options_give_torch_messages(
    ours: type[Any], kwargs: dict[str, Any]
) -> None:
    theirs = getattr(torch.optim, ours.__name__)
    with pytest.raises(ValueError) as expected:
        theirs([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError) as got:
        ours([Parameter(at.tensor([1.0]))], **kwargs)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("ours", [RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam])
def test_a_parameter_larger_than_a_block_matches_torch(ours: type[Any]) -> None:
    # 150,000 elements: our update goes block by block (65,536 elements each)
    rng = np.random.default_rng(9)
    init = rng.standard_normal((300, 500)).astype(np.float32)
    p = Parameter(at.tensor(init))
    q = torch.nn.Parameter(torch.tensor(init))
    options = {"lr": 0.01, "weight_decay": WD}
    opt, topt = (
        ours([p], **options),
        getattr(torch.optim, ours.__name__)([q], **options),
    )
    for _ in range(20):
        g = rng.standard_normal((300, 500)).astype(np.float32)
        p.grad, q.grad = at.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    tol = TOL[np.float32] * (2 if ours is Adadelta else 1)  # see the docstring
    assert_close(p.detach().numpy(), q.detach().numpy(), tol)
    for key, value in topt.state[q].items():
        if key != "step":
            assert_close(opt.state[p][key].numpy(), value.numpy(), tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("ours", [RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam])
def test_any_weight_decay_stays_close(ours: type[Any], dtype: Any) -> None:
    pair = Pair(ours, {"lr": 0.01, "weight_decay": 0.01, "maximize": True}, dtype)
    if dtype == np.float32:
        pair.tol = 1e-5  # see the module docstring
    for i in range(STEPS):
        pair.step(i)
    pair.check()
