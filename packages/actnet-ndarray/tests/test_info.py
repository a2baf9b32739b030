"""The inspection API: __array_namespace_info__() against the standard and
array_api_strict's kind filtering."""

from __future__ import annotations

from typing import Any

import array_api_strict as strict
import pytest
from _oracle import API_VERSION, STANDARD

import actnet.ndarray as xp
from actnet.device import get_device

KINDS: list[Any] = [
    None, "bool", "signed integer", "unsigned integer", "integral",
    "real floating", "complex floating", "numeric",
    ("bool", "real floating"), ("signed integer", "complex floating"),
]  # fmt: skip


def test_capabilities() -> None:
    info = xp.__array_namespace_info__()
    assert info.capabilities() == {
        "boolean indexing": True,
        "data-dependent shapes": True,
        "max dimensions": 64,
    }


def test_default_device_and_devices() -> None:
    info = xp.__array_namespace_info__()
    assert info.default_device() is get_device("cpu")
    assert info.default_device() is xp.asarray(1.0).device
    devices = info.devices()
    assert devices[0] is info.default_device()
    assert all(d.kind == "cuda" for d in devices[1:])


def test_default_dtypes_are_what_creation_functions_pick() -> None:
    info = xp.__array_namespace_info__()
    defaults = info.default_dtypes()
    assert defaults == {
        "real floating": xp.float32,
        "complex floating": xp.complex64,
        "integral": xp.int64,
        "indexing": xp.int64,
    }
    assert xp.asarray(1.0).dtype == defaults["real floating"]
    assert xp.asarray(1j).dtype == defaults["complex floating"]
    assert xp.asarray(1).dtype == defaults["integral"]
    assert xp.argmax(xp.asarray([1, 2])).dtype == defaults["indexing"]
    assert info.default_dtypes(device="cpu") == defaults
    with pytest.raises(ValueError, match="unknown device"):
        info.default_dtypes(device="tpu")


@pytest.mark.parametrize("kind", KINDS)
def test_dtypes_by_kind_match_strict(kind: Any) -> None:
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        expected = strict.__array_namespace_info__().dtypes(kind=kind)
    got = xp.__array_namespace_info__().dtypes(kind=kind)
    assert set(got) == set(expected)  # the order is not specified
    assert all(got[name] == getattr(xp, name) for name in got)


def test_dtypes_of_a_device_are_what_it_holds() -> None:
    info = xp.__array_namespace_info__()
    assert list(info.dtypes()) == STANDARD
    lacking = info.dtypes(device="no_float64")
    assert "float64" not in lacking and "complex128" not in lacking
    assert list(lacking) == [d for d in STANDARD if d not in ("float64", "complex128")]
    assert list(info.dtypes(device=get_device("no_float64"), kind="real floating")) == [
        "float32"
    ]
    with pytest.raises(ValueError, match="kind"):
        info.dtypes(kind="floating")


def test_info_is_the_namespace_entry_point() -> None:
    assert "__array_namespace_info__" in xp.__all__
    info = xp.asarray(1.0).__array_namespace__().__array_namespace_info__()
    assert info is xp.__array_namespace_info__()
