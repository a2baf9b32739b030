"""one_hot: class indices as rows of zeros with a one."""

from __future__ import annotations

import actnet.tensor as at
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (*tensor.shape, num_classes), 1 at each index (torch.nn.functional.
    one_hot); num_classes -1: one more than the largest index.

    >>> one_hot(tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    check_tensor(tensor, "one_hot", kinds="biufc")
    if tensor.dtype != at.int64:
        raise RuntimeError(
            "one_hot is only applicable to index tensor of type LongTensor."
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if tensor.numel():
        low, high = int(tensor.min()), int(tensor.max())
        if low < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = high + 1
        elif high >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes < 0:
        raise RuntimeError(
            f"one_hot: num_classes must be -1 or >= 0, got {num_classes}"
        )
    classes = at.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).to(dtype=at.int64)
