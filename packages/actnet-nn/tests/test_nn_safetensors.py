"""save_safetensors / load_safetensors: round trips, the file layout, errors,
atomic replacement. The oracle for the layout is the safetensors specification:
8 bytes of little-endian header length, a JSON header, then the raw bytes."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy

import actnet.tensor as at
from actnet import nn
from actnet.nn import Module, Parameter, SafetensorsError

BF16 = np.dtype(at.bfloat16)
DTYPES = {
    "float32": ("F32", np.dtype(np.float32)),
    "float64": ("F64", np.dtype(np.float64)),
    "float16": ("F16", np.dtype(np.float16)),
    "bfloat16": ("BF16", BF16),
    "int64": ("I64", np.dtype(np.int64)),
    "int32": ("I32", np.dtype(np.int32)),
    "int16": ("I16", np.dtype(np.int16)),
    "int8": ("I8", np.dtype(np.int8)),
    "uint8": ("U8", np.dtype(np.uint8)),
    "bool": ("BOOL", np.dtype(np.bool_)),
}


def _values(dtype: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(0)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _header(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header: dict[str, Any] = json.loads(raw[8 : 8 + n])
    return header


def _file(header: object, data: bytes = b"", length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data


class Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
        self.scale = Parameter(at.tensor([2.0]))
        self.register_buffer("steps", at.tensor([7]))
        self.register_buffer("cache", at.zeros(2), persistent=False)


# ------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", list(DTYPES))
def test_every_dtype_round_trips_bit_for_bit(tmp_path: Path, name: str) -> None:
    code, dtype = DTYPES[name]
    values = _values(dtype, (2, 3))
    path = tmp_path / "t.safetensors"
    nn.save_safetensors({"x": at.tensor(values), "s": at.tensor(values[0, 0])}, path)
    assert _header(path)["x"]["dtype"] == code
    assert _header(path)["x"]["shape"] == [2, 3]
    assert _header(path)["s"]["shape"] == []
    loaded = nn.load_safetensors(path)
    assert set(loaded) == {"x", "s"}
    for key, expected in (("x", values), ("s", values[0, 0])):
        got = np.asarray(loaded[key])
        assert got.dtype == dtype
        assert got.shape == np.shape(expected)
        assert got.tobytes() == np.asarray(expected, dtype).tobytes()


def test_the_bytes_follow_the_specification(tmp_path: Path) -> None:
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = tmp_path / "t.safetensors"
    nn.save_safetensors({"w": at.tensor(values)}, path, metadata={"epoch": "3"})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert header["__metadata__"] == {"epoch": "3"}
    start, end = header["w"]["data_offsets"]
    body = raw[8 + n :]
    assert np.frombuffer(body[start:end], "<f4").tolist() == values.ravel().tolist()
    # The numpy reader of the reference implementation reads it too.
    with safetensors.safe_open(path, framework="numpy") as f:
        assert f.metadata() == {"epoch": "3"}
        np.testing.assert_array_equal(f.get_tensor("w"), values)


def test_a_file_written_by_the_reference_implementation_loads(tmp_path: Path) -> None:
    path = tmp_path / "ref.safetensors"
    arrays = {
        "a": np.arange(4, dtype=np.float64),
        "b": np.ones((2, 2), np.int32),
        "c": np.array(True),
    }
    safetensors.numpy.save_file(arrays, path)
    loaded = nn.load_safetensors(path)
    for key, value in arrays.items():
        np.testing.assert_array_equal(np.asarray(loaded[key]), value)
        assert loaded[key].dtype == value.dtype


def test_a_module_round_trips_into_a_fresh_one(tmp_path: Path) -> None:
    src, dst = Net(), Net()
    path = tmp_path / "net.safetensors"
    nn.save_safetensors(src, path)
    assert set(_header(path)) == {
        "fc.0.weight",
        "fc.0.bias",
        "fc.1.weight",
        "fc.1.bias",
        "scale",
        "steps",
    }
    result = dst.load_state_dict(nn.load_safetensors(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = at.randn(5, 3)
    with at.no_grad():
        np.testing.assert_array_equal(np.asarray(dst.fc(x)), np.asarray(src.fc(x)))
    assert dst.steps.tolist() == [7]


def test_views_and_shared_tensors_are_written_as_independent_copies(
    tmp_path: Path,
) -> None:
    base = at.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    path = tmp_path / "t.safetensors"
    nn.save_safetensors({"all": base, "col": base[:, 1], "same": base}, path)
    loaded = nn.load_safetensors(path)
    assert loaded["col"].tolist() == [1.0, 5.0, 9.0]
    assert loaded["same"].tolist() == loaded["all"].tolist()
    loaded["same"].add_(1.0)
    assert loaded["all"].tolist() == base.tolist()


def test_numpy_arrays_and_ndarrays_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    nn.save_safetensors({"n": np.ones(2, np.float16), "d": at.ones(3).array}, path)
    loaded = nn.load_safetensors(path, device="cpu")
    assert loaded["n"].dtype == np.float16 and loaded["d"].tolist() == [1, 1, 1]
    assert loaded["d"].device.name == "cpu:0"


def test_an_empty_state_dict_and_empty_tensors(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    nn.save_safetensors({}, path)
    assert nn.load_safetensors(path) == {}
    nn.save_safetensors({"e": at.zeros(0, 3)}, path)
    assert nn.load_safetensors(path)["e"].shape == (0, 3)


# ------------------------------------------------------------ what cannot be saved
def test_bad_arguments_to_save(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    with pytest.raises(TypeError, match="Module or a mapping"):
        nn.save_safetensors([at.ones(1)], path)  # type: ignore[arg-type]  # the bad input
    with pytest.raises(TypeError, match="not a Tensor"):
        nn.save_safetensors({"x": [1.0]}, path)  # type: ignore[dict-item]  # the bad input
    with pytest.raises(TypeError, match="names must be str"):
        nn.save_safetensors({1: at.ones(1)}, path)  # type: ignore[dict-item]  # the bad input
    with pytest.raises(TypeError, match="complex64"):
        nn.save_safetensors({"z": at.zeros(2, dtype="complex64")}, path)
    with pytest.raises(TypeError, match="metadata must map str to str"):
        nn.save_safetensors({}, path, metadata={"epoch": 3})  # type: ignore[dict-item]  # the bad input
    with pytest.raises(ValueError, match="reserved"):
        nn.save_safetensors({"__metadata__": at.ones(1)}, path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- malformed files
VALID = _file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8)
MALFORMED = {
    "empty file": b"",
    "shorter than the header length": b"\x01\x02\x03",
    "truncated data": VALID[:-1],
    "trailing bytes": VALID + b"\0",
    "garbage": b"this is not a safetensors file at all",
    "header length too big": struct.pack("<Q", 1 << 40) + b"{}",
    "header length past the end": struct.pack("<Q", 100) + b"{}",
    "invalid JSON": _file({}, length=5)[:8] + b"{abc}",
    "header is a list": _file([1, 2]),
    "unknown dtype name": _file(
        {"a": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4
    ),
    "offsets out of range": _file(
        {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 4
    ),
    "shape disagrees with offsets": _file(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4
    ),
    "metadata value not a string": _file({"__metadata__": {"k": 1}}),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_raises_safetensors_error(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(MALFORMED[case])
    with pytest.raises(SafetensorsError, match=r"bad\.safetensors") as info:
        nn.load_safetensors(path)
    assert isinstance(info.value, ValueError)


def test_the_valid_twin_of_the_malformed_files_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.safetensors"
    path.write_bytes(VALID)
    assert nn.load_safetensors(path)["a"].tolist() == [0.0, 0.0]


def test_a_dtype_actnet_lacks_is_named(tmp_path: Path) -> None:
    path = tmp_path / "f8.safetensors"
    f8 = {"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}
    path.write_bytes(_file(f8, b"\0"))
    with pytest.raises(SafetensorsError, match="F8_E4M3"):
        nn.load_safetensors(path)


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load_safetensors(tmp_path / "absent.safetensors")


# What pickle.dumps writes for {"w": 1} (protocol 2) and {"w": [1.0]} (protocol
# 4), spelled out: the loader is shown these bytes, and actnet never pickles.
_PICKLE_2 = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01K\x01s."
_PICKLE_4 = (
    b"\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01w\x94]\x94"
    b"G?\xf0\x00\x00\x00\x00\x00\x00as."
)


# ------------------------------------------------- files that torch.save wrote
# Made by hand, as torch.save lays them out (crosscheck/ loads real ones): a zip
# archive whose pickle is <name>/data.pkl (PyTorch 1.6 on), or a pickle that
# starts with PyTorch's magic number 0x1950A86A20F9469CFC6C (the legacy format).
LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def _torch_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/data.pkl", _PICKLE_2)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", b"\0" * 8)
    return out.getvalue()


TORCH_FILES = {
    "zip": (_torch_zip(), "a zip archive of pickles"),
    "legacy protocol 2": (b"\x80\x02" + LEGACY_MAGIC + b".\x80\x02}q\x00.", "legacy"),
    "legacy protocol 4": (
        b"\x80\x04\x95\x0d\0\0\0\0\0\0\0" + LEGACY_MAGIC + b".",
        "legacy",
    ),
    "another pickle": (_PICKLE_4, "a Python pickle"),
}


@pytest.mark.parametrize("case", list(TORCH_FILES))
def test_a_file_torch_save_wrote_is_named_with_its_conversion(
    tmp_path: Path, case: str
) -> None:
    data, kind = TORCH_FILES[case]
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    with pytest.raises(SafetensorsError) as info:
        nn.load_safetensors(path)
    message = str(info.value)
    assert "header too large" not in message
    assert f"{str(path)!r} is " in message and kind in message
    assert "not a safetensors file" in message
    target = str(tmp_path / "model.safetensors")
    snippet = f"`safetensors.torch.save_file(torch.load({str(path)!r}), {target!r})`"
    assert snippet in message
    assert f"`load_safetensors({target!r})`" in message
    assert nn.torch_file_message(path) == message
    assert os.listdir(tmp_path) == ["model.pt"]  # a failed load writes nothing
    assert path.read_bytes() == data


def test_a_pickle_named_safetensors_is_not_converted_onto_itself(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(_torch_zip())
    message = nn.torch_file_message(path)
    assert message is not None
    assert f", {str(tmp_path / 'model-converted.safetensors')!r})`" in message


@pytest.mark.parametrize(
    "data",
    [
        VALID,
        b"this is not a safetensors file at all",
        b"",
        b"\x80\x02",  # a pickle's start, but too short to be anything
        b"PK\x03\x04 a zip archive's start, and nothing after it",
    ],
)
def test_other_files_are_not_taken_for_torch_files(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    assert nn.torch_file_message(path) is None


def test_a_zip_archive_without_a_pickle_is_a_plain_malformed_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, a=np.ones(3))
    assert nn.torch_file_message(path) is None
    with pytest.raises(SafetensorsError, match="is not a valid safetensors file"):
        nn.load_safetensors(path)


def test_a_safetensors_file_whose_length_reads_like_a_pickle_loads(
    tmp_path: Path,
) -> None:
    # Its header is 0x0380 bytes long, so it starts b"\x80\x03": pickle's PROTO 3.
    header = json.dumps({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
    text = header.encode().ljust(0x380)  # the format allows trailing spaces
    path = tmp_path / "padded.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + struct.pack("<f", 2.5))
    assert path.read_bytes()[:2] == b"\x80\x03"
    assert nn.torch_file_message(path) is None
    assert nn.load_safetensors(path)["a"].tolist() == [2.5]


# -------------------------------------------------------------------- atomicity
def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.safetensors"
    nn.save_safetensors({"w": at.ones(3)}, path)
    before = path.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        nn.save_safetensors({"w": at.zeros(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_an_interrupted_write_leaves_nothing_when_there_was_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        nn.save_safetensors({"w": at.ones(3)}, tmp_path / "model.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_overwriting_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    nn.save_safetensors({"w": at.ones(3)}, path)
    path.chmod(0o640)
    nn.save_safetensors({"w": at.zeros(2)}, str(path))
    assert nn.load_safetensors(path)["w"].tolist() == [0.0, 0.0]
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    nn.save_safetensors({"w": at.ones(3)}, path)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
