"""actnet-util's Trainer against PyTorch (and JAX, when installed), in the same run.

Rows (issue: the training loop):
- digits: MLP 64->256->256->10 (ReLU), sklearn digits, SGD lr 0.1 momentum 0.9,
  batch 64, 20 epochs (22 steps each), the peer's data split, scaling, initial
  weights and batch order (/work/shared/peers/bench_mlp_digits.py). actnet runs
  `Trainer.fit` as `actnet demo digits` does (captured steps, progress off,
  memory sampled every step); its step time is the Trainer's per-step "time" (the
  step and all its bookkeeping); torch runs the peer's loop on pre-built batches.
  Median step over epochs 2..20, wall time of the 20 epochs, test accuracy.
  Pass: step <= 1.0x torch and accuracy >= 97 %; goal <= 0.85x.
- large MLP: 1024->4096->4096->10, batch 256, random data, plain SGD lr 0.01
  (/work/shared/peers/bench_mlp_large.py): median step after 2 warm-up steps.
  Pass <= 1.03x torch; goal <= 0.97x.
- digits, compiled (issue 20): the raw steps as one `at.compile` step (call 1
  eager, call 2 recorded, then replayed), with the recording's time and the
  largest difference of its losses from the eager steps'. Pass <= 1.0x torch
  eager; goal <= 0.75x and below JAX's jit.
- JAX rows: one `jax.jit` of the whole step (params and optimizer state donated),
  as in the peers' bench_*_jax.py; skipped with a note when jax is not importable.
- digits, NumPy row: the peer's hand-written NumPy step (`run_numpy` of
  ../shared/peers/bench_mlp_digits.py, imported from there): what NumPy's own
  kernels cost on this machine, with no framework around them.

Each round runs actnet then torch; the ratio is the median of the per-round
ratios. Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python
benchmarks/bench_util.py` (see /work/shared/peers/README.md).
"""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np
import torch

import actnet.tensor as at
from actnet import nn
from actnet.util import Trainer
from actnet.util.demos.digits import (
    BATCH_SIZE,
    EPOCHS,
    LR,
    MOMENTUM,
    SIZES,
    EpochBatches,
    build_model,
    initial_state,
    load_digits_data,
)

torch.set_num_threads(bu.NTHREADS)

ROUNDS = 3
LARGE_SIZES = (1024, 4096, 4096, 10)
LARGE_BATCH, LARGE_LR, LARGE_STEPS, LARGE_WARMUP = 256, 0.01, 10, 2
Array = np.ndarray[Any, Any]
Data = tuple[Array, Array, Array, Array]


# ------------------------------------------------------------------ digits
def _floats(column: list[Any]) -> list[float]:
    return [float(v) for v in column]


def _steady(times: list[float], per_epoch: int) -> float:
    return statistics.median(times[per_epoch:])


def digits_actnet(data: Data) -> dict[str, float]:
    x_train, y_train, x_test, y_test = data
    model = build_model()
    opt = nn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress="none", compile=True)
    loader = EpochBatches(x_train, y_train, BATCH_SIZE)
    start = time.perf_counter()
    history = trainer.fit(loader, epochs=EPOCHS)
    wall = time.perf_counter() - start
    test = trainer.evaluate([(at.as_tensor(x_test), at.as_tensor(y_test))])
    return {
        "median_step_s": _steady(_floats(history.steps["time"]), len(loader)),
        "wall_s": wall,
        "test_accuracy": test["accuracy"],
    }


def digits_actnet_raw(data: Data) -> dict[str, float]:
    """The same steps without the Trainer (pre-built batches, no bookkeeping)."""
    return _digits_steps(data, compiled=False)


def digits_actnet_compiled(data: Data) -> dict[str, float]:
    """The raw steps as one `at.compile` step (call 1 eager, call 2 recorded, then
    replayed), with the time of the recording and the losses, which main compares
    with the eager steps' (digits_actnet_raw's: same weights and batches)."""
    return _digits_steps(data, compiled=True)


def _digits_steps(data: Data, *, compiled: bool) -> dict[str, float]:
    x_train, y_train, _, _ = data
    model = build_model()
    opt = nn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()

    def eager(x: at.Tensor, y: at.Tensor) -> at.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = at.compile(eager) if compiled else eager
    order = EpochBatches(x_train, y_train, BATCH_SIZE)
    batches = [
        [(at.as_tensor(x_train[i]), at.as_tensor(y_train[i])) for i in order.order(e)]
        for e in range(EPOCHS)
    ]
    times, losses = [], []
    start = time.perf_counter()
    for epoch in batches:
        for x, y in epoch:
            t0 = time.perf_counter()
            losses.append(step(x, y))
            times.append(time.perf_counter() - t0)
    return {
        "median_step_s": _steady(times, len(order)),
        "wall_s": time.perf_counter() - start,
        "record_s": times[1],  # call 2: the recording when compiled
        "losses": [float(v) for v in losses],  # type: ignore[dict-item]
    }


def digits_torch(data: Data) -> dict[str, float]:
    x_train, y_train, x_test, y_test = data
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]),
        torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial_state().items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    order = EpochBatches(x_train, y_train, BATCH_SIZE)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    batches = [
        [(xt[torch.from_numpy(i)], yt[torch.from_numpy(i)]) for i in order.order(e)]
        for e in range(EPOCHS)
    ]
    times = []
    start = time.perf_counter()
    for epoch in batches:
        for x, y in epoch:
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return {
        "median_step_s": _steady(times, len(order)),
        "wall_s": wall,
        "test_accuracy": float((pred == y_test).mean()),
    }


# --------------------------------------------------------------- large MLP
def _large_init() -> tuple[dict[str, Array], Array, Array]:
    """The peer's weights ((in, out) draws, transposed to nn.Linear's layout)."""
    rng = np.random.default_rng(0)
    state = {}
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(LARGE_SIZES)):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        state[f"{2 * i}.weight"] = np.ascontiguousarray(w.T)
        state[f"{2 * i}.bias"] = rng.uniform(-bound, bound, (fan_out,)).astype(
            np.float32
        )
    x = rng.standard_normal((LARGE_BATCH, LARGE_SIZES[0]), dtype=np.float32)
    y = rng.integers(0, LARGE_SIZES[-1], LARGE_BATCH)
    return state, x, y


def large_actnet() -> dict[str, float]:
    state, x, y = _large_init()
    model = nn.Sequential(
        nn.Linear(1024, 4096),
        nn.ReLU(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Linear(4096, 10),
    )
    model.load_state_dict({k: at.tensor(v) for k, v in state.items()})
    opt = nn.optim.SGD(model.parameters(), lr=LARGE_LR)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress="none")
    batch = (at.as_tensor(x), at.as_tensor(y))
    history = trainer.fit([batch] * (LARGE_WARMUP + LARGE_STEPS), epochs=1)
    times = history.steps["time"][LARGE_WARMUP:]
    return {
        "median_step_s": statistics.median(_floats(times)),
        "first_loss": _floats(history.steps["loss"])[0],
    }


def large_torch() -> dict[str, float]:
    state, x, y = _large_init()
    model = torch.nn.Sequential(
        torch.nn.Linear(1024, 4096),
        torch.nn.ReLU(),
        torch.nn.Linear(4096, 4096),
        torch.nn.ReLU(),
        torch.nn.Linear(4096, 10),
    )
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    opt = torch.optim.SGD(model.parameters(), lr=LARGE_LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    times, losses = [], []
    for i in range(LARGE_WARMUP + LARGE_STEPS):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        if i >= LARGE_WARMUP:
            times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    return {"median_step_s": statistics.median(times), "first_loss": losses[0]}


# --------------------------------------------------------------------- JAX
def _jax_step(jax: Any, optax: Any, lr: float, momentum: float | None) -> Any:
    tx = optax.sgd(lr, momentum=momentum)

    def loss_fn(params: list[Any], x: Any, y: Any) -> Any:
        w1, b1, w2, b2, w3, b3 = params
        h = jax.nn.relu(x @ w1 + b1)
        h = jax.nn.relu(h @ w2 + b2)
        logits = h @ w3 + b3
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def step(params: Any, state: Any, x: Any, y: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    return tx, jax.jit(step, donate_argnums=(0, 1))


def _jax_params(jnp: Any, state: dict[str, Array]) -> list[Any]:
    out = []
    for i in range(3):
        out.append(jnp.array(state[f"{2 * i}.weight"].T))  # (in, out)
        out.append(jnp.array(state[f"{2 * i}.bias"]))
    return out


def jax_rows(data: Data) -> dict[str, dict[str, float]]:
    # jax and optax are an optional peer, imported here so that the benchmark
    # runs without them (main() prints a note and skips the JAX rows)
    import jax
    import jax.numpy as jnp
    import optax

    x_train, y_train, x_test, y_test = data
    tx, step = _jax_step(jax, optax, LR, MOMENTUM)
    params = _jax_params(jnp, initial_state())
    state = tx.init(params)
    order = EpochBatches(x_train, y_train, BATCH_SIZE)
    batches = [
        [(jnp.array(x_train[i]), jnp.array(y_train[i].astype(np.int32))) for i in o]
        for o in (order.order(e) for e in range(EPOCHS))
    ]
    jax.block_until_ready((batches, params, state))
    times = []
    start = time.perf_counter()
    for epoch in batches:
        for x, y in epoch:
            t0 = time.perf_counter()
            params, state, loss = step(params, state, x, y)
            jax.block_until_ready((params, state, loss))
            times.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    w = [np.asarray(p) for p in params]
    h = np.maximum(x_test @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    accuracy = float(((h @ w[4] + w[5]).argmax(axis=1) == y_test).mean())
    digits = {
        "median_step_s": _steady(times, len(order)),
        "wall_s": wall,
        "test_accuracy": accuracy,
    }
    large_state, x, y = _large_init()
    tx, step = _jax_step(jax, optax, LARGE_LR, None)
    params = _jax_params(jnp, large_state)
    state = tx.init(params)
    xj, yj = jnp.array(x), jnp.array(y.astype(np.int32))
    times = []
    for i in range(LARGE_WARMUP + LARGE_STEPS):
        t0 = time.perf_counter()
        params, state, loss = step(params, state, xj, yj)
        jax.block_until_ready((params, state, loss))
        if i >= LARGE_WARMUP:
            times.append(time.perf_counter() - t0)
    return {"digits": digits, "large": {"median_step_s": statistics.median(times)}}


PEERS = Path(__file__).resolve().parent.parent.parent / "shared" / "peers"


def digits_numpy_peer() -> dict[str, float] | None:
    """The peer's hand-written NumPy digits step, run from its own file (None
    when ../shared/peers is not beside the checkout)."""
    path = PEERS / "bench_mlp_digits.py"
    spec = importlib.util.spec_from_file_location("peer_mlp_digits", path)
    if spec is None or spec.loader is None or not path.is_file():
        return None
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    x_train, y_train, x_test, y_test = peer.data()
    result: dict[str, float] = peer.run_numpy(
        x_train, y_train, x_test, y_test, peer.batch_orders(len(x_train))
    )
    return result


# -------------------------------------------------------------------- main
def _rounds(
    ours: Callable[[], dict[str, float]], peer: Callable[[], dict[str, float]]
) -> tuple[list[dict[str, float]], list[dict[str, float]], float]:
    mine, theirs, ratios = [], [], []
    for _ in range(ROUNDS):
        a, b = ours(), peer()
        mine.append(a)
        theirs.append(b)
        ratios.append(a["median_step_s"] / b["median_step_s"])
    return mine, theirs, statistics.median(ratios)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    pools: Any = bu.environment().get("threadpools", [])
    for pool in pools:  # which BLAS kernel NumPy uses (see the module doc)
        print(f"threadpool: {pool}")
    data = load_digits_data()
    rows: dict[str, Any] = {}
    # warm-up: first imports and allocations of both libraries
    digits_actnet_raw(data)
    digits_actnet_compiled(data)
    digits_torch(data)

    mine, theirs, ratio = _rounds(
        lambda: digits_actnet(data), lambda: digits_torch(data)
    )
    raw = [digits_actnet_raw(data) for _ in range(ROUNDS)]
    compiled = [digits_actnet_compiled(data) for _ in range(ROUNDS)]
    eager_losses: Any = raw[0]["losses"]
    compiled_losses: Any = compiled[0]["losses"]
    torch_step = _median(theirs, "median_step_s")
    rows["digits"] = {
        "actnet_trainer": {
            "median_step_us": _median(mine, "median_step_s") * 1e6,
            "wall_20_epochs_s": _median(mine, "wall_s"),
            "test_accuracy": mine[-1]["test_accuracy"],
            "step_ratio_vs_torch": ratio,
        },
        "actnet_raw_step": {
            "median_step_us": _median(raw, "median_step_s") * 1e6,
            "wall_20_epochs_s": _median(raw, "wall_s"),
            "step_ratio_vs_torch": _median(raw, "median_step_s") / torch_step,
        },
        "actnet_compiled": {
            "median_step_us": _median(compiled, "median_step_s") * 1e6,
            "wall_20_epochs_s": _median(compiled, "wall_s"),
            "step_ratio_vs_torch": _median(compiled, "median_step_s") / torch_step,
            "record_ms": _median(compiled, "record_s") * 1e3,
            "max_loss_diff_vs_eager": max(
                abs(a - b) for a, b in zip(compiled_losses, eager_losses, strict=True)
            ),
        },
        "torch": {
            "median_step_us": torch_step * 1e6,
            "wall_20_epochs_s": _median(theirs, "wall_s"),
            "test_accuracy": theirs[-1]["test_accuracy"],
        },
    }
    numpy_runs = [digits_numpy_peer() for _ in range(ROUNDS)]
    if numpy_runs[0] is None:
        print(f"note: the NumPy peer row is skipped: {PEERS} is not there")
    else:
        numpy_step = statistics.median(r["median_step_s"] for r in numpy_runs if r)
        rows["digits"]["numpy (peer, by hand)"] = {
            "median_step_us": numpy_step * 1e6,
            "wall_20_epochs_s": statistics.median(
                r["wall_20_epochs_s"] for r in numpy_runs if r
            ),
            "test_accuracy": numpy_runs[-1]["test_acc"] if numpy_runs[-1] else None,
            "step_ratio_vs_torch": numpy_step / torch_step,
        }
    mine_l, theirs_l, ratio_l = _rounds(large_actnet, large_torch)
    torch_large = _median(theirs_l, "median_step_s")
    rows["large_mlp"] = {
        "actnet_trainer": {
            "median_step_ms": _median(mine_l, "median_step_s") * 1e3,
            "step_ratio_vs_torch": ratio_l,
            "first_loss": mine_l[0]["first_loss"],
        },
        "torch": {
            "median_step_ms": torch_large * 1e3,
            "first_loss": theirs_l[0]["first_loss"],
        },
    }
    try:
        jx = jax_rows(data)
    except ImportError as e:
        print(f"note: the JAX rows are skipped: jax or optax is not importable ({e})")
        jx = None
    if jx is not None:
        rows["digits"]["jax"] = {
            "median_step_us": jx["digits"]["median_step_s"] * 1e6,
            "wall_20_epochs_s": jx["digits"]["wall_s"],
            "test_accuracy": jx["digits"]["test_accuracy"],
            "step_ratio_vs_torch": jx["digits"]["median_step_s"] / torch_step,
        }
        rows["large_mlp"]["jax"] = {
            "median_step_ms": jx["large"]["median_step_s"] * 1e3,
            "step_ratio_vs_torch": jx["large"]["median_step_s"] / torch_large,
        }
    _print(rows)
    bu.save("util", rows)


def _print(rows: dict[str, Any]) -> None:
    print(f"\ndigits MLP, batch {BATCH_SIZE}, {EPOCHS} epochs")
    print(f"{'':22s} {'step':>10s} {'ratio':>7s} {'wall 20 ep':>11s} {'test acc':>9s}")
    for name, r in rows["digits"].items():
        ratio = r.get("step_ratio_vs_torch")
        acc = r.get("test_accuracy")
        print(
            f"{name:22s} {r['median_step_us']:8.1f}us "
            f"{'' if ratio is None else f'{ratio:6.2f}x':>7s} "
            f"{r['wall_20_epochs_s']:9.2f} s "
            f"{'' if acc is None else f'{acc:8.2%}':>9s}"
        )
    print("pass: trainer step <= 1.0x torch and accuracy >= 97 %; goal <= 0.85x")
    c = rows["digits"]["actnet_compiled"]
    print(
        f"compiled: recording {c['record_ms']:.0f} ms; losses within "
        f"{c['max_loss_diff_vs_eager']:.1e} of eager's; pass <= 1.0x torch eager, "
        "goal <= 0.75x and below JAX"
    )
    print(f"\nlarge MLP {LARGE_SIZES}, batch {LARGE_BATCH}")
    for name, r in rows["large_mlp"].items():
        ratio = r.get("step_ratio_vs_torch")
        print(
            f"{name:22s} {r['median_step_ms']:8.1f}ms "
            f"{'' if ratio is None else f'{ratio:6.2f}x':>7s}"
        )
    print("pass: trainer step <= 1.03x torch; goal <= 0.97x")


if __name__ == "__main__":
    main()
