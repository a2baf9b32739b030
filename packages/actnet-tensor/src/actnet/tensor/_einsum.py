"""einsum: sums of products named by Einstein subscripts ("bij,bjk->bik"),
written with the differentiable operations: a repeated subscript ("ii") is a
diagonal (indexing), a subscript of one operand only is a sum, and each pair of
operands, left to right, is one (batched) matmul over their shared subscripts
after a permute and a reshape, or a broadcast multiply when they share none to
sum. Gradients (and higher ones) come from those operations.
"""

from __future__ import annotations

import builtins
from collections import Counter
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.tensor._arithmetic import matmul, mul
from actnet.tensor._indexing import index
from actnet.tensor._reductions import sum
from actnet.tensor._shape import expand, permute, reshape
from actnet.tensor._tensor_base import TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

# One label per dim: a letter, or "...0", "...1", ... for the dims an ellipsis
# stands for (numbered from the left of the widest ellipsis; aligned right).
Labels = list[str]


def _error(message: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {message}")


# ------------------------------------------------------------------ parsing
def _terms(text: str, offset: builtins.int) -> list[list[str | None]]:
    """The subscripts of the comma-separated terms of `text` (None: an ellipsis);
    `offset` is text's place in the equation, for the messages."""
    terms: list[list[str | None]] = [[]]
    i = 0
    while i < len(text):
        c = text[i]
        if c == " ":
            i += 1
        elif c == ",":
            terms.append([])
            i += 1
        elif c == ".":
            k = len(terms) - 1
            if text[i : i + 3] != "...":
                raise _error(
                    f"found '.' for operand {k} that is not part of any ellipsis"
                )
            if None in terms[-1]:
                raise _error(
                    f"found '.' for operand {k} for which an ellipsis was already found"
                )
            terms[-1].append(None)
            i += 3
        elif c.isascii() and c.isalpha():
            terms[-1].append(c)
            i += 1
        else:
            raise _error(
                f"invalid subscript given at index {offset + i} in the equation "
                "string, subscripts must be in [a-zA-Z]"
            )
    return terms


def _parse(equation: str, ndims: list[builtins.int]) -> tuple[list[Labels], Labels]:
    """The labels of each operand and of the output."""
    lhs, arrow, rhs = equation.partition("->")
    terms = _terms(lhs, 0)
    if len(terms) > len(ndims):
        raise _error("fewer operands were provided than specified in the equation")
    if len(terms) < len(ndims):
        raise _error("more operands were provided than specified in the equation")
    spans = []
    for k, (term, ndim) in enumerate(zip(terms, ndims, strict=True)):
        letters = len(term) - (None in term)
        if None not in term and letters != ndim:
            raise _error(
                f"the number of subscripts in the equation ({letters}) does not match "
                f"the number of dimensions ({ndim}) for operand {k} and no ellipsis "
                "was given"
            )
        if letters > ndim:
            raise _error(
                f"the number of subscripts in the equation ({letters}) is more than "
                f"the number of dimensions ({ndim}) for operand {k}"
            )
        spans.append(ndim - letters)
    width = builtins.max(spans, default=0)
    ellipsis = [f"...{j}" for j in range(width)]
    inputs = []
    for term, span in zip(terms, spans, strict=True):
        labels: Labels = []
        for s in term:
            labels.extend(ellipsis[width - span :] if s is None else [s])
        inputs.append(labels)
    if not arrow:  # the ellipsis dims, then the letters used once, sorted
        counts = Counter(label for labels in inputs for label in labels)
        once = builtins.sorted(c for c, n in counts.items() if n == 1 and len(c) == 1)
        return inputs, ellipsis + once
    out_terms = _terms(rhs, len(lhs) + 2)
    if len(out_terms) > 1:
        raise _error("the output subscripts may not hold a ','")
    output: Labels = []
    for s in out_terms[0]:
        output.extend(ellipsis if s is None else [s])
    known = {label for labels in inputs for label in labels}
    for label in output:
        if output.count(label) > 1:
            raise _error(
                f"output subscript {label} appears more than once in the output"
            )
        if label not in known:
            raise _error(
                f"output subscript {label} does not appear in the equation for any "
                "input operand"
            )
    return inputs, output


def _sizes(inputs: list[Labels], operands: list[Tensor]) -> dict[str, builtins.int]:
    """Each label's extent; a size-1 dim broadcasts against any other."""
    sizes: dict[str, builtins.int] = {}
    for k, (labels, t) in enumerate(zip(inputs, operands, strict=True)):
        seen: dict[str, builtins.int] = {}
        for label, n in zip(labels, t.shape, strict=True):
            if seen.setdefault(label, n) != n:
                raise _error(
                    f"subscript {label} is repeated for operand {k} but the sizes "
                    f"don't match, {seen[label]} != {n}"
                )
            m = sizes.setdefault(label, n)
            if m != n:
                if m != 1 and n != 1:
                    raise _error(
                        f"subscript {label} has size {n} for operand {k} which does "
                        f"not broadcast with previously seen size {m}"
                    )
                sizes[label] = builtins.max(m, n)
    return sizes


def _from_sublists(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """einsum(op0, sublist0, op1, sublist1, ..., [output_sublist]) as an equation
    and its operands; subscript n < 26 is 'A' + n, n < 52 is 'a' + n - 26."""

    def letters(sublist: Any) -> str:
        out = []
        for n in sublist:
            if n is Ellipsis:
                out.append("...")
            elif type(n) is builtins.int and 0 <= n < 26:
                out.append(chr(ord("A") + n))
            elif type(n) is builtins.int and 26 <= n < 52:
                out.append(chr(ord("a") + n - 26))
            else:
                raise ValueError(
                    "einsum(): subscript in subscript list is not within the valid "
                    "range [0, 52)"
                )
        return "".join(out)

    pairs = len(args) // 2
    equation = ",".join(letters(args[2 * k + 1]) for k in range(pairs))
    if len(args) % 2:
        equation += "->" + letters(args[-1])
    return equation, tuple(args[2 * k] for k in range(pairs))


# ---------------------------------------------------------------- the steps
def _diagonals(x: Tensor, labels: Labels) -> tuple[Tensor, Labels]:
    """x with each repeated label ("ii") reduced to its diagonal, as its last dim."""
    while len(set(labels)) < len(labels):
        i = next(k for k, label in enumerate(labels) if labels.count(label) > 1)
        j = labels.index(labels[i], i + 1)
        rest = [k for k in range(len(labels)) if k != i and k != j]
        x = permute(x, (*rest, i, j))
        steps = xp.arange(x.shape[-1], device=x.device)
        x = index(x, (Ellipsis, _make(steps), _make(steps)))
        labels = [labels[k] for k in rest] + [labels[i]]
    return x, labels


def _sum_out(x: Tensor, labels: Labels, keep: set[str]) -> tuple[Tensor, Labels]:
    dims = tuple(k for k, label in enumerate(labels) if label not in keep)
    if not dims:
        return x, labels
    return sum(x, dims), [label for label in labels if label in keep]


def _arrange(x: Tensor, labels: Labels, target: Labels) -> Tensor:
    """x with its dims permuted into the order of target (a permutation)."""
    order = tuple(labels.index(label) for label in target)
    return permute(x, order) if list(order) != builtins.sorted(order) else x


def _product(shape: tuple[builtins.int, ...]) -> builtins.int:
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
    sizes: dict[str, builtins.int],
) -> tuple[Tensor, Labels]:
    """The product of two operands, summed over the shared labels not kept."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = [label for label in la if label in lb and label in keep]
    summed = [label for label in la if label in lb and label not in keep]
    a_only = [label for label in la if label not in lb]
    b_only = [label for label in lb if label not in la]
    nb, na = len(batch), len(a_only)
    a = _arrange(a, la, batch + a_only + summed)
    b = _arrange(b, lb, batch + summed + b_only)
    if not summed:  # batch + a_only + 1s times batch + 1s + b_only, broadcast
        a = reshape(a, (*a.shape, *([1] * len(b_only))))
        b = reshape(b, (*b.shape[:nb], *([1] * na), *b.shape[nb:]))
        return mul(a, b), batch + a_only + b_only
    # size-1 batch and summed dims broadcast against the other operand's
    batch_shape = tuple(sizes[label] for label in batch)
    summed_shape = tuple(sizes[label] for label in summed)
    a_shape, b_shape = a.shape[nb : nb + na], b.shape[nb + len(summed) :]
    a = expand(a, (*batch_shape, *a_shape, *summed_shape))
    b = expand(b, (*batch_shape, *summed_shape, *b_shape))
    m, k, n = _product(a_shape), _product(summed_shape), _product(b_shape)
    lead = (_product(batch_shape),) if batch else ()
    out = matmul(reshape(a, (*lead, m, k)), reshape(b, (*lead, k, n)))
    return reshape(out, (*batch_shape, *a_shape, *b_shape)), batch + a_only + b_only


def einsum(*args: Any) -> Tensor:
    """Sums of products of the operands' elements, named by Einstein subscripts
    (torch.einsum): "ij,jk->ik" is a matrix product, "bij,bjk->bik" a batched one,
    "i,j->ij" an outer product, "ii->" a trace, "ij->ji" a transpose, "ij->" a
    sum, "bn,anm,bm->ba" a bilinear form. Without "->" the output is the ellipsis
    dims, then the letters used once, sorted. Size-1 dims broadcast. The
    operands may also come as one list, or in PyTorch's sublist format.

    >>> einsum("i,i->", tensor([1.0, 2.0]), tensor([3.0, 4.0]))
    tensor(11.)
    """
    if not args:
        raise TypeError("einsum(): missing the equation")
    equation, operands = args[0], args[1:]
    if isinstance(equation, TensorBase):
        equation, operands = _from_sublists(args)
    elif not isinstance(equation, str):
        raise TypeError(
            "einsum(): argument 'equation' (position 1) must be str, not "
            f"{type(equation).__name__}"
        )
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise _error("must provide at least one operand")
    for k, t in enumerate(operands):
        if not isinstance(t, TensorBase):
            raise TypeError(
                f"einsum(): expected Tensor as element {k} in argument 1, but got "
                f"{type(t).__name__}"
            )
    tensors: list[Tensor] = list(operands)
    for k, t in enumerate(tensors[1:], 1):
        if t.dtype != tensors[0].dtype:
            raise _error(
                f"operands must have one dtype: operand 0 is {tensors[0].dtype}, "
                f"operand {k} is {t.dtype}"
            )
    inputs, output = _parse(equation, [t.ndim for t in tensors])
    sizes = _sizes(inputs, tensors)
    pairs = [_diagonals(t, labels) for t, labels in zip(tensors, inputs, strict=True)]
    # a label of one operand only, and not of the output, is summed out first
    counts = Counter(label for _, labels in pairs for label in labels)
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
