"""The labels actnet-tensor puts on device memory (what memory_snapshot and
actnet-util's memory timeline read): a Function's new outputs, what its forward
keeps on ctx for backward, and a leaf made from a view."""

from __future__ import annotations

from typing import Any

import numpy as np

import actnet.tensor as at
from actnet.device import Buffer, get_device
from actnet.ndarray import buffer_of, from_buffer
from actnet.tensor import Tensor

DEV = get_device("reference:21")


class Stats(at.Function):
    """exp(x), keeping on ctx what backward needs: a Tensor, an NDArray and a
    Buffer, nested in a tuple (the device made all three; none is labelled)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        buf = buffer_of(x.array)
        out = DEV.exp(buf)
        scale = DEV.multiply(buf, 2.0).reshape(2, 6)  # a view: its owner is labelled
        mask = DEV.greater(buf, 0.0).reshape(3, 4)
        norm = DEV.sum(buf, axis=(1,))
        ctx.parts = (at.as_tensor(from_buffer(scale)), (from_buffer(mask), norm))
        ctx.options = ("unused", 3)
        ctx.save_for_backward(at.as_tensor(from_buffer(out)))
        return at.as_tensor(from_buffer(out))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out: Tensor = ctx.saved_tensors[0]
        return grad * out


class Plain(at.Function):
    """x + 1 made on the device, keeping nothing."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return at.as_tensor(from_buffer(DEV.add(buffer_of(x.array), 1.0)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def kept(y: Tensor) -> list[Any]:
    """The labels of what Stats's forward kept on ctx for `y`."""
    scale, (mask, norm) = y.grad_fn.ctx.parts  # type: ignore[union-attr]
    return [scale.array.buffer.info, mask.buffer.info, norm.info]


def test_what_forward_keeps_on_ctx_is_labelled_while_explaining() -> None:
    x = at.tensor(np.ones((3, 4)), device=DEV, requires_grad=True)
    with at.explain_saved_memory():
        y = Stats.apply(x)
        z = Plain.apply(y)
    assert x.array.buffer.info == ("parameter", "tensor")  # not the Function's
    assert y.array.buffer.info == ("saved for backward", "input")  # saved unlabelled
    assert kept(y) == [("saved for backward", "Stats")] * 3
    assert z.array.buffer.info is None  # a new output, kept by nothing
    z.sum().backward()
    assert x.grad is not None
    y2 = Stats.apply(x)  # outside the block: nothing is looked at
    assert kept(y2) == [None] * 3


def test_without_a_graph_nothing_is_kept_for_backward() -> None:
    x = at.tensor(np.ones((3, 4)), device=DEV)  # needs no grad: no node
    with at.explain_saved_memory():
        y = Stats.apply(x)
    assert y.grad_fn is None
    assert not [
        r for r in DEV.memory_snapshot() if r.info == ("saved for backward", "Stats")
    ]


def test_a_saved_output_of_a_builtin_operation() -> None:
    x = at.tensor(np.ones(7), device=DEV, requires_grad=True)
    with at.explain_saved_memory():
        y = x.exp()  # exp keeps its output for backward
        with at.no_grad():
            z = x.exp()
    assert y.array.buffer.info == ("saved for backward", "exp")
    assert z.array.buffer.info == ("activation", "exp")
    assert x.exp().array.buffer.info == ("activation", "exp")  # not explained


def test_a_leaf_made_from_a_view_labels_its_owner() -> None:
    x = at.randn(4, 5, device=DEV)  # drawn flat, then reshaped: a view
    buf = x.array.buffer
    assert isinstance(buf.base, Buffer)
    assert buf.info == buf.base.info == ("input", "randn")
    w = at.randn(4, 5, device=DEV, requires_grad=True)
    assert w.array.buffer.info == ("parameter", "randn")
