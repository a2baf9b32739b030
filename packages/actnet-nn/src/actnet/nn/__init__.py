"""actnet-nn: modules, layers, initialisers, optimisers, schedulers, safetensors.

Paths mirror PyTorch's with `actnet.nn` for `torch.nn` and `torch.optim`:

    import actnet.nn as nn
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = nn.optim.AdamW(model.parameters(), lr=1e-3)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    nn.save_safetensors(model, "model.safetensors")
"""

from actnet.nn import init, optim, utils
from actnet.nn._container import ModuleDict, ModuleList, Sequential
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn._safetensors import (
    SAFETENSORS_DTYPES,
    SafetensorsError,
    load_safetensors,
    save_safetensors,
)
from actnet.nn._state_dict import IncompatibleKeys
from actnet.nn._version import __version__
from actnet.nn.modules import (
    ELU,
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv1d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    HuberLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    MSELoss,
    MultiheadAttention,
    NLLLoss,
    ReLU,
    RMSNorm,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softplus,
    Tanh,
    TransformerBlock,
    Unflatten,
)

__all__ = [
    "ELU",
    "GELU",
    "SAFETENSORS_DTYPES",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GroupNorm",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "RMSNorm",
    "ReLU",
    "SafetensorsError",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "TransformerBlock",
    "Unflatten",
    "__version__",
    "init",
    "load_safetensors",
    "optim",
    "save_safetensors",
    "utils",
]
