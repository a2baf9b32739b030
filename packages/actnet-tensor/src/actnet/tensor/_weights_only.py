"""`load(..., weights_only=True)`: an unpickler that builds only what a
checkpoint holds, torch 2.13's `weights_only` rule.

Tensors, NumPy arrays, dtypes and devices are not pickled objects in actnet's
format but records the unpickler asks for by persistent id (actnet.tensor.
_serialization), so no global is needed for them. What the pickle itself may
name is a short allowlist (`collections.OrderedDict`, `set`, ...: Python's
containers and primitives, as torch's list allows them) and what the user adds
with `add_safe_globals` / `safe_globals` (`torch.serialization`'s functions);
any other global is refused with torch's `pickle.UnpicklingError`, naming it.
Restricting `find_class` is the restriction the pickle module's documentation
gives ("Restricting Globals"): every callable the pickle can reach comes
through it, so nothing else can run. BUILD (set an object's state) is limited
as torch limits it, to OrderedDict and the user's classes: otherwise a file
could set attributes of a shared object it got (the Device a persistent id
names). That hook needs pickle's Python unpickler (`pickle._Unpickler`, whose
`dispatch` table typeshed declares); the pickle holds no tensor values, so its
speed does not matter.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import pickle
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import IO, Any, ClassVar, Final

from actnet.tensor._tensor import _restore

SafeGlobal = Callable[..., Any] | tuple[Callable[..., Any], str]

# Never allowed, even when the user allowlists a name of theirs (torch's list).
_BLOCKED_MODULES: Final = frozenset({"sys", "os", "posix", "nt"})

# What a weights-only file may name: containers and primitives as pickle writes
# them (protocol 2 writes bytes as `_codecs.encode`, sets through `set`), and
# Tensor.__reduce__'s rebuild (a Tensor subclass that pickles as a Tensor).
_ALLOWED: Final[dict[str, Any]] = {
    "collections.OrderedDict": OrderedDict,
    "collections.Counter": Counter,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.complex": complex,
    "builtins.bytes": bytes,
    "builtins.bytearray": bytearray,
    "builtins.slice": slice,
    "builtins.range": range,
    "_codecs.encode": codecs.encode,
    "actnet.tensor._tensor._restore": _restore,
}

# The user's additions (torch.serialization.add_safe_globals); a set, as torch's.
_safe_globals: set[SafeGlobal] = set()

UNSAFE_MESSAGE: Final = (
    "actnet.tensor.load defaults to `weights_only=True`, as torch.load does "
    "since PyTorch 2.6. Re-running `actnet.tensor.load` with `weights_only` set "
    "to `False` will likely succeed, but it can result in arbitrary code "
    "execution. Do it only if you got the file from a trusted source."
)


def add_safe_globals(safe_globals: Iterable[SafeGlobal]) -> None:
    """Allow these classes and functions in a `weights_only=True` load (a
    callable is known by its `__module__` and `__qualname__`; a pair
    `(callable, "module.name")` gives the name explicitly). torch's function.

    >>> add_safe_globals([MyConfig])  # a dataclass the checkpoint holds
    """
    global _safe_globals
    _safe_globals = _safe_globals | set(safe_globals)


def get_safe_globals() -> list[SafeGlobal]:
    """What `add_safe_globals` allowed, as a list.

    >>> get_safe_globals()
    []
    """
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget everything `add_safe_globals` allowed.

    >>> clear_safe_globals()
    """
    global _safe_globals
    _safe_globals = set()


class safe_globals:  # torch's name, lowercase: a context manager class
    """Allow these classes and functions inside the block only.

    >>> with safe_globals([MyConfig]):
    ...     checkpoint = load("run.pt")
    """

    def __init__(self, safe_globals: Iterable[SafeGlobal]) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self) -> None:
        add_safe_globals(self.safe_globals)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _safe_globals
        _safe_globals = _safe_globals - set(self.safe_globals)


def _user_allowed() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in _safe_globals:
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], str):
                raise TypeError(
                    "a safe global is a callable or a pair (callable, "
                    f"'module.name'), got {item!r}"
                )
            out[item[1]] = item[0]
        else:
            out[f"{item.__module__}.{item.__qualname__}"] = item
    return out


class WeightsUnpickler(pickle._Unpickler):
    """pickle's Unpickler whose `find_class` answers only for the allowlist,
    whose BUILD takes only OrderedDict and allowlisted classes, and whose
    persistent ids are actnet's records (`persistent_load`)."""

    dispatch: ClassVar[dict[int, Callable[[pickle.Unpickler], None]]] = dict(
        pickle._Unpickler.dispatch
    )

    def __init__(
        self, file: IO[bytes], *, encoding: str, persistent_load: Callable[[Any], Any]
    ) -> None:
        super().__init__(file, encoding=encoding)
        self._persistent_load = persistent_load

    def persistent_load(self, pid: Any) -> Any:
        return self._persistent_load(pid)

    def find_class(self, module: str, name: str, /) -> Any:
        # Python 2 names (protocol 2 files): find_class is asked before pickle's
        # own mapping, so map them here, as torch's unpickler does.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if module.partition(".")[0] in _BLOCKED_MODULES:
            raise pickle.UnpicklingError(
                f"Trying to load unsupported GLOBAL {full} whose module {module} "
                "is blocked."
            )
        if full in _ALLOWED:
            return _ALLOWED[full]
        user = _user_allowed()
        if full in user:
            return user[full]
        shown = full.removeprefix("builtins.")
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by "
            "default. Please use `actnet.tensor.serialization.add_safe_globals"
            f"([{shown}])` or the `actnet.tensor.serialization.safe_globals"
            f"([{shown}])` context manager to allowlist this global if you trust "
            "this class/function."
        )

    def _load_build(self) -> None:
        target = self.stack[-2]  # type: ignore[attr-defined]  # (state on top)
        kind = type(target)
        if kind is not OrderedDict and kind not in _user_allowed().values():
            raise pickle.UnpicklingError(
                "Can only build OrderedDict or types allowlisted via "
                "`actnet.tensor.serialization.add_safe_globals`, but got "
                f"{kind.__module__}.{kind.__qualname__}"
            )
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]

    dispatch[pickle.BUILD[0]] = _load_build  # type: ignore[assignment]


def weights_only_message(error: str) -> str:
    """torch's wording for a refused weights-only load around `error`."""
    if "was not an allowed global by default" in error:
        return (
            "Weights only load failed. This file can still be loaded, to do so "
            "you have two options, do those steps only if you trust the source "
            f"of the checkpoint.\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to "
            "load with `weights_only=True` please check the recommended steps in "
            f"the following error message.\n\tWeightsUnpickler error: {error}"
        )
    return f"Weights only load failed. {UNSAFE_MESSAGE}\n\n{error}"
