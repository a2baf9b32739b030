"""The gpt demo: a small GPT trained on text with a byte-level BPE tokenizer.

The model is the peer benchmark's GPT (/work/shared/peers/bench_gpt_torch.py:
d_model 256, 4 layers, 4 heads, context 128, batch 16) with a vocabulary of 512
BPE tokens, trained with AdamW (lr 3e-4, betas 0.9/0.95, weight decay 0.1), a
linear warm-up then a cosine decay to a tenth of the lr (`warmup_cosine`),
gradient clipping to norm 1. The text (by default CPython's pydoc topics, see
actnet.util.text.pydoc_topics) is split by position: the first 90 % of its
tokens train, the tail validates. Training batches are windows of 128 tokens at
every position, shuffled by actnet's DataLoader (seed 0); validation takes
non-overlapping windows.

The default run is `STEPS` = 1000 steps: one step takes about 0.65 s on the
2-core machines the project measures on, so the run (with its validations,
checkpoints and the BPE training) takes about 12 minutes there.

    >>> result = run_gpt(steps=1000, out="actnet-runs/gpt")
    >>> print(f"{result.val_loss:.2f} nats/token, {result.bits_per_byte:.2f} bits/byte")

`out` receives model.safetensors, config.json (the GPTConfig), tokenizer.json
(ByteBPE.save), history.json, loss.png and memory.png, and checkpoints/; a rerun
with the same `out` resumes from the newest checkpoint (`fresh=True` starts
over) and ends with the weights of an uninterrupted run. `steps` counts the
steps already done, and the lr schedule spans `steps`: resuming with another
`steps` follows the new schedule from the step reached.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import actnet.device as ad
from actnet import nn
from actnet.util._progress import PROGRESS
from actnet.util.checkpoint import CheckpointManager, load_checkpoint
from actnet.util.data import DataLoader
from actnet.util.demos._gpt_generate import (
    CONFIG_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    generate,
)
from actnet.util.demos._gpt_model import GPT, GPTConfig
from actnet.util.demos._gpt_train import (
    Batch,
    StepCallback,
    TrainLoop,
    evaluate,
    train_step,
    update,
)
from actnet.util.history import History
from actnet.util.plots import save_plots
from actnet.util.text import ByteBPE, TextDataset, pydoc_topics, split_tokens

__all__ = [
    "GPTConfig",
    "GPTData",
    "GPTResult",
    "build_optimizer",
    "evaluate",
    "load_text",
    "prepare_data",
    "run_gpt",
    "sample_text",
    "train_loader",
    "train_step",
    "update",
    "validation_batches",
    "warmup_cosine",
    "warmup_steps",
]

STEPS, EVAL_EVERY, BATCH_SIZE, SEED = 1000, 100, 16, 0
LR, BETAS, WEIGHT_DECAY, CLIP = 3e-4, (0.9, 0.95), 0.1, 1.0
WARMUP_STEPS, MIN_LR_FACTOR, TRAIN_FRACTION = 100, 0.1, 0.9
SAMPLE_PROMPT, SAMPLE_TOKENS = "The", 200
DEFAULT_OUT = os.path.join(".", "actnet-runs", "gpt")


def load_text(path: str | os.PathLike[str]) -> str:
    """The text of a UTF-8 file; a missing, unreadable or non-UTF-8 file is an
    error naming it."""
    where = Path(path)
    if not where.is_file():
        raise FileNotFoundError(f"text file {where} does not exist (or is a folder)")
    try:
        return where.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"text file {where} is not UTF-8 text (byte {e.start}: {e.reason})"
        ) from e


@dataclass(frozen=True)
class GPTData:
    """The tokenizer and the token arrays of a text, split for training."""

    bpe: ByteBPE
    train: np.ndarray[Any, Any]
    val: np.ndarray[Any, Any]
    val_bytes: int  # the UTF-8 bytes of the validation tokens

    @property
    def bytes_per_token(self) -> float:
        """Of the validation text: what turns nats/token into bits/byte."""
        return self.val_bytes / len(self.val)


def prepare_data(text: str, vocab_size: int, context: int) -> GPTData:
    """Train a ByteBPE of `vocab_size` tokens on `text`, encode it and split it
    (TRAIN_FRACTION); each part must hold a window of `context` + 1 tokens."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    bpe = ByteBPE.train(text, vocab_size)
    tokens = bpe.encode(text)
    need = math.ceil((context + 1) / (1 - TRAIN_FRACTION))
    if len(tokens) < need:
        raise ValueError(
            f"text: it makes {len(tokens)} tokens; a context of {context} needs "
            f"at least {need} (so that the validation tail holds a window)"
        )
    train, val = split_tokens(tokens, TRAIN_FRACTION)
    return GPTData(bpe, train, val, len(bpe.decode_bytes(val)))


def train_loader(
    data: GPTData, context: int, batch_size: int = BATCH_SIZE, seed: int = SEED
) -> DataLoader[Any]:
    """Windows at every position of the training tokens, shuffled per epoch,
    full batches only."""
    return DataLoader(
        TextDataset(data.train, context),
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
        drop_last=True,
    )


def validation_batches(
    data: GPTData, context: int, batch_size: int = BATCH_SIZE
) -> list[Batch]:
    """Non-overlapping windows of the validation tokens, in order."""
    loader = DataLoader(
        TextDataset(data.val, context, stride=context), batch_size=batch_size
    )
    return list(loader)


def warmup_cosine(step: int, *, warmup: int, total: int) -> float:
    """The lr factor of step `step` (0-based): (step + 1) / warmup during the
    warm-up, then a cosine from 1 down to MIN_LR_FACTOR at step `total`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return MIN_LR_FACTOR + (1 - MIN_LR_FACTOR) * 0.5 * (
        1 + math.cos(math.pi * progress)
    )


def warmup_steps(steps: int) -> int:
    """The warm-up of a run of `steps` steps: WARMUP_STEPS, or a tenth of a
    shorter run (at least 1)."""
    return max(1, min(WARMUP_STEPS, steps // 10))


def build_optimizer(model: GPT, steps: int) -> tuple[nn.optim.AdamW, Any]:
    """AdamW (LR, BETAS, WEIGHT_DECAY) and its LambdaLR over `warmup_cosine`
    (with `warmup_steps(steps)`), both stepped after every batch."""
    optimizer = nn.optim.AdamW(
        model.parameters(), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY
    )
    schedule = functools.partial(warmup_cosine, warmup=warmup_steps(steps), total=steps)
    return optimizer, nn.optim.lr_scheduler.LambdaLR(optimizer, schedule)


@dataclass
class GPTResult:
    """What `run_gpt` returns."""

    val_loss: float  # nats per token
    bits_per_byte: float
    sample: str  # the prompt and the text generated after it
    history: History
    out: Path
    resumed_from: Path | None  # the checkpoint the run continued from, if any
    files: list[Path]


def _positive(value: object, name: str) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def run_gpt(
    steps: int = STEPS,
    out: str | os.PathLike[str] = DEFAULT_OUT,
    *,
    text: str | None = None,
    fresh: bool = False,
    progress: str = "auto",
    eval_every: int = EVAL_EVERY,
    config: GPTConfig | None = None,
    batch_size: int = BATCH_SIZE,
    sample_tokens: int = SAMPLE_TOKENS,
    on_step: StepCallback | None = None,
    file: TextIO | None = None,
    compile: bool = True,  # the TrainLoop's option (captured steps)
    memory_budget: float | None = None,
) -> GPTResult:
    """Train (or resume training) the GPT for `steps` steps on `text` (default
    pydoc_topics()) into `out` (see the module doc); returns the validation loss,
    bits per byte and a sample. `config` (default GPTConfig()) sets the model's
    shape and the tokenizer's size (a text too short for that many merges gives
    a smaller vocabulary); `on_step(step, loss)` is called after each step;
    messages and the epoch lines go to `file` (default sys.stdout), the bar to
    `file` or sys.stderr. `compile`: captured steps (actnet.tensor.compile; the
    same weights as eager steps), the default; False runs them eagerly.
    `memory_budget`: the captured step's planned transient memory is held to
    this fraction (0, 1] of what it plans without one, by recomputing saved
    tensors in backward (the same weights; actnet.tensor.compile's
    `memory_budget`)."""
    _positive(steps, "steps")
    _positive(eval_every, "eval_every")
    _positive(batch_size, "batch_size")
    if type(sample_tokens) is not int or sample_tokens < 0:
        raise ValueError(f"sample_tokens must be an int >= 0, got {sample_tokens!r}")
    if progress not in PROGRESS:
        raise ValueError(f"progress must be one of {PROGRESS}, got {progress!r}")
    if config is not None and not isinstance(config, GPTConfig):
        raise TypeError(f"config must be a GPTConfig, got {type(config).__name__}")
    say = file if file is not None else sys.stdout
    base = config if config is not None else GPTConfig()
    corpus = pydoc_topics() if text is None else text
    data = prepare_data(corpus, base.vocab_size, base.context)
    # the tokenizer decides the vocabulary: a short text may give fewer merges
    shape = dataclasses.replace(base, vocab_size=data.bpe.vocab_size)
    folder = Path(out)
    checkpoints = folder / "checkpoints"
    if fresh and checkpoints.exists():
        shutil.rmtree(checkpoints)
    folder.mkdir(parents=True, exist_ok=True)
    ad.manual_seed(SEED)
    model = GPT(shape)
    optimizer, scheduler = build_optimizer(model, steps)
    loop = TrainLoop(
        model,
        optimizer,
        scheduler,
        train_loader(data, shape.context, batch_size),
        validation_batches(data, shape.context, batch_size),
        CheckpointManager(checkpoints),
        CLIP,
        _identity(shape, data.bpe, batch_size),
        compile=compile,
        memory_budget=memory_budget,
    )
    start = None if fresh else loop.checkpoints.latest()
    if start is None:
        print(f"training from scratch; checkpoints go to {checkpoints}", file=say)
    else:
        print(f"resuming from checkpoint {start} (--fresh starts over)", file=say)
        loop.load_state_dict(load_checkpoint(start), start)
    loop.run(steps, eval_every, progress, file, on_step)
    files = _write_outputs(folder, model, data.bpe, loop.history)
    val_loss = loop.history.last("val_loss")
    val = float("nan") if val_loss is None else float(val_loss)
    return GPTResult(
        val_loss=val,
        bits_per_byte=val / data.bytes_per_token / math.log(2),
        sample=sample_text(model, data.bpe, SAMPLE_PROMPT, sample_tokens),
        history=loop.history,
        out=folder,
        resumed_from=start,
        files=files,
    )


def _identity(config: GPTConfig, bpe: ByteBPE, batch_size: int) -> dict[str, Any]:
    merges = ";".join(f"{a},{b}" for a, b in bpe.merges)
    return {
        "config": dataclasses.asdict(config),
        "batch_size": batch_size,
        "tokenizer_sha256": hashlib.sha256(merges.encode()).hexdigest(),
    }


def _write_outputs(
    folder: Path, model: GPT, bpe: ByteBPE, history: History
) -> list[Path]:
    files = [folder / MODEL_FILE, folder / TOKENIZER_FILE]
    nn.save_safetensors(model, files[0])
    bpe.save(files[1])
    files.append(model.config.save(folder / CONFIG_FILE))
    files.append(history.save(folder / "history.json"))
    files.extend(save_plots(history, folder))
    return files


def sample_text(
    model: GPT, bpe: ByteBPE, prompt: str, tokens: int, seed: int = SEED
) -> str:
    """`prompt` and `tokens` tokens sampled after it (temperature 0.8, top-k 40)."""
    ids = bpe.encode(prompt)
    new = generate(model, ids, tokens, temperature=0.8, top_k=40, seed=seed)
    return bpe.decode(ids + new)
