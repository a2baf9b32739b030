"""squeeze: dims of size 1 removed (a view)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron._arguments import check_dims
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """input without its size-1 dims: all of them, or those of dim (an int or a
    tuple of ints) that have size 1; the others stay (torch.squeeze). A view.

    >>> squeeze(tensor([[[1.0], [2.0]]])).shape
    (2,)
    """
    check_tensor(input, "squeeze", kinds="biufc")
    shape = input.shape
    dims = check_dims(dim, input.ndim, "squeeze")
    if dims is None:
        dims = tuple(range(len(shape)))
    kept = tuple(n for i, n in enumerate(shape) if n != 1 or i not in dims)
    return input.reshape(kept)
