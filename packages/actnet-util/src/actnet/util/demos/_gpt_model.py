"""The GPT of the gpt demo, with a key/value cache for incremental decoding.

The architecture is the peer benchmark's (/work/shared/peers/bench_gpt_torch.py,
`build`): learned token and position embeddings, pre-LayerNorm blocks (a fused
qkv Linear, causal scaled dot-product attention, an output projection; an MLP
d -> 4d -> d with exact GELU), a final LayerNorm and an untied head without
bias. The state-dict keys are the peer's ("tok.weight", "pos.weight",
"blocks.0.ln1.weight", "blocks.0.qkv.weight", ..., "ln_f.bias", "head.weight"),
so a PyTorch state dict of that model loads by name, and back.

    >>> model = GPT(GPTConfig(vocab_size=512))
    >>> logits = model(at.tensor([[1, 2, 3]]))             # (1, 3, 512)
    >>> cache = KVCache.for_model(model, batch_size=1)
    >>> first = model(at.tensor([[1, 2]]), cache=cache)     # positions 0 and 1
    >>> last = model(at.tensor([[3]]), cache=cache)          # position 2 only

With a cache, `forward` runs only the new positions: their keys and values are
written into the cache at the positions after those it holds, and their
queries attend to everything the cache holds. The positions are numbered from
0 at the start of the cache; the cache holds at most `context` positions.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import actnet.neuron as F
import actnet.tensor as at
from actnet import nn
from actnet.nn.utils import write_atomic
from actnet.tensor import Tensor

__all__ = ["GPT", "GPTConfig", "KVCache"]


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT; the defaults are the peer benchmark's (with a vocabulary
    of 512 for the demo's tokenizer)."""

    vocab_size: int = 512
    context: int = 128  # learned positions: the longest sequence the model sees
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 1:
                raise ValueError(
                    f"GPTConfig: {f.name} must be a positive int, got {value!r}"
                )
        if self.d_model % self.n_heads:
            raise ValueError(
                f"GPTConfig: d_model ({self.d_model}) must be a multiple of "
                f"n_heads ({self.n_heads})"
            )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as JSON (atomically); returns the path."""
        target = Path(path)
        write_atomic(target, (json.dumps(asdict(self), indent=1) + "\n").encode())
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GPTConfig:
        """Read a config written by `save`; a file that is not one is a ValueError
        naming it."""
        where = Path(path)
        try:
            data = json.loads(where.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{where}: not a GPT config (invalid JSON: {e})") from e
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ValueError(
                f"{where}: not a GPT config (expected the keys {sorted(names)})"
            )
        try:
            return cls(**data)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from e


class KVCache:
    """The keys and values of every layer for the positions seen so far, in
    buffers of `context` positions allocated once: (batch, heads, context,
    head_dim) per layer. `length` positions are filled; `clear()` empties it.

    >>> cache = KVCache.for_model(model, batch_size=1)
    >>> cache.length, cache.capacity
    (0, 128)
    """

    def __init__(
        self,
        n_layers: int,
        batch_size: int,
        n_heads: int,
        capacity: int,
        head_dim: int,
        *,
        dtype: Any = at.float32,
        device: Any = None,
    ) -> None:
        for name, value in (
            ("n_layers", n_layers),
            ("batch_size", batch_size),
            ("n_heads", n_heads),
            ("capacity", capacity),
            ("head_dim", head_dim),
        ):
            if type(value) is not int or value < 1:
                raise ValueError(
                    f"KVCache: {name} must be a positive int, got {value!r}"
                )
        shape = (batch_size, n_heads, capacity, head_dim)
        self.keys = [
            at.zeros(*shape, dtype=dtype, device=device) for _ in range(n_layers)
        ]
        self.values = [
            at.zeros(*shape, dtype=dtype, device=device) for _ in range(n_layers)
        ]
        self.batch_size = batch_size
        self.capacity = capacity
        self.length = 0  # positions filled, the same in every layer

    @classmethod
    def for_model(cls, model: GPT, batch_size: int = 1) -> KVCache:
        """An empty cache for `model` (its context, heads and parameter dtype)."""
        c = model.config
        weight = model.tok.weight
        return cls(
            c.n_layers,
            batch_size,
            c.n_heads,
            c.context,
            c.d_model // c.n_heads,
            dtype=weight.dtype,
            device=weight.device,
        )

    def clear(self) -> None:
        """Forget every position (the buffers are kept)."""
        self.length = 0

    def append(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Write the new positions' keys and values (batch, heads, new, head_dim)
        of `layer` after those held; returns all the keys and values held. The
        last layer's call advances `length`."""
        start, new = self.length, k.shape[2]
        self.keys[layer][:, :, start : start + new] = k
        self.values[layer][:, :, start : start + new] = v
        end = start + new
        if layer == len(self.keys) - 1:
            self.length = end
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class Block(nn.Module):
    """A pre-LayerNorm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv, self.proj = (
            nn.Linear(d_model, 3 * d_model),
            nn.Linear(d_model, d_model),
        )
        self.fc1 = nn.Linear(d_model, 4 * d_model)
        self.fc2 = nn.Linear(4 * d_model, d_model)

    def forward(
        self, x: Tensor, cache: KVCache | None = None, layer: int = 0
    ) -> Tensor:
        b, t, d = x.shape
        heads = self.n_heads
        q, k, v = F.split(self.qkv(self.ln1(x)), d, dim=2)
        q, k, v = (
            z.reshape(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v)
        )
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.append(layer, k, v)
        a = _causal_attention(q, k, v, past)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def _causal_attention(q: Tensor, k: Tensor, v: Tensor, past: int) -> Tensor:
    """Query i (at position past + i) attends to keys 0 .. past + i."""
    if past == 0:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if q.shape[2] == 1:  # the newest position sees every key held
        return F.scaled_dot_product_attention(q, k, v)
    # several new positions after cached ones: the causal mask is aligned to
    # the bottom right (is_causal aligns it to the top left)
    rows = at.arange(past, past + q.shape[2], device=q.device).reshape(-1, 1)
    cols = at.arange(k.shape[2], device=q.device).reshape(1, -1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=cols <= rows)


class GPT(nn.Module):
    """The peer's GPT (see the module doc). `forward(idx, cache=None)` takes token
    ids (batch, time) and returns logits (batch, time, vocab_size)."""

    def __init__(self, config: GPTConfig | None = None) -> None:
        super().__init__()
        c = GPTConfig() if config is None else config
        if not isinstance(c, GPTConfig):
            raise TypeError(f"config must be a GPTConfig, got {type(c).__name__}")
        self.config = c
        self.tok = nn.Embedding(c.vocab_size, c.d_model)
        self.pos = nn.Embedding(c.context, c.d_model)
        self.blocks = nn.ModuleList(
            [Block(c.d_model, c.n_heads) for _ in range(c.n_layers)]
        )
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)

    def forward(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        if not isinstance(idx, Tensor) or idx.ndim != 2:
            raise ValueError(
                "idx must be a 2-d Tensor of token ids (batch, time), got "
                f"{getattr(idx, 'shape', type(idx).__name__)}"
            )
        b, t = idx.shape
        past = 0 if cache is None else cache.length
        if past + t > self.config.context:
            raise ValueError(
                f"idx: {t} positions after {past} cached ones exceed the model's "
                f"context of {self.config.context}"
            )
        if cache is not None and cache.batch_size != b:
            raise ValueError(
                f"cache: it holds a batch of {cache.batch_size}, idx has {b} rows"
            )
        x = self.tok(idx) + self.pos(at.arange(past, past + t, device=idx.device))
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        return self.head(self.ln_f(x))


def parameter_count(model: nn.Module) -> int:
    """The number of parameters of `model` (embeddings included)."""
    return sum(math.prod(p.shape) for p in model.parameters())
