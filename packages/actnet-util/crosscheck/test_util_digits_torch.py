"""The digits demo against the same run in PyTorch (the peer benchmark's setup):
same data, initial weights and batch order, so the per-step losses agree to 1e-4
over the first epochs and the final test accuracy is the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from actnet.util.demos.digits import (
    BATCH_SIZE,
    EPOCHS,
    LR,
    MOMENTUM,
    EpochBatches,
    initial_state,
    load_digits_data,
    run_digits,
)


def _torch_run() -> tuple[list[float], float]:
    x_train, y_train, x_test, y_test = load_digits_data()
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial_state().items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    order = EpochBatches(x_train, y_train, BATCH_SIZE)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    losses = []
    for epoch in range(EPOCHS):
        for idx in order.order(epoch):
            i = torch.from_numpy(idx)
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(xt[i]), yt[i])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return losses, float((pred == y_test).mean())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out: Path = tmp_path_factory.mktemp("digits")
    ours = run_digits(epochs=EPOCHS, out=out, progress="none")
    torch_losses, torch_accuracy = _torch_run()
    return {
        "ours": ours.history.steps["loss"],
        "ours_accuracy": ours.test_accuracy,
        "torch": torch_losses,
        "torch_accuracy": torch_accuracy,
    }


def test_loss_trajectory_agrees(runs: dict[str, object]) -> None:
    ours = np.array(runs["ours"], dtype=np.float64)
    theirs = np.array(runs["torch"], dtype=np.float64)
    assert ours.shape == theirs.shape == (EPOCHS * 22,)
    first = 3 * 22  # the first three epochs, before the loss is ~1e-3
    np.testing.assert_allclose(ours[:first], theirs[:first], rtol=1e-4, atol=1e-4)


def test_final_accuracy_matches(runs: dict[str, object]) -> None:
    assert runs["ours_accuracy"] == runs["torch_accuracy"]
    assert runs["ours_accuracy"] >= 0.97
