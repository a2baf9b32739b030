"""Generation with the demo's GPT: the key/value cache gives the logits of the
full forward, decoding with the cache equals decoding without it (same windows,
logits within 1e-5) far past the context length, the sliding-window rule costs
at most two positions per token, sampling is seeded, and bad arguments raise
errors naming them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import actnet.device as ad
import actnet.tensor as at
from actnet import nn
from actnet.util.demos import (
    GPT,
    GPTConfig,
    KVCache,
    decode_steps,
    generate,
    load_gpt,
    sample_token,
)
from actnet.util.text import ByteBPE

CONFIG = GPTConfig(vocab_size=40, context=8, d_model=16, n_layers=2, n_heads=2)
PEER_KEYS = [  # the state-dict keys of the peer's torch model, one block shown
    "tok.weight",
    "pos.weight",
    "blocks.0.ln1.weight",
    "blocks.0.ln1.bias",
    "blocks.0.ln2.weight",
    "blocks.0.ln2.bias",
    "blocks.0.qkv.weight",
    "blocks.0.qkv.bias",
    "blocks.0.proj.weight",
    "blocks.0.proj.bias",
    "blocks.0.fc1.weight",
    "blocks.0.fc1.bias",
    "blocks.0.fc2.weight",
    "blocks.0.fc2.bias",
]


@pytest.fixture(scope="module")
def model() -> GPT:
    ad.manual_seed(7)
    return GPT(CONFIG)


def _ids(n: int, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(i) for i in rng.integers(0, CONFIG.vocab_size, n)]


def test_state_dict_keys_are_the_peers(model: GPT) -> None:
    keys = list(model.state_dict())
    assert keys[: len(PEER_KEYS)] == PEER_KEYS
    assert keys[-3:] == ["ln_f.weight", "ln_f.bias", "head.weight"]
    assert len(keys) == 2 + 12 * CONFIG.n_layers + 3
    assert model.state_dict()["blocks.1.qkv.weight"].shape == (48, 16)


@pytest.mark.parametrize("chunks", [(8,), (1,) * 8, (3, 1, 4), (5, 3)])
def test_cache_in_chunks_equals_the_full_forward(
    model: GPT, chunks: tuple[int, ...]
) -> None:
    ids = np.array([_ids(8)])
    with at.no_grad():
        full = model(at.tensor(ids)).numpy()
        cache = KVCache.for_model(model)
        parts, start = [], 0
        for n in chunks:
            parts.append(model(at.tensor(ids[:, start : start + n]), cache=cache))
            start += n
    assert cache.length == 8
    got = np.concatenate([p.numpy() for p in parts], axis=1)
    np.testing.assert_allclose(got, full, rtol=0, atol=1e-5)


def test_cache_overflow_and_batch_are_checked(model: GPT) -> None:
    cache = KVCache.for_model(model)
    with at.no_grad():
        model(at.tensor([_ids(6)]), cache=cache)
        with pytest.raises(ValueError, match="exceed the model's context of 8"):
            model(at.tensor([_ids(3)]), cache=cache)
        with pytest.raises(ValueError, match="cache: it holds a batch of 1"):
            model(at.tensor([_ids(1), _ids(1)]), cache=cache)
    cache.clear()
    assert cache.length == 0
    with pytest.raises(ValueError, match="capacity"):
        KVCache(1, 1, 1, 0, 4)


@pytest.mark.parametrize(
    ("prompt_length", "sampling"),
    [
        (1, {"temperature": 0.0}),
        (3, {"temperature": 1.0, "seed": 5}),
        (11, {"temperature": 0.7, "top_k": 5, "top_p": 0.9, "seed": 2}),
    ],
)
def test_decoding_with_the_cache_equals_without(
    model: GPT, prompt_length: int, sampling: dict[str, Any]
) -> None:
    prompt = _ids(prompt_length, seed=prompt_length)
    n = 40  # five times the context: many windows
    cached = list(decode_steps(model, prompt, n, use_cache=True, **sampling))
    plain = list(decode_steps(model, prompt, n, use_cache=False, **sampling))
    assert [s.token for s in cached] == [s.token for s in plain]
    for i, (a, b) in enumerate(zip(cached, plain, strict=True)):
        np.testing.assert_allclose(
            a.logits, b.logits, rtol=0, atol=1e-5, err_msg=f"token {i}"
        )
    # the window rule: the cache runs one position per token, and the last
    # context // 2 tokens again whenever the window is full
    positions = [s.positions for s in cached]
    assert positions[0] == min(prompt_length, CONFIG.context)
    assert set(positions[1:]) <= {1, CONFIG.context // 2}
    assert sum(positions) <= 2 * n + CONFIG.context
    # without the cache each step runs its whole window, never more than context
    assert max(s.positions for s in plain) == CONFIG.context


def test_the_window_restarts_at_half_the_context(model: GPT) -> None:
    """Spelled out for context 8 and a prompt of 3: windows of 3..8 tokens, then
    the last 4 again from position 0."""
    steps = list(decode_steps(model, _ids(3), 12, temperature=0.0, use_cache=False))
    assert [s.positions for s in steps] == [3, 4, 5, 6, 7, 8, 4, 5, 6, 7, 8, 4]
    cached = list(decode_steps(model, _ids(3), 12, temperature=0.0))
    assert [s.positions for s in cached] == [3, 1, 1, 1, 1, 1, 4, 1, 1, 1, 1, 4]


def test_the_same_seed_gives_the_same_tokens(model: GPT) -> None:
    prompt = _ids(2)
    a = generate(model, prompt, 20, temperature=1.0, seed=11)
    b = generate(model, prompt, 20, temperature=1.0, seed=11)
    c = generate(model, prompt, 20, temperature=1.0, seed=12)
    assert a == b
    assert a != c
    assert model.training  # generation puts the mode back


def test_greedy_is_the_argmax_of_the_full_forward(model: GPT) -> None:
    prompt = _ids(4)
    tokens = generate(model, prompt, 3, temperature=0)
    seq = list(prompt)
    with at.no_grad():
        for token in tokens:
            logits = model(at.tensor([seq])).numpy()[0, -1]
            assert token == int(np.argmax(logits))
            seq.append(token)


def test_sample_token() -> None:
    rng = np.random.default_rng(0)
    logits = np.array([0.0, 3.0, 1.0, 3.0, -2.0], np.float32)
    assert sample_token(logits, rng, temperature=0) == 1  # the first of the ties
    assert sample_token(logits, rng, top_k=1) in (1, 3)
    assert sample_token(logits, rng, top_p=1e-6) == 1  # only the likeliest
    draws = [sample_token(logits, rng, top_k=2) for _ in range(200)]
    assert set(draws) == {1, 3}
    draws = [sample_token(logits, rng, temperature=100.0) for _ in range(400)]
    assert set(draws) == {0, 1, 2, 3, 4}  # a high temperature flattens


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
    ],
)
def test_bad_sampling_options(
    model: GPT, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sample_token(np.zeros(3), np.random.default_rng(0), **options)
    with pytest.raises(ValueError, match=message):
        generate(model, [1], 2, **options)


def test_bad_prompts(model: GPT) -> None:
    with pytest.raises(ValueError, match="prompt must hold at least one token"):
        generate(model, [], 3)
    with pytest.raises(ValueError, match=r"prompt: token ids must be in \[0, 40\)"):
        generate(model, [40], 3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, [1], -1)
    with pytest.raises(TypeError, match="model must be a GPT"):
        generate(nn.Linear(2, 2), [1], 1)  # type: ignore[arg-type]  # the error case
    with pytest.raises(ValueError, match="idx must be a 2-d Tensor"):
        model(at.tensor([1, 2]))


def test_a_long_prompt_keeps_its_last_context_tokens(model: GPT) -> None:
    prompt = _ids(20)
    a = generate(model, prompt, 5, temperature=0)
    b = generate(model, prompt[-CONFIG.context :], 5, temperature=0)
    assert a == b


def test_config_and_loading(tmp_path: Path, model: GPT) -> None:
    with pytest.raises(ValueError, match="d_model \\(16\\) must be a multiple"):
        GPTConfig(d_model=16, n_heads=3)
    with pytest.raises(ValueError, match="n_layers must be a positive int"):
        GPTConfig(n_layers=0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_gpt(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"has no config\.json"):
        load_gpt(tmp_path)
    CONFIG.save(tmp_path / "config.json")
    assert GPTConfig.load(tmp_path / "config.json") == CONFIG
    nn.save_safetensors(model, tmp_path / "model.safetensors")
    ByteBPE.train("ab ab ab abc abc", 258).save(tmp_path / "tokenizer.json")
    with pytest.raises(ValueError, match="the tokenizer has 258 tokens"):
        load_gpt(tmp_path)  # a byte-level tokenizer needs a vocabulary >= 256
    config = GPTConfig(vocab_size=258, context=8, d_model=16, n_layers=1, n_heads=2)
    config.save(tmp_path / "config.json")
    ad.manual_seed(3)
    written = GPT(config)
    nn.save_safetensors(written, tmp_path / "model.safetensors")
    loaded, bpe = load_gpt(tmp_path)
    assert bpe.vocab_size == 258
    assert not loaded.training
    prompt = bpe.encode("abc ab")
    assert generate(loaded, prompt, 6, temperature=0) == generate(
        written, prompt, 6, temperature=0
    )
    (tmp_path / "config.json").write_text('{"vocab_size": 3}')
    with pytest.raises(ValueError, match="not a GPT config"):
        load_gpt(tmp_path)
