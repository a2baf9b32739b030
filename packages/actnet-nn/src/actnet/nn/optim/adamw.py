"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter)."""

from __future__ import annotations

from typing import Any

from actnet.nn.optim.adam import Adam
from actnet.nn.optim.optimizer import ParamsT


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameters directly (PyTorch's
    `torch.optim.AdamW`): `param *= 1 - lr * weight_decay` before the Adam update,
    instead of adding `weight_decay * param` to the gradient. The default
    weight_decay is 1e-2. See `Adam` for the update and the state.

    >>> opt = AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95),
    ...             weight_decay=0.1)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # A loaded state keeps AdamW decoupled, whatever the dict said.
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
