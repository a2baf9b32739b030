"""Optimizers and learning-rate schedulers (PyTorch's `torch.optim`).

A training loop steps the optimizer after backward, then the scheduler:

    import actnet.nn as nn
    opt = nn.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        sched.step()
"""

from actnet.nn.optim import lr_scheduler
from actnet.nn.optim.adadelta import Adadelta
from actnet.nn.optim.adagrad import Adagrad
from actnet.nn.optim.adam import Adam
from actnet.nn.optim.adamax import Adamax
from actnet.nn.optim.adamw import AdamW
from actnet.nn.optim.lbfgs import LBFGS
from actnet.nn.optim.nadam import NAdam
from actnet.nn.optim.optimizer import Optimizer, required
from actnet.nn.optim.radam import RAdam
from actnet.nn.optim.rmsprop import RMSprop
from actnet.nn.optim.sgd import SGD

__all__ = [
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "lr_scheduler",
    "required",
]
