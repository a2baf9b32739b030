"""Views alias as in PyTorch: random chains of view operations, in-place changes
through any of them, the values of the base and of every view, and the
gradients through a recorded change of a view (PyTorch's CopySlices), against
torch running the same program."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.tensor as at

# view operations that apply to any tensor of at least one dim: (name, fn)
# where fn works on both libraries' tensors
View = Callable[[Any], Any]
VIEWS: list[tuple[str, View, int]] = [  # name, fn, least ndim
    ("x[1]", lambda t: t[1], 1),
    ("x[:, 1:3]", lambda t: t[:, 1:3], 2),
    ("x[..., ::2]", lambda t: t[..., ::2], 1),
    ("x[None, 0]", lambda t: t[None, 0], 1),
    ("transpose(0, -1)", lambda t: t.transpose(0, -1), 2),
    ("t()", lambda t: t.t(), 2),
    ("permute", lambda t: t.permute(*reversed(range(t.dim()))), 1),
    ("unsqueeze(1)", lambda t: t.unsqueeze(1), 1),
    ("flatten", lambda t: t.flatten(), 1),
    ("view(-1)", lambda t: t.view(-1) if t.is_contiguous() else t.reshape(-1), 1),
    ("narrow(0, 1, 1)", lambda t: t.narrow(0, 1, 1), 1),
    ("select(-1, 0)", lambda t: t.select(-1, 0), 1),
    ("split(1)[1]", lambda t: t.split(1)[1], 1),
    ("chunk(2, -1)[0]", lambda t: t.chunk(2, -1)[0], 1),
    ("unbind(0)[0]", lambda t: t.unbind(0)[0], 1),
    ("detach()", lambda t: t.detach(), 0),
    (".data", lambda t: t.data, 0),
    ("squeeze", lambda t: t.squeeze(), 0),
]

WRITES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("add_(2)", lambda t, lib: t.add_(2.0)),
    ("mul_(-3)", lambda t, lib: t.mul_(-3.0)),
    ("fill_(7)", lambda t, lib: t.fill_(7.0)),
    ("zero_()", lambda t, lib: t.zero_()),
    ("clamp_(0, 1)", lambda t, lib: t.clamp_(0.0, 1.0)),
    ("copy_(arange)", lambda t, lib: t.copy_(lib.arange(t.numel()).reshape(t.shape))),
    ("[...] = 5", lambda t, lib: t.__setitem__(Ellipsis, 5.0)),
    ("exp_()", lambda t, lib: t.exp_()),
]


def _ok(view: tuple[str, View, int], t: Any) -> bool:
    name, _, least = view
    if t.dim() < least:
        return False
    if name.startswith(("x[1]", "narrow", "split", "x[:, 1:3]")) and (
        t.shape[0] < 2 or (name.startswith("x[:, 1:3]") and t.shape[1] < 3)
    ):
        return False
    return not (name == "t()" and t.dim() != 2)


def _pair_of(values: np.ndarray[Any, Any]) -> tuple[at.Tensor, torch.Tensor]:
    return at.tensor(values.copy()), torch.tensor(values.copy())


def _same(ours: at.Tensor, theirs: torch.Tensor, what: str) -> None:
    assert tuple(ours.shape) == tuple(theirs.shape), what
    np.testing.assert_allclose(
        np.asarray(ours.detach()), theirs.detach().numpy(), rtol=1e-12, err_msg=what
    )


@settings(max_examples=150, deadline=None)
@given(
    chains=st.lists(
        st.lists(st.integers(0, len(VIEWS) - 1), min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    ),
    writes=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, len(WRITES) - 1)),
        min_size=1,
        max_size=4,
    ),
)
def test_writes_through_views_show_in_the_base_and_every_view(
    chains: list[list[int]], writes: list[tuple[int, int]]
) -> None:
    values = np.arange(60.0).reshape(3, 4, 5) / 10 - 2
    ours, theirs = _pair_of(values)
    tensors: list[tuple[str, at.Tensor, torch.Tensor]] = [("x", ours, theirs)]
    for chain in chains:
        name, a, b = "x", ours, theirs
        for i in chain:
            view = VIEWS[i]
            if not _ok(view, b):
                continue
            name, a, b = f"{name}.{view[0]}", view[1](a), view[1](b)
        tensors.append((name, a, b))
    log = []
    for which, w in writes:
        name, a, b = tensors[which % len(tensors)]
        write_name, write = WRITES[w]
        log.append(f"{name}.{write_name}")
        write(a, at)
        write(b, torch)
        for other, oa, ob in tensors:
            _same(oa, ob, f"{other} after {'; '.join(log)}")


def test_expanded_views_refuse_in_place_writes_as_torch() -> None:
    x = at.zeros(3)
    with pytest.raises(RuntimeError, match="more than one element"):
        x.expand(2, 3).add_(1)
    with pytest.raises(RuntimeError, match="more than one element"):
        torch.zeros(3).expand(2, 3).add_(1)


def test_in_place_on_a_view_of_a_leaf_is_refused_as_torch() -> None:
    w = at.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0].add_(1)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        torch.zeros(3, requires_grad=True)[0].add_(1)
    with at.no_grad():
        w[0].add_(1)  # initialisation code does this
    np.testing.assert_array_equal(np.asarray(w.detach()), [1.0, 0.0, 0.0])


# ------------------------------------------------------------------ gradients
GRAD_CASES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    # (name, program(y, w) -> loss), y a non-leaf of shape (3, 4), w a leaf (4,)
    ("y[1].mul_(w)", lambda y, w: (y[1].mul_(w), y)[1]),
    ("y[:, 0].copy_(w[:3])", lambda y, w: (y[:, 0].copy_(w[:3]), y)[1]),
    ("y.t()[2].add_(w[1:])", lambda y, w: (y.t()[2].add_(w[1:]), y)[1]),
    ("y.view(-1)[::5].mul_(w[0])", lambda y, w: (y.view(-1)[::5].mul_(w[0]), y)[1]),
    ("v = y[1:]; v[0].mul_(w); v", lambda y, w: _kept_view(y, w)),
    ("y.transpose(0, 1).flatten() ... exp_", lambda y, w: _exp_through(y, w)),
]


def _kept_view(y: Any, w: Any) -> Any:
    v = y[1:]
    v[0].mul_(w)
    return v * 3 + y.sum()


def _exp_through(y: Any, w: Any) -> Any:
    v = y.transpose(0, 1)[1:3]
    v.exp_()
    return (y.sum(0) * w) + v.sum()


@pytest.mark.parametrize(
    ("name", "program"), GRAD_CASES, ids=[c[0] for c in GRAD_CASES]
)
def test_gradients_through_a_recorded_change_of_a_view(
    name: str, program: Callable[[Any, Any], Any]
) -> None:
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    c0 = rng.standard_normal(4)
    results = []
    for lib in (at, torch):
        x = lib.tensor(x0.copy(), requires_grad=True)
        w = lib.tensor(w0.copy(), requires_grad=True)
        c = lib.tensor(c0.copy())
        y = x * 2  # a non-leaf: in-place changes of its views are recorded
        out = program(y, w)
        loss = (out * c[: out.shape[-1]]).sum() + (y * y).sum()
        loss.backward()
        results.append((float(loss.detach()), x.grad, w.grad))
    (l1, gx1, gw1), (l2, gx2, gw2) = results
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(gx1), gx2.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(gw1), gw2.numpy(), rtol=1e-10, atol=1e-12)


def test_saved_view_changed_through_its_base_fails_backward_as_torch() -> None:
    for lib in (at, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        v = y[1:]
        out = (v * v).sum()  # v saved for backward
        y.add_(1)  # changes v too
        with pytest.raises(RuntimeError, match=r"modified by an in-?place operation"):
            out.backward()


def test_data_writes_through_unrecorded() -> None:
    for lib in (at, torch):
        p = lib.zeros(2, 3, requires_grad=True)
        p.data.normal_(0, 0.02)
        assert p.requires_grad and p.grad_fn is None
        assert float(p.detach().abs().sum()) > 0
        p.data.mul_(0)
        assert float(p.detach().abs().sum()) == 0
        p.data[0].fill_(1)
        assert float(p.detach().sum()) == 3
