"""InstanceNorm1d/2d/3d and the padding layers against torch.nn, through the
layer crosscheck's harness (test_nn_layers_torch): each built with the same
arguments in both libraries, torch's state dict loaded into ours, then outputs,
input and parameter gradients in train and eval mode, the running statistics
after each mode, repr text and state-dict keys compared, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_nn_layers_torch import Case, _build, _compare, _np, _run, floats

import actnet.tensor as at
from actnet import nn

INSTANCE_NORMS = [
    Case(
        "InstanceNorm1d", lambda lib, **f: lib.InstanceNorm1d(4, **f), floats(3, 4, 6)
    ),
    Case(
        "InstanceNorm1d-unbatched-affine",
        lambda lib, **f: lib.InstanceNorm1d(4, affine=True, **f),
        floats(4, 6),
    ),
    Case(
        "InstanceNorm1d-track",
        lambda lib, **f: lib.InstanceNorm1d(
            4, momentum=0.3, track_running_stats=True, **f
        ),
        floats(3, 4, 6),
        steps=3,
    ),
    Case(
        "InstanceNorm2d-affine-track",
        lambda lib, **f: lib.InstanceNorm2d(
            3, affine=True, track_running_stats=True, **f
        ),
        floats(2, 3, 4, 5),
        steps=3,
    ),
    Case(
        "InstanceNorm2d-nobias-eps",
        lambda lib, **f: lib.InstanceNorm2d(3, eps=1e-3, affine=True, bias=False, **f),
        floats(2, 3, 3, 3),
    ),
    Case(
        "InstanceNorm2d-momentum-none",
        lambda lib, **f: lib.InstanceNorm2d(
            3, momentum=None, track_running_stats=True, **f
        ),
        floats(2, 3, 3, 4),
        steps=2,
    ),
    Case(
        "InstanceNorm3d-affine",
        lambda lib, **f: lib.InstanceNorm3d(2, affine=True, **f),
        floats(2, 2, 2, 3, 3),
    ),
    Case(
        "InstanceNorm3d-unbatched-track",
        lambda lib, **f: lib.InstanceNorm3d(2, track_running_stats=True, **f),
        floats(2, 3, 2, 3),
        steps=2,
    ),
]


def _pads() -> list[Case]:
    shapes = {1: (2, 3, 5), 2: (2, 2, 4, 5), 3: (1, 2, 3, 4, 5)}
    uneven = {1: (2, 1), 2: (1, 0, 3, 2), 3: (1, 2, 0, 1, 2, 1)}
    cases = []
    for family in ("Reflection", "Replication", "Circular", "Constant", "Zero"):
        for dims in (1, 2, 3):
            name = f"{family}Pad{dims}d"
            for padding in (1, uneven[dims]):
                args = (padding, 1.5) if family == "Constant" else (padding,)
                cases.append(
                    Case(
                        f"{name}-{padding}",
                        lambda lib, name=name, args=args, **f: getattr(lib, name)(
                            *args
                        ),
                        floats(*shapes[dims]),
                        factory=False,
                    )
                )
            unbatched = shapes[dims][1:]
            args = (uneven[dims], -2) if family == "Constant" else (uneven[dims],)
            cases.append(
                Case(
                    f"{name}-unbatched",
                    lambda lib, name=name, args=args, **f: getattr(lib, name)(*args),
                    floats(*unbatched),
                    factory=False,
                )
            )
    cases.append(
        Case(
            "ConstantPad2d-negative",
            lambda lib, **f: lib.ConstantPad2d((-1, 2, 1, -2), 0.5),
            floats(2, 3, 4, 5),
            factory=False,
        )
    )
    return cases


PADS = _pads()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", INSTANCE_NORMS + PADS, ids=str)
def test_layer_matches_torch(case: Case, dtype: str) -> None:
    tm, am = _build(case, dtype)
    assert repr(am) == repr(tm)
    assert list(am.state_dict()) == list(tm.state_dict())
    rng = np.random.default_rng(0)
    for mode in case.modes:
        tm.train(mode == "train")
        am.train(mode == "train")
        for _ in range(case.steps if mode == "train" else 1):
            _run(case, dtype, tm, am, rng)
        for name, tb in tm.state_dict().items():
            _compare(_np(tb), _np(am.state_dict()[name]), dtype, f"{mode}: {name}")


@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_state_dict_keys_and_a_torch_checkpoint(
    affine: bool, track: bool
) -> None:
    """torch's keys; a trained torch layer's state dict loaded into ours gives
    torch's eval output."""
    tm = torch.nn.InstanceNorm2d(3, affine=affine, track_running_stats=track)
    am = nn.InstanceNorm2d(3, affine=affine, track_running_stats=track)
    assert list(am.state_dict()) == list(tm.state_dict())
    rng = np.random.default_rng(3)
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.tensor(rng.standard_normal(3), dtype=torch.float32))
    for _ in range(4):
        tm(torch.tensor(rng.standard_normal((2, 3, 4, 4)) * 3 + 1, dtype=torch.float32))
    am.load_state_dict({k: at.tensor(_np(v)) for k, v in tm.state_dict().items()})
    tm.eval()
    am.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype("float32")
    _compare(_np(tm(torch.tensor(x))), _np(am(at.tensor(x))), "float32", "eval")
