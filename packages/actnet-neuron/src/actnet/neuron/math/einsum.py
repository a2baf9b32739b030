"""einsum: sums of products named by subscripts ("bij,bjk->bik"), written as
diagonals, sums, transposes, reshapes and matrix products (all differentiable)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor, as_tensor

# One label per dim: a letter, or "...0", "...1", ... for the dims an ellipsis
# stands for (numbered from the left of the widest ellipsis, aligned right).
Labels = list[str]


def _subscripts(term: str, equation: str) -> list[str | None]:
    """The letters of one term, None where its ellipsis is."""
    out: list[str | None] = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            if None in out:
                raise ValueError(f"einsum: more than one ellipsis in {term!r}")
            out.append(None)
            i += 3
            continue
        c = term[i]
        if not (c.isascii() and c.isalpha()):
            raise ValueError(
                f"einsum: invalid subscript {c!r} in {equation!r} (letters and "
                "'...' only)"
            )
        out.append(c)
        i += 1
    return out


def _parse(equation: str, ndims: list[int]) -> tuple[list[Labels], Labels]:
    """The labels of each operand and of the output."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = [_subscripts(term, equation) for term in lhs.split(",")]
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: the equation {equation!r} has {len(terms)} operands, "
            f"{len(ndims)} were given"
        )
    spans = []
    for i, (term, ndim) in enumerate(zip(terms, ndims, strict=True)):
        letters = len(term) - (None in term)
        span = ndim - letters
        if span < 0 or (span > 0 and None not in term):
            raise ValueError(
                f"einsum: operand {i} has {ndim} dims, its subscripts "
                f"{lhs.split(',')[i]!r} name {letters}"
            )
        spans.append(span)
    width = max(spans)
    ellipsis = [f"...{j}" for j in range(width)]
    inputs = []
    for term, span in zip(terms, spans, strict=True):
        labels: Labels = []
        for s in term:
            labels.extend(ellipsis[width - span :] if s is None else [s])
        inputs.append(labels)
    if not arrow:  # the broadcast dims, then the letters used once, sorted
        counts = Counter(label for labels in inputs for label in labels)
        once = sorted(c for c, n in counts.items() if n == 1 and len(c) == 1)
        return inputs, ellipsis + once
    if "->" in rhs:
        raise ValueError(f"einsum: more than one '->' in {equation!r}")
    output: Labels = []
    for s in _subscripts(rhs, equation):
        output.extend(ellipsis if s is None else [s])
    known = {label for labels in inputs for label in labels}
    for label in output:
        if output.count(label) > 1:
            raise ValueError(f"einsum: output subscript {label!r} appears twice")
        if label not in known:
            raise ValueError(
                f"einsum: output subscript {label!r} names no dim of an operand"
            )
    return inputs, output


def _sizes(inputs: list[Labels], operands: list[Tensor]) -> dict[str, int]:
    """Each label's extent; a size-1 dim broadcasts against any other."""
    sizes: dict[str, int] = {}
    for i, (labels, t) in enumerate(zip(inputs, operands, strict=True)):
        for label, n in zip(labels, t.shape, strict=True):
            m = sizes.setdefault(label, n)
            if m != n:
                if m != 1 and n != 1:
                    raise ValueError(
                        f"einsum: subscript {label[:3]!r} has size {n} in operand "
                        f"{i} and {m} elsewhere"
                    )
                sizes[label] = max(m, n)
    return sizes


def _diagonals(x: Tensor, labels: Labels) -> tuple[Tensor, Labels]:
    """x with each repeated label ("ii") reduced to its diagonal."""
    while len(set(labels)) < len(labels):
        i = next(k for k, label in enumerate(labels) if labels.count(label) > 1)
        j = labels.index(labels[i], i + 1)
        n = x.shape[i]
        if x.shape[j] != n:
            raise ValueError(
                f"einsum: the diagonal of subscript {labels[i]!r} needs equal "
                f"sizes, got {n} and {x.shape[j]}"
            )
        rest = [k for k in range(len(labels)) if k != i and k != j]
        x = x.permute(*rest, i, j)
        steps = as_tensor(xp.arange(n, device=x.device))
        x = x[..., steps, steps]  # the diagonal becomes the last dim
        labels = [labels[k] for k in rest] + [labels[i]]
    return x, labels


def _sum_out(x: Tensor, labels: Labels, keep: set[str]) -> tuple[Tensor, Labels]:
    dims = tuple(k for k, label in enumerate(labels) if label not in keep)
    if not dims:
        return x, labels
    return x.sum(dims), [label for label in labels if label in keep]


def _arrange(x: Tensor, labels: Labels, target: Labels) -> Tensor:
    """x with its dims permuted into the order of target (a permutation)."""
    order = [labels.index(label) for label in target]
    return x.permute(*order) if order != sorted(order) else x


def _product(shape: list[int]) -> int:
    n = 1
    for m in shape:
        n *= m
    return n


def _contract(
    a: Tensor,
    la: Labels,
    b: Tensor,
    lb: Labels,
    keep: set[str],
    sizes: dict[str, int],
) -> tuple[Tensor, Labels]:
    """The product of two operands, summed over the shared labels not kept: a
    broadcast multiply when none is summed, else one (batched) matmul."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = [label for label in la if label in lb and label in keep]
    summed = [label for label in la if label in lb and label not in keep]
    a_only = [label for label in la if label not in lb]
    b_only = [label for label in lb if label not in la]
    a = _arrange(a, la, batch + a_only + summed)
    b = _arrange(b, lb, batch + summed + b_only)
    nb, na, ns = len(batch), len(a_only), len(summed)
    if not summed:
        # batch + a_only + (1,...) times batch + (1,...) + b_only, broadcast
        a = a.reshape(*a.shape, *([1] * len(b_only)))
        b = b.reshape(*b.shape[:nb], *([1] * na), *b.shape[nb:])
        return a * b, batch + a_only + b_only
    # size-1 dims among the batch and summed labels broadcast: expand them
    batch_sizes = [sizes[label] for label in batch]
    a = a.expand(
        *batch_sizes, *a.shape[nb : nb + na], *[sizes[label] for label in summed]
    )
    b = b.expand(*[sizes[label] for label in batch + summed], *b.shape[nb + ns :])
    batch_shape = list(a.shape[:nb])
    a_shape, b_shape = list(a.shape[nb : nb + na]), list(b.shape[nb + ns :])
    m, k, n = _product(a_shape), _product(list(a.shape[nb + na :])), _product(b_shape)
    if batch:
        size = _product(batch_shape)
        out = a.reshape(size, m, k) @ b.reshape(size, k, n)
    else:
        out = a.reshape(m, k) @ b.reshape(k, n)
    return out.reshape(*batch_shape, *a_shape, *b_shape), batch + a_only + b_only


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sums of products of the operands' elements, named by Einstein subscripts
    (torch.einsum): "ij,jk->ik" is a matrix product, "bij->bji" a transpose,
    "ii->" a trace, "...ij,...jk" a batched product. Without "->" the output is
    the ellipsis dims, then the letters used once, sorted. A size-1 dim
    broadcasts. Operands may also come as one list.

    >>> einsum("i,i->", tensor([1.0, 2.0]), tensor([3.0, 4.0]))
    tensor(11.)
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(
            f"einsum: equation must be a str, got {type(equation).__name__}"
        )
    if not operands:
        raise ValueError("einsum: at least one operand is needed")
    tensors = [
        check_tensor(t, "einsum", f"operands[{i}]", kinds="biufc")
        for i, t in enumerate(operands)
    ]
    inputs, output = _parse(equation, [t.ndim for t in tensors])
    sizes = _sizes(inputs, tensors)
    pairs = [_diagonals(t, labels) for t, labels in zip(tensors, inputs, strict=True)]
    # a label in one operand only, and not in the output, is summed out first
    counts = Counter(label for _, labels in pairs for label in set(labels))
    pairs = [
        _sum_out(
            t, labels, {label for label in labels if counts[label] > 1} | set(output)
        )
        for t, labels in pairs
    ]
    x, labels = pairs[0]
    for k in range(1, len(pairs)):
        keep = set(output).union(*(labels for _, labels in pairs[k + 1 :]))
        x, labels = _contract(x, labels, *pairs[k], keep, sizes)
    x, labels = _sum_out(x, labels, set(output))
    return _arrange(x, labels, output)
