"""Cases whose functions are torch's namesakes (torch.add, torch.cat, ...; not in
torch.nn.functional), or that pass a dtype by name: `namesakes(cases)` gives
them again, with `call` running against a namespace that looks a name up in
torch.nn.functional, then in torch, and turns a dtype name ("float64") into the
torch dtype. The cases themselves stay written as ported code reads:
F.add(x, y), F.softmax(x, 1, dtype="float64")."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from harness import Case


class _TorchNamespace:
    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = getattr(torch.nn.functional, name, None) or getattr(torch, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if isinstance(kwargs.get("dtype"), str):
                kwargs["dtype"] = getattr(torch, kwargs["dtype"])
            return function(*args, **kwargs)

        return call


TORCH = _TorchNamespace()


def namesakes(cases: list[Case]) -> list[Case]:
    return [dataclasses.replace(case, call=_through_torch(case.call)) for case in cases]


def _through_torch(call: Callable[..., Any]) -> Callable[..., Any]:
    def run(F: Any, *args: Any) -> Any:
        return call(TORCH if F is torch.nn.functional else F, *args)

    return run
