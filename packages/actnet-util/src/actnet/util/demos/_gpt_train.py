"""The gpt demo's training loop: steps, validation every few steps, progress,
per-step logs and checkpoints that resume exactly.

The loop counts optimizer steps, not epochs (the demo trains for a fraction of
an epoch or a few of them): each step takes the next batch of the training
loader (a new epoch starts when one ends), clips the gradients' norm, steps
AdamW and the warm-up-cosine schedule. Every `eval_every` steps and after the
last one it measures the validation loss, logs a row in the History (the
interval's mean training loss, "val_loss", "lr", "tokens_per_s" and
"val_time", the seconds the validation took) and
writes a checkpoint holding everything the run depends on (model, optimizer,
scheduler, loader position, the default generator, the History), so that a run
killed at any point and started again ends with the weights of an
uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

import actnet.tensor as at
from actnet import nn
from actnet.device import default_generator
from actnet.tensor import Tensor
from actnet.util._progress import REFRESH_S, progress_mode
from actnet.util.checkpoint import CheckpointError, CheckpointManager
from actnet.util.data import DataLoader
from actnet.util.demos._gpt_model import GPT
from actnet.util.history import History

_MIB = 1024.0 * 1024.0
Batch = tuple[Tensor, Tensor]
StepCallback = Callable[[int, float], None]
# the module, not actnet.neuron's function: actnet-util depends on actnet-nn
_CROSS_ENTROPY = nn.CrossEntropyLoss()


def train_step(
    model: GPT,
    optimizer: nn.optim.Optimizer,
    scheduler: Any,
    batch: Batch,
    clip: float,
) -> float:
    """One step on (x, y): forward, cross-entropy, backward, gradient clipping to
    norm `clip`, optimizer and scheduler steps; returns the loss."""
    loss = update(model, optimizer, batch[0], batch[1], clip, model.training)
    scheduler.step()
    return float(loss)


def update(
    model: GPT,
    optimizer: nn.optim.Optimizer,
    x: Tensor,
    y: Tensor,
    clip: float,
    training: bool,
) -> Tensor:
    """train_step's device work (all but the scheduler's step, which a captured
    step leaves to the host); returns the loss. `training` is the model's mode,
    an argument so that a captured step records each mode apart."""
    optimizer.zero_grad(set_to_none=True)
    logits = model(x)
    loss = _CROSS_ENTROPY(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss


def evaluate(model: GPT, batches: Sequence[Batch]) -> float:
    """The mean cross-entropy (nats per token) over `batches`, in eval mode and
    without gradients."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with at.no_grad():
            for x, y in batches:
                logits = model(x)
                loss = _CROSS_ENTROPY(
                    logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
                )
                n = y.shape[0] * y.shape[1]
                total += float(loss) * n
                count += n
    finally:
        model.train(was_training)
    return total / count if count else math.nan


def _endless(loader: DataLoader[Any]) -> Iterator[Batch]:
    """The loader's batches, epoch after epoch."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("the training loader gives no batch")


@dataclass
class TrainLoop:
    """The state of one run, what `run` needs and what a checkpoint holds."""

    model: GPT
    optimizer: nn.optim.Optimizer
    scheduler: Any
    loader: DataLoader[Any]
    val: Sequence[Batch]
    checkpoints: CheckpointManager
    clip: float
    identity: dict[str, Any]  # config and tokenizer: what a checkpoint must match
    history: History = field(default_factory=History)
    compile: bool = True  # captured steps (actnet.tensor.compile)
    # their memory budget (actnet.tensor.compile's): a fraction of the plan
    memory_budget: float | None = None
    step: int = 0
    interval_loss: float = 0.0  # sum of the losses since the last validation
    interval_steps: int = 0

    def __post_init__(self) -> None:
        # One captured step per loop (see actnet.tensor.compile), or plain calls.
        if self.memory_budget is not None and not self.compile:
            raise ValueError(
                "memory_budget bounds a captured step's memory: it needs compile=True"
            )
        self._compiled = (
            at.compile(update, memory_budget=self.memory_budget)
            if self.compile
            else update
        )

    def _update(self, batch: Batch) -> Tensor:
        model = self.model
        return self._compiled(
            model, self.optimizer, batch[0], batch[1], self.clip, model.training
        )

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "loader": self.loader.state_dict(),
            "run": {
                "step": self.step,
                "interval_loss": self.interval_loss,
                "interval_steps": self.interval_steps,
                "rng": default_generator.get_state(),
                "identity": self.identity,
            },
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any], where: object) -> None:
        try:
            run = state["run"]
            if run["identity"] != self.identity:
                raise CheckpointError(
                    f"checkpoint {where} belongs to another run (another text, "
                    f"tokenizer or model shape: {run['identity']}); use --fresh "
                    "(fresh=True) to start over"
                )
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.loader.load_state_dict(state["loader"])
            self.history = History.from_dict(state["history"])
            self.step = int(run["step"])
            self.interval_loss = float(run["interval_loss"])
            self.interval_steps = int(run["interval_steps"])
            default_generator.set_state(dict(run["rng"]))
        except KeyError as e:
            raise CheckpointError(f"checkpoint {where} has no entry {e}") from e

    def save(self) -> None:
        self.checkpoints.save(self.step, self.state_dict())

    # ------------------------------------------------------------- training
    def run(
        self,
        steps: int,
        eval_every: int,
        progress: str,
        file: TextIO | None,
        on_step: StepCallback | None = None,
    ) -> None:
        """Train until `steps` steps are done, validating and checkpointing every
        `eval_every` steps and at the end."""
        mode = progress_mode(progress, file)
        bar = _Progress(mode, steps, self.step, file)
        device = self.model.tok.weight.device
        allocator = device.allocator
        batches = _endless(self.loader)
        tokens, seconds = 0, 0.0  # trained on in this process, validation excepted
        try:
            while self.step < steps:
                t0 = time.perf_counter()
                batch = next(batches)
                allocator.reset_peak()
                lr = self.optimizer.param_groups[0]["lr"]  # before the scheduler's step
                loss = float(self._update(batch))
                self.scheduler.step()
                self.step += 1
                self.interval_loss += loss
                self.interval_steps += 1
                n = batch[1].shape[0] * batch[1].shape[1]
                tokens += n
                used = allocator.used_bytes()
                t1 = time.perf_counter()
                seconds += t1 - t0
                self.history.log_step(
                    {
                        "step": self.step,
                        "loss": loss,
                        "lr": lr,
                        "memory_used": used,
                        "memory_peak": allocator.peak_bytes(),
                        "time": t1 - t0,
                    }
                )
                bar.step(loss, tokens / seconds, used)
                if on_step is not None:
                    on_step(self.step, loss)
                if self.step % eval_every == 0 or self.step == steps:
                    logs = self._validate(tokens / seconds)
                    bar.validated(logs)
                    self.save()
        finally:
            bar.close()

    def _validate(self, tokens_per_s: float) -> dict[str, Any]:
        t0 = time.perf_counter()
        logs: dict[str, Any] = {
            "step": self.step,
            "loss": self.interval_loss / max(self.interval_steps, 1),
            "val_loss": evaluate(self.model, self.val),
            "lr": self.optimizer.param_groups[0]["lr"],
            "tokens_per_s": tokens_per_s,
        }
        logs["val_time"] = time.perf_counter() - t0
        self.history.log_epoch(logs)
        self.interval_loss, self.interval_steps = 0.0, 0
        return logs


class _Progress:
    """A tqdm bar over the run ("bar"), a line per validation ("epoch": the
    Trainer's name for the mode), or nothing ("none")."""

    def __init__(self, mode: str, total: int, done: int, file: TextIO | None) -> None:
        self.mode = mode
        self.total = total
        self.file = file
        self.bar: Any = None
        self.next_refresh = 0.0
        self.val_loss: float | None = None
        if mode == "bar":
            self.bar = tqdm(
                total=total,
                initial=done,
                desc="gpt",
                file=file,
                dynamic_ncols=True,
                unit="step",
            )

    def step(self, loss: float, tokens_per_s: float, used: int) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.perf_counter()
        if now >= self.next_refresh:
            self.next_refresh = now + REFRESH_S
            parts = [f"loss={loss:.4f}"]
            if self.val_loss is not None:
                parts.append(f"val_loss={self.val_loss:.4f}")
            parts.append(f"{tokens_per_s:,.0f} tokens/s")
            parts.append(f"mem={used / _MIB:.1f}MiB")
            self.bar.set_postfix_str(", ".join(parts), refresh=False)

    def validated(self, logs: Mapping[str, Any]) -> None:
        self.val_loss = float(logs["val_loss"])
        if self.mode == "epoch":
            print(
                f"step {logs['step']}/{self.total}: loss {logs['loss']:.4f}, "
                f"val_loss {logs['val_loss']:.4f}, lr {logs['lr']:.2e}, "
                f"{logs['tokens_per_s']:,.0f} tokens/s",
                file=self.file,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
