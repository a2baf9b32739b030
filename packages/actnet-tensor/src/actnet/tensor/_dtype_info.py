"""torch.finfo and torch.iinfo: the limits of a floating or integer dtype, as
PyTorch's objects give them (attributes, not methods; `dtype` is the name).

    >>> finfo(float32).min              # the most negative float32
    -3.4028234663852886e+38
    >>> iinfo(int8).max
    127
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

import numpy as np

from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._promotion import as_dtype


class finfo:  # PyTorch's name
    """The limits of a floating dtype (the default dtype when none is given):
    bits, eps, max, min, tiny (= smallest_normal) and resolution as Python
    floats; complex dtypes give those of their parts, as in PyTorch."""

    def __init__(self, type: Any = None) -> None:
        dtype = get_default_dtype() if type is None else as_dtype(type)
        info: Any
        if dtype.name == "bfloat16":  # ml_dtypes' finfo: NumPy's does not know it
            info = importlib.import_module("ml_dtypes").finfo(dtype)
        elif dtype.kind in "fc":
            info = np.finfo(dtype)
        else:
            raise TypeError(
                f"torch.finfo() requires a floating point input type, got {dtype}"
            )
        self.bits: builtins.int = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = builtins.float(info.smallest_normal)
        self.smallest_normal = self.tiny
        self.resolution = 10.0 ** -builtins.int(info.precision)  # as PyTorch
        self.dtype = np.dtype(info.dtype).name  # a complex's part's

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, "
            f"max={self.max:g}, eps={self.eps:g}, smallest_normal={self.tiny:g}, "
            f"tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:  # PyTorch's name
    """The limits of an integer dtype: bits, max and min as Python ints."""

    def __init__(self, type: Any) -> None:
        dtype = as_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"{dtype} is not supported by torch.iinfo")
        info = np.iinfo(dtype)
        self.bits: builtins.int = info.bits
        self.min: builtins.int = builtins.int(info.min)
        self.max: builtins.int = builtins.int(info.max)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
