"""Sequential, ModuleList, ModuleDict: PyTorch's containers and key names."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self, overload

from actnet.nn._module import Module


class Sequential(Module):
    """Modules called one after another, registered as "0", "1", ... (or under the
    names of an OrderedDict).

    >>> Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
    >>> Sequential(OrderedDict([("fc", Linear(4, 8)), ("act", ReLU())]))
    """

    def __init__(self, *args: Module | Mapping[str, Module]) -> None:
        super().__init__()
        first = args[0] if len(args) == 1 else None
        if isinstance(first, Mapping):
            for name, module in first.items():
                self.add_module(name, _check_module(module, "Sequential"))
        else:
            for i, arg in enumerate(args):
                self.add_module(str(i), _check_module(arg, "Sequential"))

    def forward(self, input: Any) -> Any:  # PyTorch's name
        for module in self:
            input = module(input)
        return input

    @overload
    def __getitem__(self, idx: int) -> Module: ...
    @overload
    def __getitem__(self, idx: slice) -> Self: ...

    def __getitem__(self, idx: int | slice) -> Module | Self:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(_present(items[idx])))
        module = items[_index(idx, len(items))][1]
        return _check_module(module, "Sequential")

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self))]
        self.add_module(key, _check_module(module, "Sequential"))

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in (
            keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys))]]
        ):
            del self._modules[key]
        _renumber(self)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return (m for m in self._modules.values() if m is not None)

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Self:
        if not isinstance(other, Sequential):
            raise TypeError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        for module in list(other):
            self.append(module)
        return self

    def __mul__(self, other: int) -> Sequential:
        if not isinstance(other, int):
            raise TypeError(
                f"unsupported operand type(s) for *: {type(self)} and {type(other)}"
            )
        if other <= 0:
            raise ValueError(
                f"Non-positive multiplication factor {other} for {type(self)}"
            )
        return Sequential(*(list(self) * other))

    def __rmul__(self, other: int) -> Sequential:
        return self.__mul__(other)

    def append(self, module: Module) -> Self:
        self.add_module(str(len(self)), _check_module(module, "Sequential"))
        return self

    def insert(self, index: int, module: Module) -> Self:
        """Insert before position `index` (as list.insert; the keys are renumbered)."""
        _check_module(module, "Sequential")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m
        return self

    def extend(self, sequential: Iterable[Module]) -> Self:
        for module in sequential:
            self.append(module)
        return self

    def pop(self, key: int) -> Module:
        module = self[key]
        del self[key]
        return module


class ModuleList(Module):
    """A list of modules, registered under "0", "1", ... so that their parameters
    are the owner's.

    >>> layers = ModuleList(Linear(8, 8) for _ in range(3))
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @overload
    def __getitem__(self, idx: int) -> Module: ...
    @overload
    def __getitem__(self, idx: slice) -> Self: ...

    def __getitem__(self, idx: int | slice) -> Module | Self:
        values = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(m for m in values[idx] if m is not None)
        return _check_module(values[_index(idx, len(values))], "ModuleList")

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(
            str(_index(idx, len(self))), _check_module(module, "ModuleList")
        )

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in (
            keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys))]]
        ):
            del self._modules[key]
        _renumber(self)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return (m for m in self._modules.values() if m is not None)

    def __iadd__(self, modules: Iterable[Module]) -> Self:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> Self:
        self.add_module(str(len(self)), _check_module(module, "ModuleList"))
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(
                "ModuleList.extend should be called with an iterable, but got "
                + type(modules).__name__
            )
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert before position `index` (as list.insert)."""
        modules: list[Module | None] = list(self._modules.values())
        modules.insert(index, _check_module(module, "ModuleList"))
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def pop(self, key: int) -> Module:
        module = self[key]
        del self[key]
        return module

    def __repr__(self) -> str:
        # PyTorch's: runs of identical modules are written once, "(0-3): 4 x ...".
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list[int]] = [[0, 0]]
        blocks = [reprs[0]]
        for i, text in enumerate(reprs[1:], 1):
            if text == blocks[-1]:
                runs[-1][1] += 1
            else:
                runs.append([i, i])
                blocks.append(text)
        lines = []
        for (start, end), block in zip(runs, blocks, strict=True):
            line = f"({start}): {block}"
            if start != end:
                line = f"({start}-{end}): {end - start + 1} x {block}"
            lines.append(line.replace("\n", "\n  "))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered under their keys (insertion order kept).

    >>> heads = ModuleDict({"cls": Linear(8, 2), "box": Linear(8, 4)})
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return _check_module(self._modules[key], "ModuleDict")

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return [m for m in self._modules.values() if m is not None]

    def items(self) -> Iterable[tuple[str, Module]]:
        return [(k, m) for k, m in self._modules.items() if m is not None]

    def update(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]
    ) -> None:
        """Add or replace modules from a mapping or from (key, module) pairs."""
        if isinstance(modules, Mapping):
            pairs: Iterable[Any] = modules.items()
        elif isinstance(modules, Module | str):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value "
                "pairs, but got " + type(modules).__name__
            )
        else:
            pairs = modules
        for j, pair in enumerate(pairs):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element #{j} should be a key/value "
                    f"pair, got {pair!r}"
                )
            self[pair[0]] = pair[1]


def _check_module(module: object, container: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{container} holds Modules, got {type(module).__name__}")
    return module


def _present(items: list[tuple[str, Module | None]]) -> list[tuple[str, Module]]:
    return [(k, m) for k, m in items if m is not None]


def _index(index: int, length: int) -> int:
    if not isinstance(index, int):
        raise TypeError(f"index must be an int, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range")
    return index % length


def _renumber(container: Module) -> None:
    """Keys "0", "1", ... again after a deletion, as PyTorch does."""
    values = list(container._modules.values())
    container._modules.clear()
    for i, m in enumerate(values):
        container._modules[str(i)] = m
