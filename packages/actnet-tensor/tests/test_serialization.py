"""`save` / `load` (torch.save / torch.load's place): round trips against the
NumPy values saved, the atomic write, the weights-only unpickler, map_location,
and the refusal of files actnet did not write (torch's among them)."""

from __future__ import annotations

import io
import os
import pickle
import re
import struct
import zipfile
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import actnet.tensor as at
from actnet.tensor import Tensor

DTYPES = [
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
    "complex64",
    "complex128",
]
FLOATING = {"float32", "float64", "float16", "bfloat16"}


def _host(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray[Any, Any]:
    """Values of every kind a dtype holds (NaN, inf, -0.0 for floats)."""
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) < 0.5
    if name.startswith(("int", "uint")):
        info = np.iinfo(name)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=name)
    values = rng.standard_normal(shape) * 100
    flat = values.reshape(-1)
    flat[: min(3, flat.size)] = [np.nan, -np.inf, -0.0][: min(3, flat.size)]
    if name.startswith("complex"):
        return (values + 1j * rng.standard_normal(shape)).astype(name)
    return values.astype(at.as_dtype(name))


def _bits(a: Any) -> np.ndarray[Any, Any]:
    """The bytes of an array's values, so NaN and -0.0 compare exactly."""
    host = np.ascontiguousarray(np.asarray(a))
    return host.reshape(-1).view(np.uint8)


def _round_trip(obj: object, **load_args: Any) -> Any:
    buffer = io.BytesIO()
    at.save(obj, buffer)
    buffer.seek(0)
    return at.load(buffer, **load_args)


# ------------------------------------------------------------------ round trips
@given(
    name=st.sampled_from(DTYPES),
    shape=array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    seed=st.integers(0, 2**32 - 1),
    requires_grad=st.booleans(),
)
def test_a_tensor_round_trips_exactly(
    name: str, shape: tuple[int, ...], seed: int, requires_grad: bool
) -> None:
    host = _host(name, shape, seed)
    requires_grad = requires_grad and name in FLOATING
    t = at.tensor(host, requires_grad=requires_grad)
    back = _round_trip(t)
    assert type(back) is Tensor
    assert back.dtype == host.dtype
    assert back.shape == host.shape
    assert back.requires_grad is requires_grad
    assert back.is_leaf
    np.testing.assert_array_equal(_bits(back.detach()), _bits(host))


@given(
    shape=array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_views_are_saved_as_their_values(shape: tuple[int, ...], seed: int) -> None:
    host = _host("float32", shape, seed)
    base = at.tensor(host)
    views = {
        "t": base.transpose(0, 1),
        "step": base[::2],
        "expanded": base[:1].expand(3, *shape[1:]),
        "flat": base.reshape(-1),
    }
    oracle = {
        "t": host.swapaxes(0, 1),
        "step": host[::2],
        "expanded": np.broadcast_to(host[:1], (3, *shape[1:])),
        "flat": host.reshape(-1),
    }
    back = _round_trip({"base": base, **views})
    for key, expected in oracle.items():
        assert back[key].shape == expected.shape
        np.testing.assert_array_equal(_bits(back[key]), _bits(expected))
    # independent of each other now: a change of the base is not seen
    back["base"].zero_()
    np.testing.assert_array_equal(_bits(back["flat"]), _bits(host.reshape(-1)))


def test_a_state_dict_and_checkpoint_round_trip_with_weights_only() -> None:
    w = at.randn(4, 3, requires_grad=True)
    state = OrderedDict(
        [
            ("fc.weight", w.detach()),
            ("fc.bias", at.zeros(4)),
            ("bn.num_batches_tracked", at.tensor(7)),
            ("emb.weight", at.randn(5, 2, dtype=at.bfloat16)),
        ]
    )
    optimizer = {
        "state": {0: {"step": at.tensor(3.0), "exp_avg": at.ones(4, 3)}},
        "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
             "foreach": None, "params": [0, 1]},
        ],
    }  # fmt: skip
    checkpoint = {"epoch": 3, "model": state, "optimizer": optimizer}
    back = _round_trip(checkpoint)  # weights_only=True by default
    assert back["epoch"] == 3
    assert type(back["model"]) is OrderedDict
    assert list(back["model"]) == list(state)
    for key, value in state.items():
        got = back["model"][key]
        assert got.dtype == value.dtype and got.shape == value.shape
        np.testing.assert_array_equal(_bits(got), _bits(value))
    assert back["optimizer"]["param_groups"] == optimizer["param_groups"]
    step = back["optimizer"]["state"][0]["step"]
    assert step.item() == 3.0 and step.shape == ()


def test_python_values_dtypes_and_devices_round_trip() -> None:
    obj = {
        "none": None,
        "flags": (True, False),
        "numbers": [1, -(2**70), 2.5, float("inf"), 1 + 2j],
        "text": "ünïcode",
        "bytes": b"\x00\xff",
        "empty bytes": b"",
        "bytearray": bytearray(b"ab"),
        "set": {1, 2},
        "frozenset": frozenset({"a"}),
        "counter": Counter("aab"),
        "slice": slice(1, 5, 2),
        "range": range(3),
        "dtypes": [at.float32, at.bfloat16, at.int64, at.bool],
        "device": at.device("cpu"),
        "array": np.arange(6, dtype=np.int16).reshape(2, 3),
    }
    back = _round_trip(obj)
    for key in set(obj) - {"array"}:
        assert back[key] == obj[key], key
    assert back["dtypes"][1] is at.bfloat16 or back["dtypes"][1] == at.bfloat16
    assert back["device"] is at.device("cpu")
    np.testing.assert_array_equal(back["array"], obj["array"])
    back["array"][0, 0] = 9  # a writable array of its own


def test_one_tensor_object_loads_as_one_object() -> None:
    t = at.arange(4.0)
    empty = at.zeros(0, 3)  # empty records take no bytes: still distinct
    back = _round_trip({"a": t, "b": [t, empty, at.zeros(0, 3)], "c": at.tensor(2.0)})
    assert back["a"] is back["b"][0]
    assert back["b"][1] is not back["b"][2]
    assert back["c"].item() == 2.0


def test_requires_grad_as_torch_saves_it() -> None:
    x = at.ones(3, requires_grad=True)
    y = x * 2  # not a leaf: loads as a leaf that requires grad, as torch's
    x.sum().backward()
    back = _round_trip({"x": x, "y": y, "plain": at.ones(2)})
    assert back["x"].requires_grad and back["x"].is_leaf and back["x"].grad is None
    assert back["y"].requires_grad and back["y"].is_leaf
    assert not back["plain"].requires_grad
    back["y"].sum().backward()
    np.testing.assert_array_equal(np.asarray(back["y"].grad), [1.0, 1.0, 1.0])


class _Model:
    """A whole object that pickles (torch.save(model))."""

    def __init__(self) -> None:
        self.weight = at.randn(2, 2, requires_grad=True)
        self.name = "net"


class _Subclass(Tensor):
    __slots__ = ()


def test_a_whole_object_loads_with_weights_only_false() -> None:
    model = _Model()
    back = _round_trip(model, weights_only=False)
    assert isinstance(back, _Model) and back.name == "net"
    np.testing.assert_array_equal(
        np.asarray(back.weight.detach()), np.asarray(model.weight.detach())
    )
    assert back.weight.requires_grad


def test_a_tensor_subclass_pickles_by_its_reduce_even_weights_only() -> None:
    t = at.arange(3.0).as_subclass(_Subclass)
    back = _round_trip(t)  # Tensor.__reduce__'s rebuild is allowed
    np.testing.assert_array_equal(np.asarray(back), [0.0, 1.0, 2.0])


@pytest.mark.parametrize("protocol", [1, 2, 4, 5, -1])
def test_pickle_protocols(protocol: int) -> None:
    buffer = io.BytesIO()
    at.save({"t": at.arange(3), "s": {1}}, buffer, pickle_protocol=protocol)
    buffer.seek(0)
    back = at.load(buffer)
    assert back["s"] == {1} and back["t"].tolist() == [0, 1, 2]


def test_protocol_0_and_bad_targets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pickle_protocol"):
        at.save(1, tmp_path / "x.pt", pickle_protocol=0)
    with pytest.raises(TypeError, match="binary file object"):
        at.save(1, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binary file object"):
        at.load(3)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ paths and files
def test_paths_and_file_objects(tmp_path: Path) -> None:
    value = {"w": at.arange(6.0).reshape(2, 3)}
    as_str = str(tmp_path / "a.pt")
    at.save(value, as_str)
    at.save(value, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as f:
        at.save(value, f)
    for name in ("a.pt", "b.pt", "c.pt"):
        for source in (str(tmp_path / name), tmp_path / name):
            np.testing.assert_array_equal(
                np.asarray(at.load(source)["w"]), [[0, 1, 2], [3, 4, 5]]
            )
        with open(tmp_path / name, "rb") as f:
            assert at.load(f)["w"].shape == (2, 3)
    assert (tmp_path / "a.pt").read_bytes().startswith(b"\x89ACTNET-SAVE\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "b.pt", "c.pt"]


def test_a_file_object_at_an_offset_and_a_stream_that_cannot_seek() -> None:
    buffer = io.BytesIO()
    buffer.write(b"prefix")
    at.save(at.arange(3), buffer)
    buffer.seek(6)
    assert at.load(buffer).tolist() == [0, 1, 2]

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            return self._data.readinto(b)

    assert at.load(Pipe(buffer.getvalue()[6:])).tolist() == [0, 1, 2]


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_a_failed_save_leaves_no_file(tmp_path: Path, failure: type) -> None:
    class Fails:
        def __reduce__(self) -> Any:
            raise failure("boom")

    target = tmp_path / "model.pt"
    # a tensor's record is written before the failure: the temporary file has bytes
    obj = {"w": at.randn(100, 100), "later": Fails()}
    with pytest.raises(failure, match="boom"):
        at.save(obj, target)
    assert list(tmp_path.iterdir()) == []
    # an existing file is left as it was
    at.save({"old": at.ones(2)}, target)
    before = target.read_bytes()
    with pytest.raises(failure, match="boom"):
        at.save(obj, target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


def test_a_new_file_gets_the_mode_open_gives(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        at.save(1, tmp_path / "x.pt")
    finally:
        os.umask(umask)
    if os.name == "posix":
        assert (tmp_path / "x.pt").stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------------ weights only
class Config:
    def __init__(self, lr: float) -> None:
        self.lr = lr


def test_weights_only_refuses_a_global_naming_it() -> None:
    with pytest.raises(pickle.UnpicklingError) as caught:
        _round_trip({"config": Config(0.1)})
    message = str(caught.value)
    assert message.startswith("Weights only load failed.")
    assert f"GLOBAL {__name__}.Config was not an allowed global" in message
    assert "actnet.tensor.serialization.add_safe_globals" in message
    assert "`weights_only` set to `False`" in message
    assert _round_trip({"config": Config(0.1)}, weights_only=False)["config"].lr == 0.1


def test_nothing_runs_in_a_weights_only_load(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Prints:
        def __reduce__(self) -> Any:
            return (print, ("ran",))

    with pytest.raises(pickle.UnpicklingError, match="GLOBAL print was not"):
        _round_trip(Prints())
    assert capsys.readouterr().out == ""

    class System:
        def __reduce__(self) -> Any:
            return (os.getcwd, ())

    at.serialization.add_safe_globals([os.getcwd])
    try:  # os is blocked, whatever the allowlist says
        with pytest.raises(
            pickle.UnpicklingError, match=r"module (os|posix|nt) is blocked"
        ):
            _round_trip(System())
    finally:
        at.serialization.clear_safe_globals()


def _file_of(pickled: bytes) -> io.BytesIO:
    """A file of actnet's format (format 1) holding this pickle and no records."""
    header = struct.pack("<16sI", b"\x89ACTNET-SAVE\r\n\x1a\n", 1).ljust(64, b"\0")
    trailer = struct.pack("<QQ8s", len(header), len(pickled), b"\x89ACTEND\n")
    return io.BytesIO(header + pickled + trailer)


def test_a_file_cannot_set_the_state_of_a_shared_object() -> None:
    """BUILD on what a persistent id gave (the process's cpu Device) is refused,
    as torch refuses BUILD but on OrderedDict and allowlisted classes."""
    device = at.device("cpu")

    def text(value: str) -> bytes:
        return pickle.BINUNICODE + struct.pack("<I", len(value)) + value.encode()

    pickled = (
        b"\x80\x02"
        + text("device")
        + text("cpu")
        + pickle.TUPLE2
        + pickle.BINPERSID
        + pickle.EMPTY_DICT
        + text("injected")
        + pickle.NEWTRUE
        + pickle.SETITEM
        + pickle.BUILD
        + pickle.STOP
    )
    with pytest.raises(pickle.UnpicklingError, match="Can only build OrderedDict"):
        at.load(_file_of(pickled))
    assert not hasattr(device, "injected")
    bad_id = b"\x80\x02" + text("storage") + pickle.TUPLE1 + pickle.BINPERSID + b"."
    with pytest.raises(pickle.UnpicklingError, match="unknown persistent id"):
        at.load(_file_of(bad_id))


def test_numpy_scalars_are_refused_as_torch_refuses_them() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"multiarray\.scalar"):
        _round_trip({"loss": np.float64(0.5)})
    assert _round_trip({"loss": np.float64(0.5)}, weights_only=False)["loss"] == 0.5


def test_safe_globals_allow_a_class() -> None:
    assert at.serialization.get_safe_globals() == []
    with at.serialization.safe_globals([Config]):
        assert at.serialization.get_safe_globals() == [Config]
        assert _round_trip(Config(0.5)).lr == 0.5
    assert at.serialization.get_safe_globals() == []
    at.serialization.add_safe_globals([(Config, f"{__name__}.Config")])
    try:
        assert _round_trip(Config(0.25)).lr == 0.25
    finally:
        at.serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        _round_trip(Config(0.5))


def test_weights_only_defaults_and_pickle_module() -> None:
    buffer = io.BytesIO()
    at.save({"config": Config(1.0)}, buffer)
    buffer.seek(0)
    # an explicit pickle_module means weights_only=False, as torch 2.13
    assert at.load(buffer, pickle_module=pickle)["config"].lr == 1.0
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        at.load(buffer, pickle_module=pickle, weights_only=True)
    buffer.seek(0)
    with (
        pytest.warns(UserWarning, match="pickle_load_args only works"),
        pytest.raises(pickle.UnpicklingError),
    ):
        at.load(buffer, encoding="latin1")
    buffer.seek(0)
    assert at.load(buffer, weights_only=False, encoding="latin1")["config"].lr == 1.0


def test_mmap_true_is_refused_and_false_accepted() -> None:
    buffer = io.BytesIO()
    at.save(at.ones(2), buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match="mmap=True is not supported"):
        at.load(buffer, mmap=True)
    buffer.seek(0)
    assert at.load(buffer, mmap=False).tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ map_location
def test_map_location_forms() -> None:
    other = at.device("cpu", 1)  # the fake second device of the tests
    buffer = io.BytesIO()
    at.save(
        {"a": at.ones(2, requires_grad=True), "b": at.zeros(1, device=other)}, buffer
    )

    def load(map_location: Any) -> dict[str, Tensor]:
        buffer.seek(0)
        return at.load(buffer, map_location=map_location)  # type: ignore[no-any-return]

    default = load(None)
    assert default["a"].device is at.device("cpu") and default["b"].device is other
    for everything in ("cpu", at.device("cpu"), "cpu:0"):
        assert {t.device for t in load(everything).values()} == {at.device("cpu")}
    assert {t.device for t in load("cpu:1").values()} == {other}
    swapped = load({"cpu": "cpu:1", "cpu:1": at.device("cpu")})
    assert swapped["a"].device is other and swapped["b"].device is at.device("cpu")
    assert load({"cpu:0": "cpu:1"})["a"].device is other  # by the device's name too

    seen: list[str] = []

    def record(storage: Tensor, location: str) -> Tensor | None:
        seen.append(location)
        assert storage.device is at.device("cpu")
        return None  # torch: the default placement

    assert load(record)["b"].device is other
    assert sorted(seen) == ["cpu", "cpu:1"]
    moved = load(lambda storage, location: storage.to("cpu:1"))
    assert (
        moved["a"].device is other and moved["a"].requires_grad and moved["a"].is_leaf
    )
    with pytest.raises(TypeError, match="must return a Tensor or None"):
        load(lambda storage, location: 3)
    with pytest.raises(TypeError, match="map_location must be"):
        load(3)


def test_cuda_without_a_cuda_device_says_to_map_to_cpu() -> None:
    if at.cuda.is_available():
        pytest.skip("a CUDA device is here")
    buffer = io.BytesIO()
    at.save(at.ones(2), buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        at.load(buffer, map_location="cuda")
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="CUDA device"):
        at.load(buffer, map_location={"cpu": "cuda:0"})


# --------------------------------------------------------- files actnet did not write
def _torch_zip(path: Path) -> None:
    """What torch.save writes, as far as a reader can tell: a zip with data.pkl."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({}, protocol=2))
        archive.writestr("model/version", "3\n")


def test_a_torch_zip_file_is_refused_with_the_conversion(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    _torch_zip(path)
    for source in (path, str(path)):
        with pytest.raises(pickle.UnpicklingError) as caught:
            at.load(source)
        message = str(caught.value)
        assert "written by torch.save" in message
        converted = str(tmp_path / "model.safetensors")
        assert f"safetensors.torch.save_file(torch.load({str(path)!r}), " in message
        assert f"actnet.nn.load_safetensors({converted!r})" in message
    with (
        open(path, "rb") as f,
        pytest.raises(pickle.UnpicklingError, match=r"torch\.save"),
    ):
        at.load(f, weights_only=False)
    with pytest.raises(pickle.UnpicklingError, match=r"torch\.load\(f\)"):
        at.load(io.BytesIO(path.read_bytes()))


def test_other_files_are_named(tmp_path: Path) -> None:
    legacy = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."
    header = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    cases = {
        "legacy.pt": (legacy, "torch.save (its legacy pickle)"),
        "plain.pkl": (pickle.dumps([1, 2]), "a Python pickle"),
        "w.safetensors": (
            struct.pack("<Q", len(header)) + header + bytes(4),
            "a safetensors file",
        ),
        "empty.pt": (b"", "is empty"),
        "text.txt": (b"hello world", "not a file that actnet.tensor.save wrote"),
    }
    npz = io.BytesIO()
    np.savez(npz, a=np.ones(2))
    cases["arrays.npz"] = (npz.getvalue(), "not a file that actnet.tensor.save wrote")
    for name, (data, what) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(pickle.UnpicklingError, match=re.escape(what)):
            at.load(tmp_path / name)


def test_a_damaged_file_is_reported(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    at.save({"w": at.randn(10)}, buffer)
    data = buffer.getvalue()
    for cut in (len(data) - 1, 30, 20):
        with pytest.raises(pickle.UnpicklingError, match="truncated or damaged"):
            at.load(io.BytesIO(data[:cut]))
    newer = data[:16] + struct.pack("<I", 2) + data[20:]
    with pytest.raises(pickle.UnpicklingError, match="format 2"):
        at.load(io.BytesIO(newer))
