"""A small deterministic training run for test_util_checkpoint_kill.py, run in a
subprocess: a tiny MLP with dropout on synthetic data, checkpoints every few
steps, optionally killed with SIGKILL at a given step, then resumed.

    python util_train_worker.py OUT --loader plain --kill-at 13 [--resume]

Loaders: "plain" has no state_dict and shuffles with actnet's default generator
(the Trainer replays the epoch), "dataloader" is actnet.util.data.DataLoader and
"stateful" the digits demo's EpochBatches (both put back at their position).

Writes OUT/final.npz (the final weights) when it gets to the end.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

import actnet.device as ad
import actnet.neuron as F
import actnet.tensor as at
from actnet import nn
from actnet.tensor import Tensor
from actnet.util.data import DataLoader, TensorDataset
from actnet.util.demos.digits import EpochBatches
from actnet.util.trainer import Callback, Trainer


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.25, self.training))


class Shuffled:
    """A loader without state_dict: shuffles with actnet's default generator
    at each iter(), as a DataLoader with shuffle=True and no generator does."""

    def __init__(self, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x) // 10

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        perm = np.argsort(at.rand(len(self.x)).numpy(), kind="stable")
        for b in range(len(self)):
            idx = perm[10 * b : 10 * b + 10]
            yield at.tensor(self.x[idx]), at.tensor(self.y[idx])


class KillAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer: Trainer, step: int, logs: Mapping[str, Any]) -> None:
        if step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument(
        "--loader", choices=("plain", "stateful", "dataloader"), default="plain"
    )
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--every", type=int, default=3)
    args = parser.parse_args()
    ad.manual_seed(1234)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((60, 8)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    model = Net()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader: Any
    if args.loader == "plain":
        loader = Shuffled(x, y)
    elif args.loader == "stateful":
        loader = EpochBatches(x, y, 10)
    else:
        loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, seed=3)
    val = [(at.tensor(x[:20]), at.tensor(y[:20]))]
    callbacks = [KillAt(args.kill_at)] if args.kill_at else []
    trainer = Trainer(
        model,
        F.cross_entropy,
        optimizer,
        callbacks=callbacks,
        checkpoint_dir=os.path.join(args.out, "checkpoints"),
        checkpoint_every=args.every,
        progress="none",
    )
    trainer.fit(loader, val, args.epochs, resume=args.resume)
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    np.savez(os.path.join(args.out, "final.npz"), **weights)
    print(f"done: step {trainer.step}, resumed from {trainer.resumed_from}")


if __name__ == "__main__":
    main()
