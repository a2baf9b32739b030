"""actnet.nn's RNN, LSTM, GRU and cells against torch.nn's: the same arguments,
torch's state dict loaded into ours, the same inputs and initial states; then
outputs and final states, and the gradients of the input, of h0 (and c0) and of
every parameter, for each mode x num_layers x bidirectional x batch_first x
bias x batched/unbatched, LSTM with proj_size, dropout > 0 in eval mode; and
repr, state-dict keys and argument errors."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

torch.set_num_threads(2)
# torch's own note that its oneDNN LSTM has no projections (it falls back)
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")
TOL = {"float32": 1e-5, "float64": 1e-10}
SEQ, BATCH, INPUT, HIDDEN, PROJ = 5, 3, 4, 6, 3
KINDS = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _compare(mine: Any, theirs: Any, dtype: str, what: str) -> None:
    assert tuple(mine.shape) == tuple(theirs.shape), what
    tol = TOL[dtype]
    np.testing.assert_allclose(_np(mine), _np(theirs), rtol=tol, atol=tol, err_msg=what)


def _make(lib: Any, kind: str, dtype: str, **options: Any) -> Any:
    dt = getattr(torch if lib is torch.nn else at, dtype)
    if kind.startswith("RNN_"):
        nonlinearity = kind[4:].lower()
        return lib.RNN(INPUT, HIDDEN, nonlinearity=nonlinearity, dtype=dt, **options)
    return getattr(lib, kind)(INPUT, HIDDEN, dtype=dt, **options)


def _pair(kind: str, dtype: str, **options: Any) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = _make(torch.nn, kind, dtype, **options)
    mine = _make(nn, kind, dtype, **options)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for (name, p), (tname, tp) in zip(
        mine.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert name == tname and p.shape == tuple(tp.shape)
    mine.load_state_dict({k: at.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    return mine, theirs


def _both(values: list[np.ndarray]) -> tuple[list[at.Tensor], list[torch.Tensor]]:
    mine = [at.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    return mine, theirs


def _flatten(result: Any) -> list[Any]:
    if isinstance(result, tuple | list):
        return [x for item in result for x in _flatten(item)]
    return [result]


def _backward_and_compare(
    mine_out: list[Any],
    theirs_out: list[Any],
    mine_in: list[Any],
    theirs_in: list[Any],
    mine: Any,
    theirs: Any,
    dtype: str,
    rng: np.random.Generator,
) -> None:
    """Outputs equal; then backward of sum(output_k * w_k) over all outputs, and
    the gradients of the inputs and of every parameter equal."""
    assert len(mine_out) == len(theirs_out)
    for k, (a, t) in enumerate(zip(mine_out, theirs_out, strict=True)):
        _compare(a, t, dtype, f"output {k}")
    weights = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in theirs_out]
    sum(
        (t * torch.tensor(w)).sum() for t, w in zip(theirs_out, weights, strict=True)
    ).backward()  # type: ignore[union-attr]
    total = None
    for a, w in zip(mine_out, weights, strict=True):
        term = (a * at.tensor(w)).sum()
        total = term if total is None else total + term
    assert total is not None
    total.backward()
    for k, (a, t) in enumerate(zip(mine_in, theirs_in, strict=True)):
        assert a.grad is not None and t.grad is not None, f"input {k}"
        _compare(a.grad, t.grad, dtype, f"gradient of input {k}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        assert p.grad is not None, name
        _compare(p.grad, theirs_params[name].grad, dtype, f"gradient of {name}")


GRID = list(
    itertools.product(
        KINDS,
        (1, 2),  # num_layers
        (False, True),  # bidirectional
        (False, True),  # batch_first
        (True, False),  # bias
        (False, True),  # unbatched
    )
)


def _id(params: tuple[Any, ...]) -> str:
    kind, layers, bi, bf, bias, unbatched = params
    return (
        f"{kind}-L{layers}{'-bi' if bi else ''}{'-bf' if bf else ''}"
        f"{'' if bias else '-nobias'}{'-unbatched' if unbatched else ''}"
    )


def _run_sequence(
    kind: str,
    dtype: str,
    layers: int,
    bi: bool,
    bf: bool,
    bias: bool,
    unbatched: bool,
    proj: int = 0,
    dropout: float = 0.0,
    hx: bool = True,
) -> None:
    options: dict[str, Any] = {
        "num_layers": layers,
        "bidirectional": bi,
        "batch_first": bf,
        "bias": bias,
        "dropout": dropout,
    }
    if proj:
        options["proj_size"] = proj
    mine, theirs = _pair(kind, dtype, **options)
    if dropout:
        mine.eval()
        theirs.eval()
    rng = np.random.default_rng(layers * 16 + 8 * bi + 4 * bf + 2 * bias + unbatched)
    x_shape = (BATCH, SEQ, INPUT) if bf else (SEQ, BATCH, INPUT)
    state = (layers * (2 if bi else 1), BATCH)
    if unbatched:
        x_shape = (SEQ, INPUT)
        state = state[:1]
    values = [rng.standard_normal(x_shape).astype(dtype)]
    if hx:
        values.append(rng.standard_normal((*state, proj or HIDDEN)).astype(dtype))
        if kind == "LSTM":
            values.append(rng.standard_normal((*state, HIDDEN)).astype(dtype))
    mine_in, theirs_in = _both(values)
    if not hx:
        mine_result, theirs_result = mine(mine_in[0]), theirs(theirs_in[0])
    elif kind == "LSTM":
        mine_result = mine(mine_in[0], (mine_in[1], mine_in[2]))
        theirs_result = theirs(theirs_in[0], (theirs_in[1], theirs_in[2]))
    else:
        mine_result = mine(mine_in[0], mine_in[1])
        theirs_result = theirs(theirs_in[0], theirs_in[1])
    _backward_and_compare(
        _flatten(mine_result),
        _flatten(theirs_result),
        mine_in,
        theirs_in,
        mine,
        theirs,
        dtype,
        rng,
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", GRID, ids=_id)
def test_sequence_module_matches_torch(params: tuple[Any, ...], dtype: str) -> None:
    _run_sequence(params[0], dtype, *params[1:])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("layers", "bi", "bf", "bias", "unbatched"),
    [
        *itertools.product((1, 2), (False, True), (False, True), (True,), (False,)),
        (2, True, False, False, True),
        (1, False, True, False, False),
    ],
)
def test_lstm_with_projections_matches_torch(
    layers: int, bi: bool, bf: bool, bias: bool, unbatched: bool, dtype: str
) -> None:
    _run_sequence("LSTM", dtype, layers, bi, bf, bias, unbatched, proj=PROJ)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_in_eval_mode_matches_torch(kind: str, dtype: str) -> None:
    _run_sequence(kind, dtype, 3, True, False, True, False, dropout=0.4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("unbatched", [False, True])
def test_default_initial_state_matches_torch(
    kind: str, unbatched: bool, dtype: str
) -> None:
    _run_sequence(kind, dtype, 2, True, True, True, unbatched, hx=False)


@pytest.mark.parametrize("kind", KINDS)
def test_partly_frozen_weights_match_torch(kind: str) -> None:
    """Only h0 and one bias need gradients (the input and the other weights
    none): the gradients asked for, and no others."""
    mine, theirs = _pair(kind, "float64", num_layers=2, bidirectional=True)
    for module in (mine, theirs):
        for name, p in module.named_parameters():
            p.requires_grad_(name == "bias_hh_l1_reverse")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((SEQ, BATCH, INPUT))
    h0 = rng.standard_normal((4, BATCH, HIDDEN))
    mine_h0, theirs_h0 = _both([h0])
    if kind == "LSTM":
        c0 = np.zeros((4, BATCH, HIDDEN))
        mine_out = mine(at.tensor(x), (mine_h0[0], at.tensor(c0)))[0]
        theirs_out = theirs(torch.tensor(x), (theirs_h0[0], torch.tensor(c0)))[0]
    else:
        mine_out = mine(at.tensor(x), mine_h0[0])[0]
        theirs_out = theirs(torch.tensor(x), theirs_h0[0])[0]
    (mine_out * mine_out).sum().backward()
    (theirs_out * theirs_out).sum().backward()
    _compare(mine_h0[0].grad, theirs_h0[0].grad, "float64", "gradient of h0")
    _compare(
        mine.bias_hh_l1_reverse.grad,
        theirs.bias_hh_l1_reverse.grad,
        "float64",
        "gradient of bias_hh_l1_reverse",
    )
    assert all(
        p.grad is None for n, p in mine.named_parameters() if n != "bias_hh_l1_reverse"
    )


def test_dropout_in_training_runs() -> None:
    """The masks come from another generator than torch's, so training-mode
    outputs are not compared (the unit tests check the masks' effect): here,
    training mode runs and every gradient is finite."""
    mine = nn.LSTM(INPUT, HIDDEN, 2, dropout=0.5)
    x = at.randn(SEQ, BATCH, INPUT, requires_grad=True)
    out, _ = mine(x)
    out.sum().backward()
    assert x.grad is not None and np.isfinite(_np(x.grad)).all()
    assert all(np.isfinite(_np(p.grad)).all() for p in mine.parameters())


# ------------------------------------------------------------ cells
CELLS = list(
    itertools.product(
        ("RNNCell-tanh", "RNNCell-relu", "LSTMCell", "GRUCell"),
        (True, False),  # bias
        (False, True),  # unbatched
        (True, False),  # hx given
    )
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("kind", "bias", "unbatched", "hx"),
    CELLS,
    ids=lambda v: str(v),
)
def test_cell_matches_torch(
    kind: str, bias: bool, unbatched: bool, hx: bool, dtype: str
) -> None:
    torch.manual_seed(0)
    name, _, nonlinearity = kind.partition("-")
    extra = {"nonlinearity": nonlinearity} if nonlinearity else {}
    theirs = getattr(torch.nn, name)(
        INPUT, HIDDEN, bias=bias, dtype=getattr(torch, dtype), **extra
    )
    mine = getattr(nn, name)(INPUT, HIDDEN, bias=bias, dtype=dtype, **extra)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: at.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2 * bias + unbatched)
    lead = () if unbatched else (BATCH,)
    values = [rng.standard_normal((*lead, INPUT)).astype(dtype)]
    if hx:
        count = 2 if name == "LSTMCell" else 1
        values += [
            rng.standard_normal((*lead, HIDDEN)).astype(dtype) for _ in range(count)
        ]
    mine_in, theirs_in = _both(values)
    if not hx:
        mine_result, theirs_result = mine(mine_in[0]), theirs(theirs_in[0])
    elif name == "LSTMCell":
        mine_result = mine(mine_in[0], (mine_in[1], mine_in[2]))
        theirs_result = theirs(theirs_in[0], (theirs_in[1], theirs_in[2]))
    else:
        mine_result = mine(mine_in[0], mine_in[1])
        theirs_result = theirs(theirs_in[0], theirs_in[1])
    _backward_and_compare(
        _flatten(mine_result),
        _flatten(theirs_result),
        mine_in,
        theirs_in,
        mine,
        theirs,
        dtype,
        rng,
    )


def test_cell_unrolled_over_a_sequence_matches_torch() -> None:
    """LSTMCell stepped by hand over 6 steps, gradients through time."""
    torch.manual_seed(0)
    theirs = torch.nn.LSTMCell(INPUT, HIDDEN, dtype=torch.float64)
    mine = nn.LSTMCell(INPUT, HIDDEN, dtype="float64")
    mine.load_state_dict({k: at.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    values = [np.random.default_rng(9).standard_normal((6, BATCH, INPUT))]
    mine_in, theirs_in = _both(values)
    hm = cm = None
    ht = ct = None
    for t in range(6):
        hm, cm = mine(mine_in[0][t], None if hm is None else (hm, cm))
        ht, ct = theirs(theirs_in[0][t], None if ht is None else (ht, ct))
    _backward_and_compare(
        [hm, cm],
        [ht, ct],
        mine_in,
        theirs_in,
        mine,
        theirs,
        "float64",
        np.random.default_rng(10),
    )


# ------------------------------------------------------------ errors
def _error(make: Any) -> tuple[type[BaseException], str]:
    with pytest.raises(Exception) as info:
        make()
    return info.type, str(info.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.RNN(3, 4, nonlinearity="gelu"),
        lambda lib: lib.LSTM(3, 4, dropout=1.5),
        lambda lib: lib.LSTM(3, 4, dropout=True),
        lambda lib: lib.LSTM(3, 4, proj_size=4),
        lambda lib: lib.LSTM(3, 4, proj_size=-1),
        lambda lib: lib.GRU(3, 0),
        lambda lib: lib.GRU(0, 3),
        lambda lib: lib.GRU(3.0, 4),
        lambda lib: lib.GRU(3, "4"),
        lambda lib: lib.GRU(3, 4, num_layers=0),
        lambda lib: lib.RNN(3, 4, bias=1),
        lambda lib: lib.RNN(3, 4, batch_first=None),
    ],
)
def test_constructor_errors_match_torch(make: Any) -> None:
    assert _error(lambda: make(nn)) == _error(lambda: make(torch.nn))


@pytest.mark.parametrize(
    ("kind", "shapes"),
    [
        ("GRU", [(1, 2, 3, 4)]),
        ("RNN", [(1, 2, 3, 4)]),
        ("LSTM", [(1, 2, 3, 4)]),
        ("GRU", [(5, 2, 3)]),
        ("GRU", [(5, 2, 4), (2, 2, 6)]),
        ("RNN", [(5, 2, 4), (1, 3, 6)]),
        ("RNN", [(5, 4), (1, 1, 6)]),
        ("LSTM", [(5, 2, 4), (1, 2, 6), (1, 2, 5)]),
        ("LSTM", [(5, 2, 4), (2, 2, 6), (1, 2, 6)]),
        ("LSTM", [(5, 4), (1, 1, 6), (1, 1, 6)]),
        ("LSTM", [(5, 2, 4), (2, 6), (2, 6)]),
        ("RNNCell", [(2, 3, 4)]),
        ("GRUCell", [(2, 4), (1, 2, 6)]),
        ("LSTMCell", [(2, 4), (2, 6), (1, 2, 6)]),
    ],
)
def test_forward_errors_match_torch(kind: str, shapes: list[tuple[int, ...]]) -> None:
    torch_module = getattr(torch.nn, kind)(INPUT, HIDDEN)
    module = getattr(nn, kind)(INPUT, HIDDEN)
    values = [np.zeros(s, np.float32) for s in shapes]

    def call(m: Any, make: Any) -> Any:
        args = [make(v) for v in values]
        if kind.startswith("LSTM") and len(args) == 3:
            return m(args[0], (args[1], args[2]))
        return m(*args)

    assert _error(lambda: call(module, at.tensor)) == _error(
        lambda: call(torch_module, torch.tensor)
    )
