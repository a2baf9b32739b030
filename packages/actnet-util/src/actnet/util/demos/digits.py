"""The digits demo: an MLP 64→256→256→10 (ReLU) on scikit-learn's bundled digits.

The setup is the peer benchmark's (/work/shared/peers/bench_mlp_digits.py), so the
runs can be compared number for number: `train_test_split(test_size=0.2,
random_state=0, stratify=y)` (1437 train / 360 test), StandardScaler fitted on the
train split, float32; initial weights drawn once in NumPy, U(±1/sqrt(fan_in)) from
`np.random.default_rng(0)`; SGD lr 0.1 momentum 0.9, batch 64, cross-entropy;
one `np.random.default_rng(0)` permutation per epoch, the last partial batch
dropped (22 steps per epoch).

    >>> result = run_digits(epochs=20, out="actnet-runs/digits")
    >>> f"{result.test_accuracy:.2%}"
    '97.50%'
"""

from __future__ import annotations

import importlib
import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet import nn
from actnet.nn.parallel import DistributedDataParallel
from actnet.tensor import Tensor
from actnet.util.checkpoint import CheckpointManager
from actnet.util.history import History
from actnet.util.plots import save_plots
from actnet.util.trainer import Trainer

__all__ = [
    "DigitsResult",
    "EpochBatches",
    "build_model",
    "initial_state",
    "load_digits_data",
    "run_digits",
]

SIZES = (64, 256, 256, 10)
LR, MOMENTUM, BATCH_SIZE, EPOCHS, SEED = 0.1, 0.9, 64, 20, 0
DEFAULT_OUT = os.path.join(".", "actnet-runs", "digits")

Array = np.ndarray[Any, Any]


def load_digits_data(seed: int = SEED) -> tuple[Array, Array, Array, Array]:
    """(x_train, y_train, x_test, y_test): float32 features, int64 labels."""
    # scikit-learn is the optional `demo` extra of actnet-util, imported only here
    # so that the rest of the package works without it; through importlib because
    # it ships no type hints (and is absent where the package is type-checked).
    try:
        datasets = importlib.import_module("sklearn.datasets")
        model_selection = importlib.import_module("sklearn.model_selection")
        preprocessing = importlib.import_module("sklearn.preprocessing")
    except ImportError as e:
        raise ImportError(
            "the digits demo needs scikit-learn: pip install 'actnet-util[demo]'"
        ) from e
    x, y = datasets.load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    scaler = preprocessing.StandardScaler().fit(x_train)
    return (
        scaler.transform(x_train).astype(np.float32),
        np.asarray(y_train, np.int64),
        scaler.transform(x_test).astype(np.float32),
        np.asarray(y_test, np.int64),
    )


def initial_state(seed: int = SEED) -> dict[str, Array]:
    """The peer's initial weights as a state dict of `build_model()`: drawn as
    (in, out) matrices and biases, in layer order, then transposed to nn.Linear's
    (out, in)."""
    rng = np.random.default_rng(seed)
    state = {}
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(SIZES)):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
        state[f"{2 * i}.weight"] = np.ascontiguousarray(w.T)
        state[f"{2 * i}.bias"] = b
    return state


def build_model(seed: int = SEED) -> nn.Sequential:
    """Linear(64, 256), ReLU, Linear(256, 256), ReLU, Linear(256, 10), with the
    peer's initial weights."""
    model = nn.Sequential(
        nn.Linear(SIZES[0], SIZES[1]),
        nn.ReLU(),
        nn.Linear(SIZES[1], SIZES[2]),
        nn.ReLU(),
        nn.Linear(SIZES[2], SIZES[3]),
    )
    model.load_state_dict({k: at.tensor(v) for k, v in initial_state(seed).items()})
    return model


class EpochBatches:
    """Batches of (x, y) in the peer's order: epoch e uses the (e+1)-th
    `np.random.default_rng(seed).permutation(n)`, cut into full batches. Each
    `iter()` is the next epoch. Resumable like a stateful DataLoader:
    `state_dict()` is the position of the next batch, `load_state_dict` makes the
    next `iter()` start there.

    >>> loader = EpochBatches(x, y, batch_size=64)
    >>> len(loader)           # full batches per epoch
    22
    """

    def __init__(
        self,
        x: Array,
        y: Array,
        batch_size: int = BATCH_SIZE,
        seed: int = SEED,
        *,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        rank, ranks = share
        if not (type(rank) is int and type(ranks) is int and 0 <= rank < ranks):
            raise ValueError(
                f"share must be (rank, ranks) with 0 <= rank < ranks: {share}"
            )
        # This process's rows of every batch: rank, rank + ranks, ... (a data-
        # parallel run's share; the batches and their order are the same).
        self.share = (rank, ranks)
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
        self.x = np.ascontiguousarray(x)
        self.y = np.ascontiguousarray(y)
        self.batch_size = batch_size
        self.seed = seed
        self._epoch = 0  # the epoch of the current (or last) iteration
        self._batch = 0  # batches of it handed out
        self._next_epoch = 0  # the epoch a plain iter() starts
        self._pending: tuple[int, int] | None = None
        self._rng = np.random.default_rng(seed)
        self._orders: list[Array] = []  # permutations drawn so far, by epoch

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def order(self, epoch: int) -> Array:
        """The (batches, batch_size) indices of epoch `epoch` (0-based)."""
        while len(self._orders) <= epoch:
            self._orders.append(self._rng.permutation(len(self.x)))
        nb = len(self)
        return self._orders[epoch][: nb * self.batch_size].reshape(nb, -1)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        if self._pending is not None:
            epoch, start = self._pending
            self._pending = None
        else:
            epoch, start = self._next_epoch, 0
        self._epoch, self._batch = epoch, start
        self._next_epoch = epoch + 1
        return self._iterate(self.order(epoch), start)

    def _iterate(self, order: Array, start: int) -> Iterator[tuple[Tensor, Tensor]]:
        rank, ranks = self.share
        for b in range(start, len(order)):
            idx = order[b][rank::ranks]
            self._batch = b + 1
            yield at.as_tensor(self.x[idx]), at.as_tensor(self.y[idx])

    def state_dict(self) -> dict[str, int]:
        """{"epoch", "batch"}: where the next batch comes from."""
        if self._pending is not None:
            return {"epoch": self._pending[0], "batch": self._pending[1]}
        if self._batch >= len(self):
            return {"epoch": self._next_epoch, "batch": 0}
        return {"epoch": self._epoch, "batch": self._batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        epoch, batch = state.get("epoch"), state.get("batch")
        if type(epoch) is not int or type(batch) is not int or epoch < 0:
            raise ValueError(f"EpochBatches state needs int epoch and batch: {state}")
        if not 0 <= batch < max(len(self), 1):
            raise ValueError(f"batch {batch} is outside [0, {len(self)})")
        self._pending = (epoch, batch)
        self._next_epoch = epoch


@dataclass
class DigitsResult:
    """What `run_digits` returns."""

    test_accuracy: float
    test_loss: float
    history: History
    out: Path
    resumed_from: Path | None  # the checkpoint the run continued from, if any
    files: list[Path]  # model.safetensors, history.json and the plots (rank 0's)
    processes: int = 1  # under mpiexec -n N: N, each training on its share
    rank: int = 0


def run_digits(
    epochs: int = EPOCHS,
    out: str | os.PathLike[str] = DEFAULT_OUT,
    *,
    fresh: bool = False,
    progress: str = "auto",
    file: TextIO | None = None,
    compile: bool = True,  # the Trainer's option
) -> DigitsResult:
    """Train (or resume training) the digits MLP for `epochs` epochs into `out`:
    checkpoints in out/checkpoints (one per epoch; a rerun resumes from the newest
    intact one unless `fresh`), then model.safetensors, history.json and the PNG
    plots in out. `compile`: captured steps (Trainer's compile=True), the
    default: the same weights as eager steps, faster. Returns the test accuracy
    and the rest."""
    if type(epochs) is not int or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    processes = mpi_processes()
    if processes > 1 and not dist.is_initialized():
        dist.init_process_group("mpi")  # ImportError without actnet-device[mpi]
    rank = dist.get_rank() if processes > 1 else 0
    folder = Path(out)
    checkpoints = folder / "checkpoints"
    if fresh and checkpoints.exists() and rank == 0:
        shutil.rmtree(checkpoints)
    folder.mkdir(parents=True, exist_ok=True)
    if processes > 1:
        dist.barrier()  # rank 0 has cleared the old checkpoints
    x_train, y_train, x_test, y_test = load_digits_data()
    model = build_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    train = EpochBatches(x_train, y_train, share=(rank, processes))
    test = [(at.as_tensor(x_test), at.as_tensor(y_test))]
    trained: nn.Module = model
    if processes > 1:  # gradients averaged over the processes' shares
        trained = DistributedDataParallel(model)
    trainer = Trainer(
        trained,
        nn.CrossEntropyLoss(),
        optimizer,
        checkpoint_dir=checkpoints,
        progress=progress,
        file=file,
        compile=compile,
    )
    start = None if fresh else CheckpointManager(checkpoints).latest()
    say = file if file is not None else sys.stdout
    if rank == 0:
        if processes > 1:
            print(
                f"running on {processes} processes (MPI): each trains on "
                f"{BATCH_SIZE // processes} of every batch of {BATCH_SIZE}, the "
                "gradients averaged; rank 0 writes the outputs",
                file=say,
            )
        if start is None:
            print(f"training from scratch; checkpoints go to {checkpoints}", file=say)
        else:
            print(f"resuming from checkpoint {start} (--fresh starts over)", file=say)
    history = trainer.fit(train, test, epochs, resume=start)
    final = trainer.evaluate(test)
    files: list[Path] = []
    if rank == 0:
        files.append(folder / "model.safetensors")
        nn.save_safetensors(model, files[0])
        files.append(history.save(folder / "history.json"))
        files.extend(save_plots(history, folder))
    return DigitsResult(
        test_accuracy=final["accuracy"],
        test_loss=final["loss"],
        history=history,
        out=folder,
        resumed_from=trainer.resumed_from,
        files=files,
        processes=processes,
        rank=rank,
    )


def mpi_processes() -> int:
    """How many processes `mpiexec` started this one with (1 when it did not):
    MPICH's PMI_SIZE or Open MPI's OMPI_COMM_WORLD_SIZE."""
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1
