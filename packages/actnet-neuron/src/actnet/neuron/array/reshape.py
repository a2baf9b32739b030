"""reshape: the same elements in a new shape (a view when the layout allows)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron._arguments import check_shape
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    """input's elements, in row-major order, in the given shape; one entry may be
    -1, inferred (torch.reshape). A view when the strides allow, else a copy.

    >>> reshape(tensor([1.0, 2.0, 3.0, 4.0]), (2, -1))
    tensor([[1., 2.],
            [3., 4.]])
    """
    check_tensor(input, "reshape", kinds="biufc")
    return input.reshape(check_shape(shape, "reshape"))
