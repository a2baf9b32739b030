"""embedding_bag against torch.nn.functional.embedding_bag (PyTorch 2.13.0, CPU):
the NumPy-oracle cases, then every mode with offsets and 2-d input,
include_last_offset, per_sample_weights, padding_idx, empty bags, ties and NaNs,
values and gradients (weight and per_sample_weights) to 1e-12 in float64."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import actnet.neuron as F
import actnet.tensor as at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness_torch import crosscheck_case
from test_connection_embedding_bag import CASES

MODES = ["sum", "mean", "max"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_embedding_bag_matches_torch(case: object, dtype: str) -> None:
    crosscheck_case(case, dtype)  # type: ignore[arg-type]  # a harness Case


def _compare(
    indices: Any,
    weight: np.ndarray,
    offsets: Any = None,
    per_sample_weights: np.ndarray | None = None,
    **options: Any,
) -> None:
    """Both libraries' output, weight gradient and per_sample_weights gradient
    of sum(out * g), g random."""
    ours = at.tensor(weight, requires_grad=True)
    theirs = torch.tensor(weight, requires_grad=True)
    psw = psw_t = None
    if per_sample_weights is not None:
        psw = at.tensor(per_sample_weights, requires_grad=True)
        psw_t = torch.tensor(per_sample_weights, requires_grad=True)
    y = F.embedding_bag(
        at.tensor(indices), ours, None if offsets is None else at.tensor(offsets),
        per_sample_weights=psw, **options,
    )  # fmt: skip
    ty = torch.nn.functional.embedding_bag(
        torch.tensor(indices), theirs,
        None if offsets is None else torch.tensor(offsets),
        per_sample_weights=psw_t, **options,
    )  # fmt: skip
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(
        y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14
    )
    grad = np.random.default_rng(7).standard_normal(tuple(ty.shape))
    (y * at.tensor(grad)).sum().backward()
    (ty * torch.tensor(grad)).sum().backward()
    assert ours.grad is not None and theirs.grad is not None
    np.testing.assert_allclose(
        ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14
    )
    if psw is not None and psw_t is not None:
        assert psw.grad is not None and psw_t.grad is not None
        np.testing.assert_allclose(
            psw.grad.numpy(), psw_t.grad.numpy(), rtol=1e-12, atol=1e-14
        )


INDICES = np.array([0, 2, 2, 5, 1, 1, 3, 4, 2])
LAYOUTS = [  # (offsets, options): empty bags first, in the middle and last
    (np.array([0, 3, 3, 5]), {}),
    (np.array([0, 0, 4, 9]), {}),
    (np.array([0, 3, 3, 5, 9]), {"include_last_offset": True}),
    (np.array([0, 4], dtype=np.int32), {"padding_idx": 2}),
    (np.array([0, 1, 3]), {"padding_idx": -5}),  # bag 1 is padding only
    (np.array([0, 3, 3, 5, 9]), {"include_last_offset": True, "padding_idx": 1}),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("offsets", "options"), LAYOUTS, ids=str)
def test_embedding_bag_offsets_match_torch(
    mode: str, offsets: np.ndarray, options: dict[str, Any]
) -> None:
    weight = np.random.default_rng(0).standard_normal((6, 3))
    _compare(INDICES, weight, offsets, mode=mode, **options)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"padding_idx": 0}])
def test_embedding_bag_2d_input_matches_torch(
    mode: str, options: dict[str, Any]
) -> None:
    weight = np.random.default_rng(1).standard_normal((5, 4))
    indices = np.array([[0, 1, 1], [2, 0, 4], [1, 1, 1], [3, 3, 0]])
    _compare(indices, weight, mode=mode, **options)
    # include_last_offset plays no part with fixed-length bags
    _compare(indices, weight, mode=mode, include_last_offset=True, **options)


@pytest.mark.parametrize(
    ("indices", "offsets", "options"),
    [
        (INDICES, np.array([0, 3, 3, 5]), {}),
        (INDICES, np.array([0, 3, 3, 5]), {"padding_idx": 2}),
        (INDICES, np.array([0, 2, 9]), {"include_last_offset": True}),
        (INDICES.reshape(3, 3), None, {"padding_idx": 5}),
    ],
    ids=str,
)
def test_embedding_bag_per_sample_weights_match_torch(
    indices: np.ndarray, offsets: np.ndarray | None, options: dict[str, Any]
) -> None:
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((6, 3))
    psw = rng.standard_normal(indices.shape)
    _compare(indices, weight, offsets, psw, mode="sum", **options)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("options", [{}, {"padding_idx": 3}], ids=str)
def test_embedding_bag_scale_grad_by_freq_matches_torch(
    mode: str, options: dict[str, Any]
) -> None:
    # Every row twice: PyTorch 2.13's CPU backward divides a row's gradient by
    # the count of another row (of indices_sorted[i] for the i-th distinct
    # index), which agrees with the count only when all counts are equal.
    indices = np.array([0, 2, 2, 5, 5, 0, 3, 3])
    weight = np.random.default_rng(3).standard_normal((6, 3))
    _compare(indices, weight, np.array([0, 3, 3, 5]), mode=mode,
             scale_grad_by_freq=True, **options)  # fmt: skip


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_matches_torch_embedding(mode: str) -> None:
    """Counts that differ: against torch's embedding (whose scale_grad_by_freq
    is right) summed or averaged per bag."""
    indices, bags = [0, 2, 2, 5, 1, 1, 1, 3], [0, 0, 0, 1, 1, 2, 2, 2]
    weight = np.random.default_rng(4).standard_normal((6, 3))
    grad = np.random.default_rng(5).standard_normal((3, 3))
    ours = at.tensor(weight, requires_grad=True)
    y = F.embedding_bag(at.tensor(indices), ours, at.tensor([0, 3, 5]), mode=mode,
                        scale_grad_by_freq=True)  # fmt: skip
    (y * at.tensor(grad)).sum().backward()
    theirs = torch.tensor(weight, requires_grad=True)
    rows = torch.nn.functional.embedding(
        torch.tensor(indices), theirs, scale_grad_by_freq=True
    )
    segment = torch.zeros(3, 8, dtype=torch.float64)
    segment[torch.tensor(bags), torch.arange(8)] = 1.0
    if mode == "mean":
        segment = segment / segment.sum(1, keepdim=True)
    ((segment @ rows) * torch.tensor(grad)).sum().backward()
    assert ours.grad is not None and theirs.grad is not None
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_embedding_bag_max_ties_and_nans_match_torch() -> None:
    nan = np.nan
    ties = np.array([[0.0, 5.0, 1.0], [3.0, 1.0, 1.0], [3.0, 2.0, 1.0], [9, 9, 9]])
    _compare([0, 1, 2, 1, 3], ties, [0, 4], mode="max")
    _compare([1, 1, 2, 0], ties, [0, 2], mode="max")
    nans = np.array([[0.0, 5.0], [nan, 1.0], [3.0, nan], [nan, nan]])
    for indices in ([0, 1, 2], [1, 0, 2], [2, 1, 0], [3, 0], [0, 3]):
        ours = at.tensor(nans, requires_grad=True)
        theirs = torch.tensor(nans, requires_grad=True)
        y = F.embedding_bag(at.tensor(indices), ours, at.tensor([0]), mode="max")
        ty = torch.nn.functional.embedding_bag(
            torch.tensor(indices), theirs, torch.tensor([0]), mode="max"
        )
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        y.sum().backward()
        ty.sum().backward()
        assert ours.grad is not None and theirs.grad is not None
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("mode", MODES)
def test_embedding_bag_empty_input_matches_torch(mode: str) -> None:
    weight = np.random.default_rng(6).standard_normal((4, 2))
    _compare(np.zeros(0, dtype=np.int64), weight, np.array([0, 0, 0]), mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(5))
def test_embedding_bag_random_bags_match_torch(mode: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    indices = rng.integers(0, 7, n)
    cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(1, 6))))
    offsets = np.concatenate([[0], cuts])
    options: dict[str, Any] = (
        {"padding_idx": int(rng.integers(0, 7))} if seed % 2 else {}
    )
    weight = rng.standard_normal((7, 4))
    psw = rng.standard_normal(n) if mode == "sum" else None
    _compare(indices, weight, offsets, psw, mode=mode, **options)


@pytest.mark.parametrize("psw", [False, True])
def test_embedding_bag_indices_after_the_last_offset_match_torch(psw: bool) -> None:
    """In no bag, as PyTorch 2.13's float32 "sum" (its float64 kernels, and its
    "mean" and "max", run the last bag to input's end instead)."""
    rng = np.random.default_rng(9)
    weight = rng.standard_normal((6, 3)).astype(np.float32)
    p = rng.standard_normal(9).astype(np.float32)
    y = F.embedding_bag(
        at.tensor(INDICES), at.tensor(weight), at.tensor([0, 2, 7]), mode="sum",
        include_last_offset=True, per_sample_weights=at.tensor(p) if psw else None,
    )  # fmt: skip
    ty = torch.nn.functional.embedding_bag(
        torch.tensor(INDICES), torch.tensor(weight), torch.tensor([0, 2, 7]),
        mode="sum", include_last_offset=True,
        per_sample_weights=torch.tensor(p) if psw else None,
    )  # fmt: skip
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_bag_float32_matches_torch() -> None:
    weight = np.random.default_rng(8).standard_normal((6, 3)).astype(np.float32)
    for mode in MODES:
        y = F.embedding_bag(at.tensor(INDICES), at.tensor(weight),
                            at.tensor([0, 3, 3, 5]), mode=mode)  # fmt: skip
        ty = torch.nn.functional.embedding_bag(
            torch.tensor(INDICES), torch.tensor(weight), torch.tensor([0, 3, 3, 5]),
            mode=mode,
        )  # fmt: skip
        assert y.dtype == at.float32
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"mode": "min"}, "mode has to be one of sum, mean or max"),
        ({"mode": "max", "scale_grad_by_freq": True}, "max mode does not support"),
        ({"per_sample_weights": "ones2"}, "only supported for mode='sum'"),
        ({"per_sample_weights": "ones3", "mode": "sum"}, "same shape as the input"),
        ({"offsets": [1]}, r"offsets\[0\] has to be 0"),
        ({"offsets": [0, 3]}, r"offsets\[-1\] can not be greater than input's"),
        ({"input": [[0, 1]]}, "if input is 2D, then offsets has to be None"),
        ({"offsets": None}, "offsets has to be a 1D Tensor but got None"),
    ],
    ids=str,
)
def test_embedding_bag_refuses_as_torch(options: dict[str, Any], text: str) -> None:
    """The same refusals, with torch's words (ours name the function and raise
    ValueError where torch's C++ checks raise RuntimeError)."""
    results = []
    for lib, functional in ((at, F), (torch, torch.nn.functional)):
        arguments: dict[str, Any] = {
            "input": [0, 1], "offsets": [0], **options,
        }  # fmt: skip
        kwargs: dict[str, Any] = {k: v for k, v in arguments.items() if k != "input"}
        psw = kwargs.get("per_sample_weights")
        if isinstance(psw, str):
            kwargs["per_sample_weights"] = lib.ones(int(psw[-1]), dtype=lib.float64)
        if kwargs["offsets"] is not None:
            kwargs["offsets"] = lib.tensor(kwargs["offsets"])
        weight = lib.ones(4, 3, dtype=lib.float64)
        with pytest.raises((ValueError, RuntimeError, NotImplementedError)) as info:
            functional.embedding_bag(lib.tensor(arguments["input"]), weight, **kwargs)
        results.append(str(info.value))
    for message in results:
        assert re.search(text, message), message


def test_embedding_bag_signature_matches_torch() -> None:
    ours = inspect.signature(F.embedding_bag).parameters
    theirs = inspect.signature(torch.nn.functional.embedding_bag).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


@pytest.mark.parametrize("mode", MODES)
def test_embedding_bag_max_norm_renormalises_as_torch(mode: str) -> None:
    """F.embedding_bag with max_norm renormalises the rows input looks up, in
    place, before the bags (torch.embedding_renorm_): weight, output and
    gradient as torch's."""
    rng = np.random.default_rng(8)
    indices, offsets = np.array([0, 2, 2, 4, 1, 0]), np.array([0, 2, 5])
    weight = rng.standard_normal((6, 3)) * 2.0
    ours = at.tensor(weight, requires_grad=True)
    theirs = torch.tensor(weight, requires_grad=True)
    out_ours = F.embedding_bag(
        at.tensor(indices), ours, at.tensor(offsets), max_norm=1.0, mode=mode
    )
    out_theirs = torch.nn.functional.embedding_bag(
        torch.tensor(indices), theirs, torch.tensor(offsets), max_norm=1.0, mode=mode
    )
    np.testing.assert_allclose(np.asarray(ours.detach()), theirs.detach().numpy())
    assert not np.array_equal(np.asarray(ours.detach()), weight)
    np.testing.assert_allclose(np.asarray(out_ours.detach()), out_theirs.detach())
    grad = rng.standard_normal(out_theirs.shape)
    out_ours.backward(at.tensor(grad))
    out_theirs.backward(torch.tensor(grad))
    np.testing.assert_allclose(np.asarray(ours.grad), theirs.grad.numpy())
