"""nn.EmbeddingBag against torch.nn.EmbeddingBag (PyTorch 2.13.0, CPU): torch's
state dict loaded into ours, then outputs and the gradients of weight and
per_sample_weights for every mode, offsets and 2-d input, include_last_offset,
padding_idx, empty bags and max_norm; from_pretrained, the state dict's keys,
repr and the constructor's defaults."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

TOL = {"float32": 1e-5, "float64": 1e-12}
MODES = ["sum", "mean", "max"]
INDICES = np.array([1, 2, 4, 5, 4, 3, 2, 9, 9, 0])

LAYOUTS = [  # (input, offsets, constructor options)
    (INDICES, np.array([0, 3, 3, 6]), {}),
    (INDICES, np.array([0, 0, 10]), {}),  # empty first and last bags
    (INDICES, np.array([0, 3, 3, 6, 10]), {"include_last_offset": True}),
    (INDICES, np.array([0, 2, 2, 10]), {"include_last_offset": True}),
    (INDICES, np.array([0, 1, 4]), {"padding_idx": 4}),
    (INDICES, np.array([0, 7, 9]), {"padding_idx": -1}),  # bag 1 is padding only
    (INDICES.reshape(5, 2), None, {}),
    (INDICES.reshape(2, 5), None, {"padding_idx": 2}),
    (np.zeros(0, dtype=np.int64), np.array([0, 0]), {}),
]


def _pair(dtype: str, **options: Any) -> tuple[torch.nn.EmbeddingBag, nn.EmbeddingBag]:
    torch.manual_seed(0)
    theirs = torch.nn.EmbeddingBag(10, 3, dtype=getattr(torch, dtype), **options)
    ours = nn.EmbeddingBag(10, 3, dtype=getattr(at, dtype), **options)
    ours.load_state_dict(
        {k: at.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    )
    return theirs, ours


def _run(
    theirs: torch.nn.Module,
    ours: nn.Module,
    indices: np.ndarray,
    offsets: np.ndarray | None,
    dtype: str,
    psw: np.ndarray | None = None,
) -> None:
    tol = TOL[dtype]
    p_t = None if psw is None else torch.tensor(psw.astype(dtype), requires_grad=True)
    p_a = None if psw is None else at.tensor(psw.astype(dtype), requires_grad=True)
    ty = theirs(
        torch.tensor(indices), None if offsets is None else torch.tensor(offsets), p_t
    )
    y = ours(at.tensor(indices), None if offsets is None else at.tensor(offsets), p_a)
    assert y.shape == tuple(ty.shape) and y.dtype == getattr(at, dtype)
    np.testing.assert_allclose(
        y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol
    )
    upstream = np.random.default_rng(1).standard_normal(tuple(ty.shape)).astype(dtype)
    (ty * torch.tensor(upstream)).sum().backward()
    (y * at.tensor(upstream)).sum().backward()
    t_grad, a_grad = theirs.weight.grad, ours.weight.grad
    assert t_grad is not None and a_grad is not None
    np.testing.assert_allclose(a_grad.numpy(), t_grad.numpy(), rtol=tol, atol=tol)
    if p_t is not None and p_a is not None:
        assert p_t.grad is not None and p_a.grad is not None
        np.testing.assert_allclose(
            p_a.grad.numpy(), p_t.grad.numpy(), rtol=tol, atol=tol
        )
    np.testing.assert_allclose(
        ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=tol, atol=tol
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("indices", "offsets", "options"), LAYOUTS, ids=str)
def test_embedding_bag_matches_torch(
    indices: np.ndarray,
    offsets: np.ndarray | None,
    options: dict[str, Any],
    mode: str,
    dtype: str,
) -> None:
    theirs, ours = _pair(dtype, mode=mode, **options)
    _run(theirs, ours, indices, offsets, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("indices", "offsets", "options"), LAYOUTS, ids=str)
def test_embedding_bag_per_sample_weights_match_torch(
    indices: np.ndarray, offsets: np.ndarray | None, options: dict[str, Any], dtype: str
) -> None:
    theirs, ours = _pair(dtype, mode="sum", **options)
    psw = np.random.default_rng(2).standard_normal(indices.shape)
    _run(theirs, ours, indices, offsets, dtype, psw)


@pytest.mark.parametrize("mode", MODES)
def test_embedding_bag_max_norm_matches_torch(mode: str) -> None:
    # rows of norm about sqrt(3) and above, so max_norm=1 renormalises some
    theirs, ours = _pair("float64", mode=mode, max_norm=1.0, norm_type=2.0)
    _run(theirs, ours, INDICES, np.array([0, 3, 3, 6]), "float64")


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_matches_torch(mode: str) -> None:
    # every index twice (PyTorch 2.13's CPU backward divides by another row's
    # count, which is the same count only when all are: see actnet-neuron)
    theirs, ours = _pair("float64", mode=mode, scale_grad_by_freq=True)
    _run(
        theirs, ours, np.array([1, 2, 2, 5, 5, 1, 7, 7]), np.array([0, 3, 6]), "float64"
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_bag_from_pretrained_matches_torch(mode: str, freeze: bool) -> None:
    table = np.random.default_rng(3).standard_normal((6, 4))
    theirs = torch.nn.EmbeddingBag.from_pretrained(
        torch.tensor(table), freeze=freeze, mode=mode, padding_idx=2
    )
    ours = nn.EmbeddingBag.from_pretrained(
        at.tensor(table), freeze=freeze, mode=mode, padding_idx=2
    )
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert ours.padding_idx == theirs.padding_idx
    assert repr(ours) == repr(theirs)
    indices, offsets = np.array([0, 2, 5, 2, 1, 3]), np.array([0, 1, 1, 4])
    y = ours(at.tensor(indices), at.tensor(offsets))
    ty = theirs(torch.tensor(indices), torch.tensor(offsets))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    if not freeze:
        _run(theirs, ours, indices, offsets, "float64")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"mode": "sum", "padding_idx": -3},
        {"mode": "max", "max_norm": 2.0, "norm_type": 1.0, "include_last_offset": True},
        {"scale_grad_by_freq": True, "padding_idx": 0},
    ],
    ids=str,
)
def test_embedding_bag_state_dict_repr_and_init_match_torch(
    options: dict[str, Any],
) -> None:
    theirs = torch.nn.EmbeddingBag(1000, 20, **options)
    ours = nn.EmbeddingBag(1000, 20, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert repr(ours) == repr(theirs)
    for name in ("mode", "padding_idx", "max_norm", "norm_type", "include_last_offset",
                 "scale_grad_by_freq", "sparse"):  # fmt: skip
        assert getattr(ours, name) == getattr(theirs, name), name
    w = ours.weight.detach().numpy()
    if ours.padding_idx is not None:
        np.testing.assert_array_equal(w[ours.padding_idx], 0.0)
        np.testing.assert_array_equal(
            theirs.weight.detach()[theirs.padding_idx].numpy(), 0.0
        )
    assert abs(w.mean()) < 0.03 and abs(w.std() - 1) < 0.03  # N(0, 1) as torch's


def test_embedding_bag_signature_matches_torch() -> None:
    for ours, theirs in (
        (nn.EmbeddingBag.__init__, torch.nn.EmbeddingBag.__init__),
        (nn.EmbeddingBag.forward, torch.nn.EmbeddingBag.forward),
        (nn.EmbeddingBag.from_pretrained, torch.nn.EmbeddingBag.from_pretrained),
    ):
        a = inspect.signature(ours).parameters
        b = inspect.signature(theirs).parameters
        assert list(a) == list(b)
        assert [p.default for p in a.values()] == [p.default for p in b.values()]
