"""Automatic mixed precision: `autocast` and PyTorch's CPU op lists.

Inside `autocast("cpu", dtype=bfloat16)` each operation on PyTorch's CPU
autocast lists (`_autocast_lists.py`) casts its floating tensor arguments first,
as `torch.autocast` does:

- lower_precision_fp (linear, matmul, bmm, addmm, the convolutions, scaled dot
  product attention, ...): float32 and float16 arguments to the autocast dtype,
  so the result is bfloat16 (float64 is left alone);
- fp32 (the losses, prod, ...): bfloat16 and float16 arguments to float32;
- promote (cat, stack): every one to the widest among them, float32 over the
  autocast dtype (float64 left alone).

Everything else runs in its inputs' dtypes (a bfloat16 + float32 sum is float32).
Only floating tensors of the autocast's device type are cast; the cast is
`Tensor.to`, differentiable, so gradients reach float32 parameters in float32.
While a listed operation runs, autocast is off (what it calls inside is not cast
again: PyTorch's dispatcher excludes its autocast key there), and backward runs
with it off, in the dtypes forward chose. Casts of float32 leaves that require
grad (parameters) to the autocast dtype are kept until the outermost autocast
region exits (`cache_enabled`), so a weight used twice is cast once.

The state is thread-local, as grad mode is: a region opened in one thread does
not cast in another.

    import actnet.tensor as at
    with at.autocast("cpu", dtype=at.bfloat16):
        y = x @ w          # bfloat16
        loss = F.cross_entropy(y, target)  # float32
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import numpy as np

import actnet.ndarray as xp
from actnet.device import on_bfloat16
from actnet.tensor._autocast_lists import CPU_CAST_POLICIES
from actnet.tensor._autocast_state import _State, _state
from actnet.tensor._grad_mode import is_grad_enabled
from actnet.tensor._promotion import as_dtype
from actnet.tensor._shape import to
from actnet.tensor._tensor_base import TensorBase

F = TypeVar("F", bound=Callable[..., Any])
DType = np.dtype[Any]

# The device types autocast knows (PyTorch's names: `Tensor.device.type`).
DEVICE_TYPES: Final = ("cpu", "cuda")
# What CPU autocast casts to (PyTorch 2.13: bfloat16 and float16).
CPU_DTYPES: Final[set[DType]] = {xp.float16}  # and bfloat16, once it loads (below)
# The floating dtypes autocast casts (PyTorch's is_eligible: float64 is not).
_ELIGIBLE: Final[set[DType]] = {xp.float16, xp.float32}  # and bfloat16


def _take_bfloat16(bf16: DType) -> None:
    CPU_DTYPES.add(bf16)
    _ELIGIBLE.add(bf16)


on_bfloat16(_take_bfloat16)


def _device_type(device_type: Any, op: str) -> str:
    if not isinstance(device_type, str):  # torch's ValueError, for ported code
        raise ValueError(  # noqa: TRY004
            f"{op}: expected `device_type` of type `str`, got: `{type(device_type)}`"
        )
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(
            f"User specified an unsupported autocast device_type '{device_type}' "
            f"(actnet's are {', '.join(repr(d) for d in DEVICE_TYPES)})"
        )
    return device_type


# ------------------------------------------------------------ the state API
def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` in this thread. Without one,
    CUDA's (PyTorch's meaning of the call without arguments).

    >>> with autocast("cpu"):
    ...     is_autocast_enabled("cpu"), is_autocast_enabled()
    (True, False)
    """
    if device_type is None:
        return _state.cuda
    _device_type(device_type, "is_autocast_enabled")
    return _state.cpu if device_type == "cpu" else _state.cuda


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Turn autocast on or off for `device_type` in this thread (what
    `autocast` does on entry and exit)."""
    _device_type(device_type, "set_autocast_enabled")
    if device_type == "cpu":
        _state.cpu = bool(enabled)
    else:
        _state.cuda = bool(enabled)


def get_autocast_dtype(device_type: str) -> DType:
    """The dtype lower-precision operations cast to on `device_type`: bfloat16
    for "cpu", float16 for "cuda" unless set.

    >>> get_autocast_dtype("cpu")
    dtype(bfloat16)
    """
    _device_type(device_type, "get_autocast_dtype")
    return _state.cpu_dtype if device_type == "cpu" else _state.cuda_dtype


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    _device_type(device_type, "set_autocast_dtype")
    if device_type == "cpu":
        _state.cpu_dtype = as_dtype(dtype)
    else:
        _state.cuda_dtype = as_dtype(dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether casts of parameters are kept for the rest of the region."""
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Drop the kept casts (the outermost `autocast` does on exit)."""
    _state.cache.clear()


def autocast_increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


def is_autocast_cpu_enabled() -> bool:
    """Deprecated in PyTorch: `is_autocast_enabled("cpu")`."""
    warnings.warn(
        "torch.is_autocast_cpu_enabled() is deprecated. Please use "
        "torch.is_autocast_enabled('cpu') instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return _state.cpu


def get_autocast_cpu_dtype() -> DType:
    """Deprecated in PyTorch: `get_autocast_dtype("cpu")`."""
    warnings.warn(
        "torch.get_autocast_cpu_dtype() is deprecated. Please use "
        "torch.get_autocast_dtype('cpu') instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return _state.cpu_dtype


# --------------------------------------------------------------- the region
class autocast:
    """A region (context manager or decorator) where the operations on
    PyTorch's autocast lists cast their floating arguments: `torch.autocast`
    (also `torch.amp.autocast`). `dtype` is what lower-precision operations
    cast to (None: `get_autocast_dtype(device_type)`, bfloat16 on cpu);
    `enabled=False` turns autocast off inside; `cache_enabled` keeps each
    parameter's cast for the region (None: `is_autocast_cache_enabled()`).
    Regions nest, each restoring the state it found.

    >>> model = nn.Linear(4, 2)
    >>> with autocast("cpu", dtype=bfloat16):
    ...     model(randn(3, 4)).dtype
    dtype(bfloat16)
    >>> @autocast("cpu")
    ... def forward(x): ...
    """

    def __init__(
        self,
        device_type: str,
        dtype: Any = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        self.device = _device_type(device_type, "autocast")
        self.fast_dtype = (
            get_autocast_dtype(device_type) if dtype is None else as_dtype(dtype)
        )
        self._cache_enabled = (
            is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        )
        if enabled and self.device == "cuda":
            warnings.warn(
                "actnet's autocast casts on cpu only (CUDA autocast is not "
                "implemented). Disabling autocast.",
                stacklevel=2,
            )
            enabled = False
        elif enabled and self.fast_dtype not in CPU_DTYPES:
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling "
                "autocast.\nCPU Autocast only supports dtypes of "
                "actnet.tensor.bfloat16, actnet.tensor.float16 currently.",
                stacklevel=2,
            )
            enabled = False
        self._enabled = bool(enabled)
        self._saved: list[tuple[bool, DType, bool]] = []

    def __enter__(self) -> Self:
        self._saved.append(
            (
                is_autocast_enabled(self.device),
                get_autocast_dtype(self.device),
                _state.cache_enabled,
            )
        )
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        _state.nesting += 1
        _state.cache_enabled = self._cache_enabled
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        enabled, dtype, cache_enabled = self._saved.pop()
        _state.nesting -= 1
        if _state.nesting == 0:  # outside every region: the kept casts go
            _state.cache.clear()
        set_autocast_enabled(self.device, enabled)
        set_autocast_dtype(self.device, dtype)
        _state.cache_enabled = cache_enabled

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got "
                f"{type(func).__name__}. Did you mean to use autocast as a context "
                'manager, `autocast("cpu")` in a with statement around the '
                "forward pass?"
            )
        device, dtype = self.device, self.fast_dtype
        enabled, cache = self._enabled, self._cache_enabled

        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            # a region of its own per call: calls may nest, or run in threads
            region = _quiet_copy(device, dtype, enabled, cache)
            with region:
                return func(*args, **kwargs)

        return decorate_autocast  # type: ignore[return-value]  # func's signature


def _quiet_copy(device: str, dtype: DType, enabled: bool, cache: bool) -> autocast:
    """An autocast of these settings, already checked (no warning again)."""
    region = autocast.__new__(autocast)
    region.device, region.fast_dtype = device, dtype
    region._enabled, region._cache_enabled = enabled, cache
    region._saved = []
    return region


# -------------------------------------------------------------- the casting
def autocast_op(name: str) -> Callable[[F], F]:
    """Decorate the function of operation `name` (PyTorch's name on its CPU
    autocast lists, `CPU_CAST_POLICIES`) so that inside an autocast region it
    casts its floating tensor arguments (also those in list or tuple
    arguments) by the op's policy, then runs with autocast off. Outside one it
    is the function itself, at the cost of one check.

    >>> @autocast_op("linear")
    ... def linear(input, weight, bias=None): ...
    """
    policy = CPU_CAST_POLICIES[name]  # a KeyError names an op off the lists

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def cast_then_run(*args: Any, **kwargs: Any) -> Any:
            state = _state
            if not state.cpu:
                return func(*args, **kwargs)
            args, kwargs = _cast_arguments(policy, state, args, kwargs)
            state.cpu = False
            try:
                return func(*args, **kwargs)
            finally:
                state.cpu = True

        return cast_then_run  # type: ignore[return-value]  # func's signature

    return decorate


def autocast_cast(name: str, *tensors: Any) -> tuple[Any, ...]:
    """`tensors` as operation `name` of the lists casts them inside an autocast
    region (themselves outside one), for an operation whose entry on the lists
    depends on its arguments (pad is `reflection_pad2d` in "reflect" mode on 2
    dims), which `autocast_op` cannot decorate whole. Autocast stays on.

    >>> with autocast("cpu"):
    ...     (x,) = autocast_cast("mse_loss", randn(2).bfloat16())
    ...     x.dtype
    dtype('float32')
    """
    policy = CPU_CAST_POLICIES[name]
    state = _state
    if not state.cpu:
        return tensors
    return _cast_arguments(policy, state, tensors, {})[0]


def _cast_arguments(
    policy: str, state: _State, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if policy == "lower_precision_fp":
        target = state.cpu_dtype
    elif policy == "fp32":
        target = xp.float32
    elif policy == "promote":
        target = _widest(state.cpu_dtype, (*args, *kwargs.values()))
    else:  # "unlisted": no cast, only autocast off inside
        return args, kwargs
    cast_args = tuple([_cast(a, target, state) for a in args])
    cast_kwargs = {k: _cast(v, target, state) for k, v in kwargs.items()}
    return cast_args, cast_kwargs


def _eligible(value: Any) -> bool:
    return (
        isinstance(value, TensorBase)
        and value.dtype in _ELIGIBLE
        and value.device.kind == "cpu"
    )


def _cast(value: Any, dtype: DType, state: _State) -> Any:
    """value in `dtype` when it is an eligible tensor (or a list or tuple of
    them, cast each); anything else as it is."""
    t = type(value)
    if t is list or t is tuple:
        return t(_cast(v, dtype, state) for v in value)
    if not _eligible(value) or value.dtype == dtype:
        return value
    cacheable = (
        state.cache_enabled
        and dtype == state.cpu_dtype
        and value.dtype == xp.float32
        and value.is_leaf
        and value._requires_grad
        and is_grad_enabled()  # a cast made under no_grad has no graph to reuse
    )
    if not cacheable:
        return to(value, None, dtype)
    key = id(value)
    kept = state.cache.get(key)
    if kept is not None and kept[1] == value._version and kept[0]() is value:
        return kept[2]
    cast = to(value, None, dtype)
    state.cache[key] = (weakref.ref(value), value._version, cast)
    return cast


def _widest(lower: DType, values: tuple[Any, ...]) -> DType:
    """PyTorch's promote_type: float32 when an eligible argument is float32,
    else the autocast dtype (float64 arguments do not count)."""
    current = lower
    for value in values:
        items = value if type(value) in (list, tuple) else (value,)
        for item in items:
            if not _eligible(item):
                continue
            if item.dtype == xp.float32:
                return xp.float32
            if item.dtype != lower:
                raise RuntimeError(
                    f"autocast: {item.dtype} beside {lower} in an operation that "
                    "promotes its arguments (cast one of them first)"
                )
    return current
