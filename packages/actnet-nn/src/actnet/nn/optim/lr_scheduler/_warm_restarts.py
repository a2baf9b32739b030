"""CosineAnnealingWarmRestarts: cosine annealing that starts over (SGDR)."""

from __future__ import annotations

import math

from actnet.nn.optim.lr_scheduler._base import LRScheduler
from actnet.nn.optim.optimizer import Optimizer


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from initial_lr to eta_min over T_i steps, then a restart
    at initial_lr, with T_0 steps in the first period and T_i = T_mult * T_{i-1}
    after (PyTorch's `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`):

        lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    where T_cur counts the steps since the last restart. `step(epoch)` jumps to
    `epoch`, which may be fractional (one step per batch: `epoch + i / iters`),
    and later `step()` calls go on from there; it does not warn.

    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-5)
    >>> for epoch in range(70):
    ...     for i, batch in enumerate(batches):
    ...         train_step(batch)      # ends with opt.step()
    ...         sched.step(epoch + i / len(batches))
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # PyTorch's names
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, float | int):
            raise ValueError(  # noqa: TRY004  # PyTorch's exception
                f"Expected float or int eta_min, but got {eta_min} of type "
                f"{type(eta_min)}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_outside_step()
        return [
            self.eta_min
            + (base_lr - self.eta_min)
            * (1 + math.cos(math.pi * self.T_cur / self.T_i))
            / 2
            for base_lr in self.base_lrs
        ]

    def step(self, epoch: float | None = None) -> None:
        """One step on (after a restart when the period is over), or a jump to
        `epoch` (fractional epochs allowed)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                # the period epoch falls in: T_0 (T_mult**n - 1) / (T_mult - 1)
                # epochs come before it
                n = int(
                    math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult)
                )
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()
