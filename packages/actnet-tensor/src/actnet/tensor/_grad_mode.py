"""Whether operations record the autograd graph: thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations in this thread record the graph for backward."""
    return _state.enabled


class set_grad_enabled:  # PyTorch's name
    """Turn graph recording on or off in this thread: as a function call, a
    context manager (restoring the previous mode on exit) or a decorator."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"mode must be a bool, got {type(mode).__name__}")
        self.mode = mode
        self.previous = _state.enabled
        _state.enabled = mode

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _state.enabled = self.previous


class _GradMode:
    """Base of no_grad and enable_grad: context manager and decorator, with
    parentheses or without (`@no_grad()` and `@no_grad`, as PyTorch's)."""

    mode = True

    def __new__(cls, func: Any = None) -> Any:
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
        return cls()(func)  # bare decorator: the function, wrapped

    def __init__(self, func: Any = None) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_state.enabled)
        _state.enabled = self.mode

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _state.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _state.enabled
            _state.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _state.enabled = previous

        return wrapper  # type: ignore[return-value]  # same signature as func


class no_grad(_GradMode):  # PyTorch's name
    """Operations inside do not record the graph (and in-place updates of leaves
    that require grad are allowed), in this thread."""

    mode = False


class enable_grad(_GradMode):  # PyTorch's name
    """Operations inside record the graph, even within no_grad, in this thread."""

    mode = True


class _InferenceState(threading.local):
    def __init__(self) -> None:
        self.enabled = False


_inference = _InferenceState()


def is_inference_mode_enabled() -> bool:
    """Whether this thread is inside `inference_mode()` (PyTorch's name)."""
    return _inference.enabled


class inference_mode:  # PyTorch's name
    """PyTorch's `inference_mode(mode=True)`: a context manager or decorator
    (`@inference_mode()` or `@inference_mode`) inside which nothing records the
    graph, as under no_grad; inside `inference_mode(False)` operations record
    it again (PyTorch's guard sets grad mode to `not mode`). actnet has no
    inference tensors: what is made inside is an ordinary tensor that does not
    require grad (PyTorch's own would be refused by autograd later; actnet's
    take part as constants)."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # bare decorator
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"mode must be a bool, got {type(mode).__name__}")
        self.mode = mode
        self._previous: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._previous.append((_state.enabled, _inference.enabled))
        _inference.enabled = self.mode
        _state.enabled = not self.mode  # as PyTorch's InferenceMode guard

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _state.enabled, _inference.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # same signature as func


_MATMUL_PRECISIONS = ("highest", "high", "medium")


_matmul_precision: dict[str, str] = {"float32": "highest"}


def set_float32_matmul_precision(precision: str) -> None:
    """PyTorch's `set_float32_matmul_precision`: "highest", "high" or "medium",
    remembered for `get_float32_matmul_precision`. actnet's float32 matmuls are
    float32 products at every setting (as PyTorch's are on a CPU without
    oneDNN's bfloat16 paths): the setting chooses nothing."""
    if precision not in _MATMUL_PRECISIONS:  # PyTorch warns, and keeps its own
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the "
            "current set_float32_matmul_precision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision["float32"] = precision


def get_float32_matmul_precision() -> str:
    """The setting `set_float32_matmul_precision` last made ("highest" first)."""
    return _matmul_precision["float32"]
