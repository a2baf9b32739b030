from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def operands(*shapes):
    return lambda rng: [rng.standard_normal(shape) for shape in shapes]


def einsum_case(name, equation, *shapes, double_backward=False):
    n = len(shapes)
    return Case(
        f"{name}: {equation}",
        operands(*shapes),
        lambda F, *xs: F.einsum(equation, *xs),
        lambda *xs: np.einsum(equation, *xs),
        differentiable=tuple(range(n)),
        double_backward=double_backward,
    )


CASES = [
    einsum_case("matrix product", "ij,jk->ik", (2, 3), (3, 4), double_backward=True),
    einsum_case("batched product", "bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
    einsum_case("attention scores", "bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)),
    einsum_case("transpose", "ij->ji", (2, 3)),
    einsum_case("diagonal", "ii->i", (3, 3)),
    einsum_case("trace, implicit output", "ii", (3, 3)),
    einsum_case("dot", "i,i->", (4,), (4,), double_backward=True),
    einsum_case("outer", "i,j->ij", (3,), (2,)),
    einsum_case("elementwise", "ij,ij->ij", (2, 3), (2, 3)),
    einsum_case("sum", "ij->", (2, 3)),
    einsum_case("ellipsis, broadcast", "...ij,...jk", (2, 2, 3), (3, 4)),
    Case(
        "ellipsis summed: ...ij->ij",  # as PyTorch (NumPy refuses)
        operands((2, 3, 4)),
        lambda F, x: F.einsum("...ij->ij", x),
        lambda x: x.sum(axis=0),
    ),
    einsum_case("chain of three", "ij,jk,kl->il", (2, 3), (3, 4), (4, 5)),
    einsum_case("bilinear", "bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)),
    einsum_case("permuted contraction", "ijk,jil->kl", (2, 3, 4), (3, 2, 5)),
    einsum_case("uppercase, implicit output", "Ba,ab", (2, 3), (3, 2)),
    einsum_case("diagonal and contraction", "iij,jk->ik", (3, 3, 2), (2, 4)),
    einsum_case("a size-1 dim broadcasts", "ij,j->ij", (2, 3), (1,)),
    Case(
        "transposed views, operands as a list",
        operands((4, 3), (5, 4)),
        lambda F, x, y: F.einsum("ij,jk->ik", [x.T, y.T]),
        lambda x, y: x.T @ y.T,
        differentiable=(0, 1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_einsum(case: Case) -> None:
    check(case, F)


def test_einsum_refuses_bad_input() -> None:
    x = at.ones(2, 3)
    with pytest.raises(TypeError, match="einsum: equation must be a str"):
        F.einsum(x, x)  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match=r"einsum: operands\[1\] must be a Tensor"):
        F.einsum("ij,jk", x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="has 2 operands, 1 were given"):
        F.einsum("ij,jk->ik", x)
    with pytest.raises(ValueError, match="invalid subscript '1'"):
        F.einsum("i1->i", x)
    with pytest.raises(ValueError, match="operand 0 has 2 dims, its subscripts 'ijk'"):
        F.einsum("ijk->i", x)
    with pytest.raises(ValueError, match="subscript 'j' has size 2 in operand 1"):
        F.einsum("ij,jk->ik", x, at.ones(2, 2))
    with pytest.raises(ValueError, match="output subscript 'k' names no dim"):
        F.einsum("ij->k", x)
    with pytest.raises(ValueError, match="output subscript 'i' appears twice"):
        F.einsum("ij->ii", x)
    with pytest.raises(ValueError, match="subscript 'i' has size 3 in operand 0"):
        F.einsum("ii->i", x)
    with pytest.raises(ValueError, match="diagonal of subscript 'i' needs equal"):
        F.einsum("ii->i", at.ones(1, 3))
