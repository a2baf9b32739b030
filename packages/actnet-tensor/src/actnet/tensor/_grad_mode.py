"""Whether operations record the autograd graph: thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading
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
    """Base of no_grad and enable_grad: context manager and decorator."""

    mode = True

    def __init__(self) -> None:
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
