"""DistributedDataParallel under `mpiexec -n 2` (the nox session `distributed`):
N ranks on shares of each batch take the steps one process takes on the whole
batch (the oracle, computed on every rank), relative 1e-6."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet import nn
from actnet.nn import functional as F
from actnet.nn.parallel import DistributedDataParallel as DDP


@pytest.fixture(autouse=True)
def group() -> Iterator[None]:
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


def _model(seed: int = 0) -> nn.Module:
    at.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def _data(steps: int, batch: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (
            rng.standard_normal((batch, 6)).astype(np.float32),
            rng.integers(0, 3, batch),
        )
        for _ in range(steps)
    ]


OPTIMIZERS: dict[str, Callable[[list[at.Tensor]], nn.optim.Optimizer]] = {
    "sgd-momentum": lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adamw": lambda ps: nn.optim.AdamW(ps, lr=1e-2),
}


@pytest.mark.parametrize("bucket_cap_mb", [25, 1e-4])  # one bucket; one a parameter
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_ranks_take_the_steps_of_one_process(
    optimizer: str, bucket_cap_mb: float
) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    batch = 4 * size
    ddp = DDP(_model(), bucket_cap_mb=bucket_cap_mb)
    if bucket_cap_mb < 1:
        assert ddp.bucket_sizes == [1, 1, 1, 1]
    single = _model()
    opts = [OPTIMIZERS[optimizer](list(m.parameters())) for m in (ddp, single)]
    mine = slice(4 * rank, 4 * (rank + 1))
    for x, y in _data(50, batch):
        for model, opt, xs, ys in (
            (ddp, opts[0], x[mine], y[mine]),
            (single, opts[1], x, y),
        ):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(at.tensor(xs)), at.tensor(ys)).backward()
            opt.step()
    for p, q in zip(ddp.module.parameters(), single.parameters(), strict=True):
        np.testing.assert_allclose(
            p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7
        )


def test_parameters_come_from_rank_zero_and_keys_from_the_module() -> None:
    ddp = DDP(_model(seed=dist.get_rank()))  # different weights on every rank
    want = _model(seed=0)
    for p, q in zip(ddp.module.parameters(), want.parameters(), strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert all(k.startswith("module.") for k in ddp.state_dict())


def test_no_sync_accumulates_and_the_next_backward_averages() -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    ddp, single = DDP(_model()), _model()
    (x1, y1), (x2, y2) = _data(2, 4 * size)
    mine = slice(4 * rank, 4 * (rank + 1))
    with ddp.no_sync():
        F.cross_entropy(ddp(at.tensor(x1[mine])), at.tensor(y1[mine])).backward()
    F.cross_entropy(ddp(at.tensor(x2[mine])), at.tensor(y2[mine])).backward()
    for x, y in ((x1, y1), (x2, y2)):
        F.cross_entropy(single(at.tensor(x)), at.tensor(y)).backward()
    for p, q in zip(ddp.module.parameters(), single.parameters(), strict=True):
        assert p.grad is not None and q.grad is not None
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_a_parameter_without_gradient_is_an_error() -> None:
    model = _model()
    extra = nn.Linear(2, 2)
    both = nn.ModuleList([model, extra])
    ddp = DDP(both)
    x = at.tensor(np.ones((2, 6), np.float32))
    with pytest.raises(RuntimeError, match="got no gradient in this backward"):
        ddp.module[0](x).sum().backward()


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"module must be an nn\.Module"):
        DDP(object())  # type: ignore[arg-type]  # the refusal is tested
    with pytest.raises(ValueError, match="bucket_cap_mb must be > 0"):
        DDP(_model(), bucket_cap_mb=0)


def test_inside_a_captured_step() -> None:
    """Every replay averages again (the reduction is the device's host step)."""
    rank, size = dist.get_rank(), dist.get_world_size()
    ddp, single = DDP(_model()), _model()
    opts = [
        nn.optim.SGD(list(m.parameters()), lr=0.1, momentum=0.9) for m in (ddp, single)
    ]
    mine = slice(4 * rank, 4 * (rank + 1))

    def step(
        model: nn.Module, opt: nn.optim.Optimizer, x: at.Tensor, y: at.Tensor
    ) -> at.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = at.compile(step)
    for x, y in _data(10, 4 * size):
        compiled(ddp, opts[0], at.tensor(x[mine]), at.tensor(y[mine]))
        step(single, opts[1], at.tensor(x), at.tensor(y))
    assert compiled.replays == 8
    for p, q in zip(ddp.module.parameters(), single.parameters(), strict=True):
        np.testing.assert_allclose(
            p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7
        )
