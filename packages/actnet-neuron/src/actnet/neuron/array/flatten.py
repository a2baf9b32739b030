"""flatten: a run of dims merged into one (a view when the layout allows)."""

from __future__ import annotations

from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """input with dims start_dim..end_dim (inclusive) merged into one
    (torch.flatten); a 0-d input becomes 1-d.

    >>> flatten(tensor([[[1.0], [2.0]], [[3.0], [4.0]]]), start_dim=1).shape
    (2, 2)
    """
    check_tensor(input, "flatten", kinds="biufc")
    shape = input.shape
    s = check_dim(start_dim, len(shape), "flatten", "start_dim")
    e = check_dim(end_dim, len(shape), "flatten", "end_dim")
    if s > e:
        raise RuntimeError(
            f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})"
        )
    if not shape:
        return input.reshape((1,))
    size = 1
    for n in shape[s : e + 1]:
        size *= n
    return input.reshape((*shape[:s], size, *shape[e + 1 :]))
