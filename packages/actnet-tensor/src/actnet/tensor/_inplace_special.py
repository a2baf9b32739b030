"""The in-place forms of _special.py's and _contractions.py's operations
(nan_to_num_, fmod_, hypot_, logit_, xlogy_, erfinv_, lgamma_, digamma_,
addmv_, baddbmm_), by apply_in_place's rules: Tensor's methods are these."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from actnet.tensor import _contractions, _special
from actnet.tensor._inplace_math import apply_in_place
from actnet.tensor._tensor_base import Scalar

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def nan_to_num_(
    self: Tensor,
    nan: builtins.float = 0.0,
    posinf: builtins.float | None = None,
    neginf: builtins.float | None = None,
) -> Tensor:
    return apply_in_place(
        self, lambda t: _special.nan_to_num(t, nan, posinf, neginf), "nan_to_num_"
    )


def fmod_(self: Tensor, other: Tensor | Scalar) -> Tensor:
    return apply_in_place(self, lambda t: _special.fmod(t, other), "fmod_")


def hypot_(self: Tensor, other: Tensor) -> Tensor:
    return apply_in_place(self, lambda t: _special.hypot(t, other), "hypot_")


def logit_(self: Tensor, eps: builtins.float | None = None) -> Tensor:
    return apply_in_place(self, lambda t: _special.logit(t, eps), "logit_")


def xlogy_(self: Tensor, other: Tensor | Scalar) -> Tensor:
    return apply_in_place(self, lambda t: _special.xlogy(t, other), "xlogy_")


def erfinv_(self: Tensor) -> Tensor:
    return apply_in_place(self, _special.erfinv, "erfinv_")


def lgamma_(self: Tensor) -> Tensor:
    return apply_in_place(self, _special.lgamma, "lgamma_")


def digamma_(self: Tensor) -> Tensor:
    return apply_in_place(self, _special.digamma, "digamma_")


def addmv_(
    self: Tensor, mat: Tensor, vec: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1
) -> Tensor:
    return apply_in_place(
        self,
        lambda t: _contractions.addmv(t, mat, vec, beta=beta, alpha=alpha),
        "addmv_",
    )


def baddbmm_(
    self: Tensor,
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: Scalar = 1,
    alpha: Scalar = 1,
) -> Tensor:
    return apply_in_place(
        self,
        lambda t: _contractions.baddbmm(t, batch1, batch2, beta=beta, alpha=alpha),
        "baddbmm_",
    )
