"""chunk: a tensor cut into (about) equal pieces along a dim (views)."""

from __future__ import annotations

from actnet.neuron._arguments import check_dim, check_int
from actnet.neuron._checks import check_tensor
from actnet.neuron.array.split import Split, even_sizes
from actnet.tensor import Tensor


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """input cut along dim into pieces of ceil(size / chunks) elements, the last
    one shorter (so there may be fewer than chunks pieces) (torch.chunk). The
    pieces are views; Split's backward joins their gradients.

    >>> [p.shape for p in chunk(tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 2)]
    [(3,), (2,)]
    """
    check_tensor(input, "chunk", kinds="biufc")
    check_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk: input must have at least one dimension")
    d = check_dim(dim, input.ndim, "chunk")
    total = input.shape[d]
    # pieces of ceil(total / chunks); an empty dim gives chunks empty pieces
    sizes = even_sizes(total, -(-total // chunks)) if total else (0,) * chunks
    result: tuple[Tensor, ...] = Split.apply(input, sizes, d)
    return result
