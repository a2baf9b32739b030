"""Checked by test_nn_typing.py with `mypy --strict`, never imported by pytest
(its name does not start with test_): `model(x)` has the type of `model.forward`."""

from __future__ import annotations

import actnet.tensor as at
from actnet import nn
from actnet.tensor import Tensor


class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(at.ones(3))

    def forward(self, x: Tensor, *, scale: float = 1.0) -> tuple[Tensor, Tensor]:
        return x * self.weight, x * scale


class Counter(nn.Module):
    def forward(self, n: int) -> str:
        return "x" * n


model = TwoHeads()
pair: tuple[Tensor, Tensor] = model(at.ones(3))
first, second = model(at.ones(3), scale=2.0)
text: str = Counter()(4)
# A container's forward takes and returns Any; any module is callable.
anything: int = nn.Sequential(model)(at.ones(3))
layers = nn.ModuleList([model, Counter()])
result: object = layers[0](at.ones(3))
chained: nn.Module = model.train().eval().to("float64")
