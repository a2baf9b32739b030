"""The gpt demo's model against the peer's in PyTorch 2.13.0: the same state-dict
keys (weights move by name both ways), the same logits, and greedy decoding with
actnet's key/value cache gives torch's tokens (torch runs the whole window at
every step, with the same sliding-window rule)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import actnet.device as ad
import actnet.tensor as at
from actnet.util.demos import GPT, GPTConfig, generate

CONFIG = GPTConfig(vocab_size=300, context=16, d_model=32, n_layers=2, n_heads=4)


def torch_gpt(c: GPTConfig) -> Any:
    """The peer's model (/work/shared/peers/bench_gpt_torch.py, `build`), its
    sizes taken from `c`."""
    nn, F = torch.nn, torch.nn.functional
    d, heads = c.d_model, c.n_heads

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (
                z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v)
            )
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
            out: torch.Tensor = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
            return out

    class TorchGPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos = (
                nn.Embedding(c.vocab_size, d),
                nn.Embedding(c.context, d),
            )
            self.blocks = nn.ModuleList([Block() for _ in range(c.n_layers)])
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, c.vocab_size, bias=False)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
            for blk in self.blocks:
                x = blk(x)
            logits: torch.Tensor = self.head(self.ln_f(x))
            return logits

    return TorchGPT()


def torch_greedy(model: Any, prompt: list[int], n: int, context: int) -> list[int]:
    """Greedy decoding without a cache, the window rule of actnet's generate: the
    prompt's last `context` tokens, then the last context // 2 whenever the
    window would grow past `context`."""
    tokens = list(prompt)
    start = max(0, len(tokens) - context)
    new = []
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([tokens[start:]]))[0, -1]
            token = int(torch.argmax(logits))
            new.append(token)
            tokens.append(token)
            if len(tokens) - start > context:
                start = len(tokens) - context // 2
    return new


@pytest.fixture(scope="module")
def models() -> tuple[GPT, Any]:
    ad.manual_seed(0)
    ours = GPT(CONFIG)
    theirs = torch_gpt(CONFIG)
    theirs.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    )
    theirs.eval()
    return ours, theirs


def test_state_dict_keys_and_shapes_are_torchs(models: tuple[GPT, Any]) -> None:
    ours, theirs = models
    mine = ours.state_dict()
    peer = theirs.state_dict()
    assert list(mine) == list(peer)
    for name, value in peer.items():
        assert mine[name].shape == tuple(value.shape), name
    # and torch's weights load into actnet by name
    torch.manual_seed(1)
    other = torch_gpt(CONFIG)
    copy = GPT(CONFIG)
    copy.load_state_dict(
        {k: at.tensor(v.detach().numpy().copy()) for k, v in other.state_dict().items()}
    )
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(copy.state_dict()[name].numpy(), value.numpy())


def test_logits_agree(models: tuple[GPT, Any]) -> None:
    ours, theirs = models
    ids = np.random.default_rng(0).integers(0, CONFIG.vocab_size, (3, CONFIG.context))
    with at.no_grad():
        mine = ours(at.tensor(ids)).numpy()
    with torch.no_grad():
        peer = theirs(torch.from_numpy(ids)).numpy()
    np.testing.assert_allclose(mine, peer, rtol=0, atol=1e-5)


@pytest.mark.parametrize("prompt_length", [3, 40])
def test_greedy_decoding_gives_torchs_tokens(
    models: tuple[GPT, Any], prompt_length: int
) -> None:
    ours, theirs = models
    prompt = np.random.default_rng(prompt_length).integers(0, 300, prompt_length)
    n = 50  # past three windows of 16
    mine = generate(ours, prompt.tolist(), n, temperature=0)
    peer = torch_greedy(theirs, prompt.tolist(), n, CONFIG.context)
    assert mine == peer
