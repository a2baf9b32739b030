"""gather: values picked along a dim by an index tensor."""

from __future__ import annotations

import actnet.tensor as at
from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def gather(
    input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False
) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim 1, and likewise for the
    other dims (torch.gather); index has input's number of dims, and may be
    smaller than it in the other dims. The gradient scatters back (adding at
    repeated indices); it is dense whatever sparse_grad says.

    >>> gather(tensor([[1.0, 2.0], [3.0, 4.0]]), 1, tensor([[1], [0]]))
    tensor([[2.],
            [3.]])
    """
    check_tensor(input, "gather", kinds="biufc")
    check_tensor(index, "gather", argument="index", kinds="iu")
    d = check_dim(dim, input.ndim, "gather")
    if index.ndim != input.ndim:
        raise RuntimeError(
            f"gather: index has {index.ndim} dims, input has {input.ndim}: they "
            "must have the same number"
        )
    if input.ndim == 0:  # one element: as the 1-d case
        return at.gather(input.reshape((1,)), 0, index.reshape((1,))).reshape(())
    return at.gather(input, d, index)
