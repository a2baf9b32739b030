"""Learning-rate schedulers (PyTorch's `torch.optim.lr_scheduler`).

A scheduler rewrites `lr` in its optimizer's param_groups at each `step()`, which
comes after `optimizer.step()`. Most use PyTorch's chainable (recursive) formulas,
computed in the same order, so their values match PyTorch's to the last bit.

Linear warm-up, then cosine decay (SequentialLR switches at the milestone):

    opt = AdamW(model.parameters(), lr=3e-4)
    warmup = LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=100)
    cosine = CosineAnnealingLR(opt, T_max=900, eta_min=3e-5)
    sched = SequentialLR(opt, schedulers=[warmup, cosine], milestones=[100])
    for batch in batches:
        train_step(batch)      # ends with opt.step()
        sched.step()
"""

from actnet.nn.optim.lr_scheduler._base import EPOCH_DEPRECATION_WARNING, LRScheduler
from actnet.nn.optim.lr_scheduler._one_cycle import OneCycleLR
from actnet.nn.optim.lr_scheduler._plateau import ReduceLROnPlateau
from actnet.nn.optim.lr_scheduler._sequential import SequentialLR
from actnet.nn.optim.lr_scheduler._simple import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    StepLR,
)
from actnet.nn.optim.lr_scheduler._warm_restarts import CosineAnnealingWarmRestarts

__all__ = [
    "EPOCH_DEPRECATION_WARNING",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
