"""Text generation with the demo's GPT: incremental decoding with a key/value
cache, sampling (temperature, top-k, top-p) from a seeded NumPy generator.

The sliding window. The model has `context` learned positions (C). It conditions
on a window of the tokens, the newest last, numbered from position 0 at the
window's start. The prompt's window is its last C tokens. When a new token
would make the window longer than C, the window restarts at the last C // 2
tokens (the new one included), which are run again from position 0 (a
"re-prefill"); the other new tokens each run one position. So each token costs
at most two positions on average, whatever the length, instead of the C a
window sliding by one token would cost. The no-cache path (`use_cache=False`)
runs the whole window at every step, with the same windows, so the two give
the same logits.

    >>> ids = generate(model, bpe.encode("The"), 50, temperature=0.8, top_k=40, seed=1)
    >>> print(bpe.decode(ids))
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import actnet.tensor as at
from actnet import nn
from actnet.util.demos._gpt_model import GPT, GPTConfig, KVCache
from actnet.util.text import ByteBPE

__all__ = [
    "CONFIG_FILE",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "DecodeStep",
    "decode_steps",
    "generate",
    "load_gpt",
    "sample_token",
]

MODEL_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class DecodeStep:
    """One generated token, the logits it was drawn from (float32, vocab_size) and
    how many positions the model ran for it."""

    token: int
    logits: Array
    positions: int


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or temperature < 0
    ):
        raise ValueError(
            f"temperature must be a finite number >= 0, got {temperature!r}"
        )
    if top_k is not None and (type(top_k) is not int or top_k < 1):
        raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
    if top_p is not None and (
        isinstance(top_p, bool)
        or not isinstance(top_p, int | float)
        or not 0 < top_p <= 1
    ):
        raise ValueError(f"top_p must be in (0, 1] or None, got {top_p!r}")


def sample_token(
    logits: Array,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> int:
    """A token id drawn from `logits` (1-d): temperature 0 is the argmax (the
    lowest id among ties, no draw); otherwise softmax(logits / temperature)
    restricted to the `top_k` most likely tokens, then to the smallest set whose
    probability reaches `top_p` (nucleus), renormalised, one draw from `rng`."""
    _check_sampling(temperature, top_k, top_p)
    row = np.asarray(logits, dtype=np.float64)
    if row.ndim != 1 or row.size == 0:
        raise ValueError(f"logits must be a non-empty 1-d array, got {row.shape}")
    if temperature == 0:
        return int(np.argmax(row))
    order = np.argsort(-row, kind="stable")  # most likely first, ties by id
    if top_k is not None:
        order = order[:top_k]
    scaled = row[order] / temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if top_p is not None:
        # keep the tokens whose preceding mass is below top_p (the first always)
        before = np.cumsum(probs) - probs
        keep = before < top_p
        order, probs = order[keep], probs[keep]
        probs /= probs.sum()
    return int(order[rng.choice(len(order), p=probs)])


def decode_steps(
    model: GPT,
    prompt: Sequence[int],
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = 0,
    use_cache: bool = True,
) -> Iterator[DecodeStep]:
    """Generate up to `max_new_tokens` tokens after `prompt` (token ids), one
    DecodeStep each, with the sliding window of the module doc. `seed` seeds
    the sampler (np.random.default_rng), so a seed gives the same tokens."""
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a GPT, got {type(model).__name__}")
    if type(max_new_tokens) is not int or max_new_tokens < 0:
        raise ValueError(
            f"max_new_tokens must be a non-negative int, got {max_new_tokens!r}"
        )
    _check_sampling(temperature, top_k, top_p)
    tokens = [int(t) for t in prompt]
    vocab, context = model.config.vocab_size, model.config.context
    if not tokens:
        raise ValueError("prompt must hold at least one token")
    if any(not 0 <= t < vocab for t in tokens):
        raise ValueError(f"prompt: token ids must be in [0, {vocab})")
    return _decode(
        model, tokens, context, max_new_tokens,
        np.random.default_rng(seed), (temperature, top_k, top_p), use_cache,
    )  # fmt: skip


def _decode(
    model: GPT,
    tokens: list[int],
    context: int,
    max_new_tokens: int,
    rng: np.random.Generator,
    sampling: tuple[float, int | None, float | None],
    use_cache: bool,
) -> Iterator[DecodeStep]:
    device = model.tok.weight.device
    cache = KVCache.for_model(model) if use_cache else None
    start = max(0, len(tokens) - context)  # the window is tokens[start:]
    pending = tokens[start:]  # the window's tokens that the cache lacks
    was_training = model.training
    model.eval()
    try:
        for _ in range(max_new_tokens):
            run = pending if cache is not None else tokens[start:]
            with at.no_grad():
                out = model(at.tensor([run], device=device), cache=cache)
            logits = out[0, -1].numpy().astype(np.float32)
            token = sample_token(logits, rng, *sampling)
            yield DecodeStep(token, logits, len(run))
            tokens.append(token)
            if len(tokens) - start > context:
                start = len(tokens) - context // 2
                pending = tokens[start:]
                if cache is not None:
                    cache.clear()
            else:
                pending = [token]
    finally:
        model.train(was_training)


def generate(
    model: GPT,
    prompt: Sequence[int],
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = 0,
    use_cache: bool = True,
) -> list[int]:
    """The ids of `max_new_tokens` new tokens after `prompt` (see `decode_steps`).

    >>> generate(model, [5, 9], 3, temperature=0)      # greedy
    [17, 3, 17]
    """
    steps = decode_steps(
        model,
        prompt,
        max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        use_cache=use_cache,
    )
    return [step.token for step in steps]


def load_gpt(directory: str | os.PathLike[str]) -> tuple[GPT, ByteBPE]:
    """The model and tokenizer that `run_gpt` wrote into `directory`
    (config.json, model.safetensors, tokenizer.json)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"model directory {folder} does not exist")
    for name in (CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"model directory {folder} has no {name} (is it the --out of "
                "`actnet demo gpt`?)"
            )
    model = GPT(GPTConfig.load(folder / CONFIG_FILE))
    model.load_state_dict(nn.load_safetensors(folder / MODEL_FILE))
    model.eval()
    bpe = ByteBPE.load(folder / TOKENIZER_FILE)
    if bpe.vocab_size > model.config.vocab_size:
        raise ValueError(
            f"{folder}: the tokenizer has {bpe.vocab_size} tokens, the model "
            f"only {model.config.vocab_size}"
        )
    return model, bpe
