"""SGD, Adam and AdamW against torch.optim (PyTorch 2.13.0, CPU, its default
single-tensor path): same float32 parameters, the same 100 gradients, every
option combination; parameters and state within 1e-5. A state_dict taken mid-run
(ours, or PyTorch's converted) continues exactly."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import SGD, Adam, AdamW, Optimizer

torch.set_num_threads(2)

SHAPES = [(16, 8), (8,), (5, 3, 2)]
STEPS = 100
TOL = 1e-5


def _data() -> tuple[list[np.ndarray], list[list[np.ndarray | None]]]:
    rng = np.random.default_rng(42)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads: list[list[np.ndarray | None]] = []
    for step in range(STEPS):
        row: list[np.ndarray | None] = [
            rng.standard_normal(s).astype(np.float32) for s in SHAPES
        ]
        if step % 7 == 3:
            row[2] = None  # a parameter without a gradient is skipped
        grads.append(row)
    return init, grads


INIT, GRADS = _data()


class Pair:
    """One of our optimizers and torch's, on equal parameters."""

    def __init__(
        self, ours: type[Optimizer], theirs: type[Any], options: dict[str, Any]
    ) -> None:
        self.params = [Parameter(at.tensor(x)) for x in INIT]
        self.tparams = [torch.nn.Parameter(torch.tensor(x)) for x in INIT]
        self.opt = ours(self.params, **options)
        self.topt = theirs(self.tparams, **options)

    def step(self, i: int) -> None:
        for p, q, g in zip(self.params, self.tparams, GRADS[i], strict=True):
            p.grad = None if g is None else at.tensor(g)
            q.grad = None if g is None else torch.tensor(g)
        self.opt.step()
        self.topt.step()

    def check(self) -> None:
        for p, q in zip(self.params, self.tparams, strict=True):
            diff = np.abs(p.detach().numpy() - q.detach().numpy()).max()
            assert diff <= TOL, diff
            ours, theirs = self.opt.state[p], self.topt.state[q]
            assert set(ours) == set(theirs)
            for key, value in theirs.items():
                if isinstance(value, torch.Tensor):
                    assert ours[key].dtype == np.dtype(str(value.dtype)[6:])
                    np.testing.assert_allclose(
                        ours[key].numpy(), value.numpy(), rtol=TOL, atol=TOL
                    )


SGD_OPTIONS = [
    {
        "lr": 0.01,
        "momentum": m,
        "dampening": d,
        "weight_decay": w,
        "nesterov": n,
        "maximize": x,
    }
    for m, d, w, n, x in itertools.product(
        (0.0, 0.9), (0.0, 0.1), (0.0, 0.01), (False, True), (False, True)
    )
    if not (n and (m == 0 or d != 0))
]
ADAM_OPTIONS = [
    {"lr": lr, "betas": b, "eps": 1e-8, "weight_decay": w, "amsgrad": a, "maximize": x}
    for (lr, b), w, a, x in itertools.product(
        ((1e-3, (0.9, 0.999)), (3e-2, (0.8, 0.95))),
        (0.0, 0.1),
        (False, True),
        (False, True),
    )
]
CASES = (
    [(SGD, torch.optim.SGD, o) for o in SGD_OPTIONS]
    + [(Adam, torch.optim.Adam, o) for o in ADAM_OPTIONS]
    + [(AdamW, torch.optim.AdamW, o) for o in ADAM_OPTIONS]
    + [
        (
            AdamW,
            torch.optim.AdamW,
            {"lr": 3e-4, "betas": (0.9, 0.95), "weight_decay": 0.1},
        )
    ]
)
IDS = [f"{c.__name__}-{sorted(o.items())}" for c, _, o in CASES]


def _from_torch(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return at.tensor(value.numpy().copy())
    if isinstance(value, dict):
        return {k: _from_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_torch(v) for v in value]
    return value


@pytest.mark.parametrize(("ours", "theirs", "options"), CASES, ids=IDS)
def test_100_steps_match_torch_and_state_dicts_continue(
    ours: type[Optimizer], theirs: type[Any], options: dict[str, Any]
) -> None:
    pair = Pair(ours, theirs, options)
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
            for p, g in zip(params, GRADS[i], strict=True):
                p.grad = None if g is None else at.tensor(g)
            opt.step()
        if i % 25 == 24:
            pair.check()
    for p, t, c, q in zip(pair.params, twins, cousins, pair.tparams, strict=True):
        # ours continues bitwise; from torch's state, within the tolerance
        np.testing.assert_array_equal(t.detach().numpy(), p.detach().numpy())
        diff = np.abs(c.detach().numpy() - q.detach().numpy()).max()
        assert diff <= TOL, diff


def test_state_dict_layout_matches_torch() -> None:
    pair = Pair(AdamW, torch.optim.AdamW, {"lr": 1e-3, "amsgrad": True})
    pair.step(0)
    ours, theirs = pair.opt.state_dict(), pair.topt.state_dict()
    assert set(ours) == set(theirs)
    assert ours["state"].keys() == theirs["state"].keys()
    for k in theirs["state"]:
        assert ours["state"][k].keys() == theirs["state"][k].keys()
        step = ours["state"][k]["step"]
        assert step.shape == () and step.dtype == np.float32
    assert [g["params"] for g in ours["param_groups"]] == [
        g["params"] for g in theirs["param_groups"]
    ]
    for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
        assert ours["param_groups"][0][key] == theirs["param_groups"][0][key]


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [
        (SGD, torch.optim.SGD, {"lr": -1}),
        (SGD, torch.optim.SGD, {"lr": 0.1, "momentum": -1.0}),
        (SGD, torch.optim.SGD, {"lr": 0.1, "weight_decay": -1.0}),
        (SGD, torch.optim.SGD, {"lr": 0.1, "nesterov": True}),
        (Adam, torch.optim.Adam, {"lr": -1}),
        (Adam, torch.optim.Adam, {"eps": -1.0}),
        (Adam, torch.optim.Adam, {"betas": (1.0, 0.9)}),
        (AdamW, torch.optim.AdamW, {"betas": (0.9, 1.5)}),
        (AdamW, torch.optim.AdamW, {"weight_decay": -0.5}),
    ],
)
def test_invalid_options_give_torch_messages(
    ours: type[Any], theirs: type[Any], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError) as expected:
        theirs([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError) as got:
        ours([Parameter(at.tensor([1.0]))], **kwargs)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    ("ours", "theirs", "options"),
    [
        (AdamW, torch.optim.AdamW, {"lr": 3e-4, "betas": (0.9, 0.95)}),
        (Adam, torch.optim.Adam, {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
        (SGD, torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True}),
    ],
)
def test_a_parameter_larger_than_a_block_matches_torch(
    ours: type[Optimizer], theirs: type[Any], options: dict[str, Any]
) -> None:
    # 150,000 elements: our update goes block by block (65,536 elements each)
    rng = np.random.default_rng(9)
    init = rng.standard_normal((300, 500)).astype(np.float32)
    p = Parameter(at.tensor(init))
    q = torch.nn.Parameter(torch.tensor(init))
    opt, topt = ours([p], **options), theirs([q], **options)
    for _ in range(STEPS):
        g = rng.standard_normal((300, 500)).astype(np.float32)
        p.grad, q.grad = at.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    diff = np.abs(p.detach().numpy() - q.detach().numpy()).max()
    assert diff <= TOL, diff
