"""actnet.tensor.checkpoint against torch.utils.checkpoint (use_reentrant=False,
PyTorch 2.13.0): two transformer blocks checkpointed one by one, from the same
weights, give torch's loss and gradients; with dropout, the masks drawn again in
backward are the first run's (the gradients equal actnet's own without
checkpoint, bit for bit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.utils.checkpoint

import actnet.tensor as at
from actnet import nn
from actnet.device import default_generator
from actnet.tensor.checkpoint import checkpoint

torch.set_num_threads(2)
D, HEADS, LENGTH, BATCH = 16, 2, 7, 3
RENAME = {"norm1": "ln1", "self_attn": "attn", "norm2": "ln2", "linear1": "mlp.0",
          "linear2": "mlp.3"}  # fmt: skip


def _blocks(dropout: float) -> tuple[list[nn.TransformerBlock], list[Any]]:
    """Two actnet blocks and torch's (TransformerEncoderLayer, norm_first), with
    the same weights."""
    torch.manual_seed(0)
    options = {"activation": "gelu", "batch_first": True, "norm_first": True,
               "dtype": torch.float64}  # fmt: skip
    theirs = [
        torch.nn.TransformerEncoderLayer(D, HEADS, 2 * D, dropout, **options)
        for _ in range(2)
    ]
    ours = [nn.TransformerBlock(D, HEADS, 2 * D, dropout, dtype=at.float64)
            for _ in range(2)]  # fmt: skip
    for mine, layer in zip(ours, theirs, strict=True):
        state = {}
        for key, value in layer.state_dict().items():
            head, rest = key.split(".", 1)
            state[f"{RENAME[head]}.{rest}"] = at.tensor(value.numpy().copy())
        mine.load_state_dict(state)
    return ours, theirs


def _run(blocks: list[Any], x: Any, each: Callable[[Any, Any], Any]) -> Any:
    for block in blocks:
        x = each(block, x)
    return (x * x).mean()


def _gradients(blocks: list[Any]) -> dict[str, np.ndarray[Any, Any]]:
    """Each parameter's gradient by its actnet name."""
    out = {}
    for i, block in enumerate(blocks):
        for name, p in block.named_parameters():
            head, rest = name.split(".", 1)
            assert p.grad is not None
            out[f"{i}.{RENAME.get(head, head)}.{rest}"] = p.grad.detach().numpy()
    return out


def test_checkpointed_blocks_match_torch() -> None:
    ours, theirs = _blocks(0.0)
    x = np.random.default_rng(1).standard_normal((BATCH, LENGTH, D))
    ax = at.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    loss = _run(ours, ax, lambda b, h: checkpoint(b, h, is_causal=False))
    tloss = _run(theirs, tx, lambda b, h: torch.utils.checkpoint.checkpoint(
        b, h, use_reentrant=False))  # fmt: skip
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    assert ax.grad is not None and tx.grad is not None
    np.testing.assert_allclose(ax.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    grads, tgrads = _gradients(ours), _gradients(theirs)
    assert set(grads) == set(tgrads)
    for name, g in grads.items():
        np.testing.assert_allclose(g, tgrads[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_dropout_masks_are_drawn_again_the_same() -> None:
    ours, _ = _blocks(0.3)
    for block in ours:
        block.train()
    x = at.tensor(np.random.default_rng(2).standard_normal((BATCH, LENGTH, D)))

    def gradients(each: Callable[[Any, Any], Any]) -> dict[str, np.ndarray[Any, Any]]:
        for block in ours:
            block.zero_grad(set_to_none=True)
        default_generator.manual_seed(5)
        _run(ours, x, each).backward()
        return _gradients(ours)

    want = gradients(lambda b, h: b(h, is_causal=False))
    got = gradients(lambda b, h: checkpoint(b, h, is_causal=False))
    assert set(got) == set(want)
    for name, g in got.items():
        np.testing.assert_array_equal(g, want[name], err_msg=name)
