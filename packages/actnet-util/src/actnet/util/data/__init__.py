"""Data loading: datasets, samplers, the `DataLoader`, transforms and scalers,
with PyTorch's names (``torch.utils.data``) and sklearn's `StandardScaler`.

    from actnet.util.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    for xb, yb in loader:          # actnet Tensors, a new order each epoch
        ...
    state = loader.state_dict()    # resume mid-epoch with load_state_dict(state)
"""

import sys

from actnet.tensor import register_namespace
from actnet.util.data._collate import default_collate, default_convert
from actnet.util.data.dataloader import DataLoader
from actnet.util.data.dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from actnet.util.data.sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)
from actnet.util.data.scaler import NotFittedError, StandardScaler
from actnet.util.data.transforms import AsTensor, Compose, Lambda, Normalize

__all__ = [
    "AsTensor",
    "BatchSampler",
    "Compose",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "Lambda",
    "Normalize",
    "NotFittedError",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StandardScaler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]

# `torch.utils.data` through `torch` (actnet.tensor) in ported code
register_namespace("utils.data", sys.modules[__name__])
