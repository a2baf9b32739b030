"""More published PyTorch code (ported/), run as test_util_ported_torch.py runs
its ports: once on torch 2.13.0 as written, once on actnet with only the
imports rewritten (util_porting.port_source), from the same initial weights,
on the same NumPy-made data; every loss within 1e-4 of torch's and greedy
decoding picks the same tokens. Where the code draws random numbers of torch's
(randn, a shuffling DataLoader), both runs get the same ones: the noise from a
NumPy stream (`_SameNoise`), the order torch's DataLoader drew (`Recording`,
`Replaying`); Python's `random` is seeded alike.

- pytorch/examples vae: Linear, relu, sigmoid, binary_cross_entropy summed,
  exp, randn_like, Adam, a shuffling DataLoader; float64 and float32.
- pytorch/examples time_sequence_prediction: LSTMCells in double precision,
  input.split, LBFGS with a closure (no line search, and strong_wolfe), future
  prediction under no_grad.
- pytorch/tutorials seq2seq translation (the 2017-2023 text): a GRU encoder
  written into `encoder_outputs[ei]` through autograd, an attention decoder
  (softmax, bmm), teacher forcing by `random`, SGD and NLLLoss, greedy decoding
  with topk; `decoder_attentions[di] = decoder_attention.data`.
- pytorch/tutorials char_rnn_classification (the 2017-2023 text): one-hot
  letters set in place through chained indexing, the update by hand through
  `p.data.add_(p.grad.data, ...)`, a confusion matrix counted in place, topk.
- pytorch/examples dcgan: ConvTranspose2d, BatchNorm2d, in-place ReLU and
  LeakyReLU, Tanh, Sigmoid, BCELoss, Adam with betas, and weights_init through
  `m.weight.data.normal_` (checked to change actnet's parameters).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from util_porting import (
    Recording,
    Replaying,
    assert_close,
    copy_state,
    initial_state,
    ported_pair,
    to_numpy,
    without_dropout,
)

import actnet.tensor as at
from actnet.util.data import TensorDataset

torch.set_num_threads(2)
TOL = 1e-4


class _SameNoise:
    """A library's namespace (torch, or actnet.tensor ported as `torch`) whose
    randn/randn_like draw from a NumPy stream: set as a ported module's `torch`,
    both runs get the same noise. Everything else is the library's own. randn
    makes `default` tensors: float64 stands for torch.set_default_dtype, which
    actnet.tensor lacks."""

    def __init__(self, library: ModuleType, seed: int, default: str) -> None:
        self._library = library
        self._rng = np.random.default_rng(seed)
        self._default = default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._library, name)

    def _normal(self, shape: tuple[int, ...], dtype: Any) -> Any:
        values = self._rng.standard_normal(shape)
        return self._library.tensor(values, dtype=dtype)

    def randn_like(self, t: Any) -> Any:
        return self._normal(tuple(t.shape), t.dtype)

    def randn(self, *size: int, device: Any = None) -> Any:
        return self._normal(size, getattr(self._library, self._default))


# ---------------------------------------------------------------- vae
def _unit_images(n: int, seed: int, dtype: str) -> np.ndarray:
    """Digit-like images in [0, 1] (binary_cross_entropy's targets)."""
    rng = np.random.default_rng(seed)
    templates = np.random.default_rng(99).random((10, 1, 28, 28))
    noisy = 0.7 * templates[rng.integers(0, 10, n)] + 0.3 * rng.random((n, 1, 28, 28))
    return noisy.astype(dtype)


def _image_datasets(library: str, dtype: str) -> tuple[Any, Any]:
    x, xt = _unit_images(40, 0, dtype), _unit_images(16, 1, dtype)
    y, yt = np.zeros(40, np.int64), np.zeros(16, np.int64)
    if library == "torch":
        make: Callable[..., Any] = torch.utils.data.TensorDataset
        return make(torch.tensor(x), torch.tensor(y)), make(
            torch.tensor(xt), torch.tensor(yt)
        )
    return TensorDataset(at.tensor(x), at.tensor(y)), TensorDataset(
        at.tensor(xt), at.tensor(yt)
    )


def _recording_losses(module: ModuleType) -> list[float]:
    """Every loss main.py computes, by wrapping the module's loss_function."""
    losses: list[float] = []
    loss_function = module.loss_function

    def recording(*inputs: Any) -> Any:
        loss = loss_function(*inputs)
        losses.append(float(loss.item()))
        return loss

    module.loss_function = recording
    return losses


def _recording_images(module: ModuleType) -> list[np.ndarray]:
    """What save_image would write, as NumPy arrays."""
    images: list[np.ndarray] = []

    def save_image(tensor: Any, path: str, **options: Any) -> None:
        images.append(to_numpy(tensor).copy())

    module.save_image = save_image
    return images


def _run_vae(
    module: ModuleType,
    library: ModuleType,
    train: Any,
    test: Any,
    dtype: str,
    init: Callable[[Any], None],
) -> tuple[list[float], list[np.ndarray], Any]:
    argv = ["--batch-size", "8", "--epochs", "2", "--no-accel", "--log-interval", "2"]
    module.torch = _SameNoise(library, seed=7, default=dtype)
    model = module.setup(argv, train, test)
    if dtype == "float64":
        model.double()
    init(model)
    losses, images = _recording_losses(module), _recording_images(module)
    module.main()
    return losses, images, model


@pytest.mark.parametrize(
    ("dtype", "atol", "values_atol"),
    [("float64", TOL, 1e-9), ("float32", 2e-3, TOL)],
)
def test_vae_trains_and_samples_beside_torch(
    dtype: str, atol: float, values_atol: float
) -> None:
    # The losses are sums over 8 x 784 pixels (about 4e3), which float32 itself
    # rounds to 2.4e-4: 1e-4 holds in float64, float32 runs to 2e-3 (its
    # images and weights, values near 1, to 1e-4)
    theirs, mine = ported_pair("vae")
    their_train, their_test = _image_datasets("torch", dtype)
    my_train, my_test = _image_datasets("actnet", dtype)
    recording = Recording(their_train)
    start: dict[str, np.ndarray] = {}
    their_losses, their_images, their_model = _run_vae(
        theirs,
        torch,
        recording,
        their_test,
        dtype,
        lambda m: start.update(initial_state(m)),
    )
    my_losses, my_images, my_model = _run_vae(
        mine, at, Replaying(my_train, recording.indices), my_test, dtype,
        lambda m: copy_state(start, m),
    )  # fmt: skip
    assert len(their_losses) == 2 * (5 + 2)  # 2 epochs: 5 batches, 2 test batches
    assert_close(my_losses, their_losses, atol, f"VAE losses ({dtype})")
    assert my_losses[4] < my_losses[0]  # it learns
    assert len(my_images) == len(their_images) == 4
    for mine_image, their_image in zip(my_images, their_images, strict=True):
        assert mine_image.shape == their_image.shape
        assert mine_image.dtype == their_image.dtype
        np.testing.assert_allclose(mine_image, their_image, rtol=0, atol=values_atol)
    for key, value in their_model.state_dict().items():
        mine_value, their_value = to_numpy(my_model.state_dict()[key]), to_numpy(value)
        if dtype == "float64":
            np.testing.assert_allclose(
                mine_value, their_value, rtol=0, atol=values_atol, err_msg=key
            )
            continue
        # float32: a weight's gradient can cancel to below its float32 rounding,
        # which then depends on the BLAS's summation order (torch's MKL and
        # NumPy's OpenBLAS differ on AVX-512 machines); Adam's step, lr times
        # m / sqrt(v), is about lr whatever the gradient's size, so such a
        # weight moves by up to lr (1e-3) a step on either side (seen: one of
        # fc1's 313,600 weights 1.3e-4 apart, the next largest 1e-5). At most
        # one weight in 10^5 (and one in any tensor) may do so, within the 10
        # steps' 2 x 10 x lr; every other weight is held to values_atol.
        gap = np.abs(mine_value - their_value)
        outliers = int(np.count_nonzero(gap > values_atol))
        assert outliers <= max(1, gap.size // 100_000), (key, outliers)
        assert gap.max() <= 2 * 10 * 1e-3, (key, gap.max())


# ---------------------------------------------- time_sequence_prediction
def _printed(text: str, label: str) -> list[float]:
    """The values printed after `label` (print's full repr of a float)."""
    return [float(v) for v in re.findall(rf"^{label} (\S+)$", text, re.MULTILINE)]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_time_sequence_prediction_trains_beside_torch(
    line_search_fn: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs, mine = ported_pair("time_sequence_prediction")
    data = theirs.make_data(T=20, L=61, N=6)  # 3 training, 3 test waves
    np.testing.assert_array_equal(mine.make_data(T=20, L=61, N=6), data)
    start: dict[str, np.ndarray] = {}
    options = {"line_search_fn": line_search_fn}  # LBFGS(lr=0.8) otherwise as upstream
    runs = []
    for module, init in (
        (theirs, lambda m: start.update(initial_state(m))),
        (mine, lambda m: copy_state(start, m)),
    ):
        predictions: list[np.ndarray] = []
        module.draw = lambda i, y, input, future, seen=predictions: seen.append(y)
        model = module.main(["--steps", "3"], data, init, options, future=20)
        out = capsys.readouterr().out
        runs.append(
            (_printed(out, "loss:"), _printed(out, "test loss:"), predictions, model)
        )
    (their_losses, their_tests, their_y, their_model) = runs[0]
    (my_losses, my_tests, my_y, my_model) = runs[1]
    assert len(their_losses) > 3 and len(their_tests) == 3
    assert_close(my_losses, their_losses, TOL, "training losses (each closure call)")
    assert_close(my_tests, their_tests, TOL, "test losses")
    assert my_tests[-1] < my_tests[0]  # it learns
    for mine_y, their_y_i in zip(my_y, their_y, strict=True):
        assert mine_y.shape == their_y_i.shape == (3, 60 + 20)
        np.testing.assert_allclose(mine_y, their_y_i, rtol=0, atol=TOL)
    for key, value in their_model.state_dict().items():
        np.testing.assert_allclose(
            to_numpy(my_model.state_dict()[key]), to_numpy(value), rtol=0, atol=TOL,
            err_msg=key,
        )  # fmt: skip


# ------------------------------------------------- seq2seq translation
ENG_FRA = """\
I am cold.\tJ'ai froid.
I am tired.\tJe suis fatigué.
I am happy.\tJe suis heureux.
I am hungry.\tJ'ai faim.
I'm sick.\tJe suis malade.
He is tall.\tIl est grand.
He is tired.\tIl est fatigué.
He's happy.\tIl est heureux.
She is tall.\tElle est grande.
She is sick.\tElle est malade.
She's happy.\tElle est heureuse.
You are tall.\tTu es grand.
You are tired.\tTu es fatigué.
You're sick.\tTu es malade.
We are happy.\tNous sommes heureux.
We are tired.\tNous sommes fatigués.
We're cold.\tNous avons froid.
They are tall.\tIls sont grands.
They are sick.\tIls sont malades.
They're hungry.\tIls ont faim.
Go now.\tVa maintenant.
It is late.\tIl est tard.
"""


def _recording_train(module: ModuleType) -> list[float]:
    """Every training iteration's loss: what the tutorial's train() returns."""
    losses: list[float] = []
    train = module.train

    def recording(*args: Any, **kwargs: Any) -> Any:
        loss = train(*args, **kwargs)
        losses.append(loss)
        return loss

    module.train = recording
    return losses


# the tutorial's readLangs leaves its file open, for the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_seq2seq_translation_trains_and_translates_beside_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eng-fra.txt").write_text(ENG_FRA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # readLangs opens data/eng-fra.txt
    theirs, mine = ported_pair("seq2seq_translation")
    start: dict[str, dict[str, np.ndarray]] = {}

    def torch_init(encoder: Any, decoder: Any) -> None:
        without_dropout(decoder)
        start.update(encoder=initial_state(encoder), decoder=initial_state(decoder))

    def actnet_init(encoder: Any, decoder: Any) -> None:
        without_dropout(decoder)
        copy_state(start["encoder"], encoder)
        copy_state(start["decoder"], decoder)

    runs = []
    for module, init in ((theirs, torch_init), (mine, actnet_init)):
        random.seed(5)  # the pairs, teacher forcing and evaluateRandomly's picks
        module.prepare()
        losses = _recording_train(module)
        # 400 sentences at lr 0.1 (upstream: 75000 at 0.01) learn the pairs
        module.main(
            hidden_size=32, n_iters=400, print_every=100, init=init, learning_rate=0.1
        )
        out = capsys.readouterr().out
        runs.append((losses, out, module.attn_decoder1))
    (their_losses, their_out, their_decoder), (my_losses, my_out, my_decoder) = runs
    assert "Trimmed to 20 sentence pairs" in their_out
    assert len(my_losses) == len(their_losses) == 400
    assert_close(my_losses, their_losses, TOL, "seq2seq training losses")
    their_lines = their_out.splitlines()
    my_lines = my_out.splitlines()
    translations = [line for line in their_lines if line.startswith("<")]
    assert len(translations) == 10 and len(set(translations)) > 3  # it learnt
    # the same pairs picked, the same words decoded greedily (topk(1))
    assert [line for line in my_lines if line[:1] in "<>="] == [
        line for line in their_lines if line[:1] in "<>="
    ]
    for key, value in their_decoder.state_dict().items():
        np.testing.assert_allclose(
            to_numpy(my_decoder.state_dict()[key]), to_numpy(value), rtol=0,
            atol=TOL, err_msg=key,
        )  # fmt: skip
    # evaluate() directly, on every pair: words and attention weights
    for pair in theirs.pairs:
        their_words, their_attention = theirs.evaluate(
            theirs.encoder1, theirs.attn_decoder1, pair[0]
        )
        my_words, my_attention = mine.evaluate(
            mine.encoder1, mine.attn_decoder1, pair[0]
        )
        assert my_words == their_words
        np.testing.assert_allclose(
            to_numpy(my_attention), to_numpy(their_attention), rtol=0, atol=TOL
        )


# ------------------------------------------------ char_rnn_classification
NAMES = {
    "English": "Abbott Adams Baker Barker Carter Clarke Dawson Fletcher Harris Walker",
    "Italian": "Abate Bianchi Colombo Esposito Ferrari Greco Marino Ricci Romano Rossi",
    "Japanese": "Abe Fujita Hayashi Inoue Kato Matsumoto Nakamura Sato Suzuki Tanaka",
    "Russian": "Abramov Belov Dvorak Ivanov Kozlov Morozov Petrov Popov Sokolov Volkov",
    "Polish": "Adamczak Kowalski Lewandowski Nowak Ślusàrski Wójcik Zielinski Mazur",
}


# the tutorial's readLines leaves its files open, for the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_char_rnn_classification_trains_and_predicts_beside_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data" / "names").mkdir(parents=True)
    for language, names in NAMES.items():
        path = tmp_path / "data" / "names" / f"{language}.txt"
        path.write_text("\n".join(names.split()) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the tutorial reads data/names/*.txt
    theirs, mine = ported_pair("char_rnn_classification")
    start: dict[str, np.ndarray] = {}
    runs = []
    for module, init in (
        (theirs, lambda m: start.update(initial_state(m))),
        (mine, lambda m: copy_state(start, m)),
    ):
        random.seed(11)  # the training examples and the confusion samples
        module.load()
        module.setup(n_hidden=32, init=init)
        losses = _recording_train_losses(module)
        plotted = module.fit(n_iters=1500, print_every=300, plot_every=100)
        confusion = to_numpy(module.confusion_matrix(n_confusion=300)).copy()
        predictions = [
            module.predict(name) for name in ("Dovesky", "Jackson", "Satoshi")
        ]
        out = re.sub(r"\(\d+m \d+s\)", "(time)", capsys.readouterr().out)
        runs.append((losses, plotted, confusion, predictions, out))
    (their_losses, their_plot, their_confusion, their_pred, their_out) = runs[0]
    (my_losses, my_plot, my_confusion, my_pred, my_out) = runs[1]
    assert len(my_losses) == len(their_losses) == 1500
    assert_close(my_losses, their_losses, TOL, "training losses")
    assert_close(my_plot, their_plot, TOL, "plotted losses")
    assert my_plot[-1] < my_plot[0]  # it learns
    np.testing.assert_allclose(my_confusion, their_confusion, rtol=0, atol=1e-6)
    assert np.trace(my_confusion) > 1.0  # better than one class right
    for mine_p, their_p in zip(my_pred, their_pred, strict=True):
        assert [c for _, c in mine_p] == [c for _, c in their_p]  # topk's order
        assert_close([v for v, _ in mine_p], [v for v, _ in their_p], TOL, "top 3")
    # what the tutorial prints of names, guesses and predictions
    assert _names_and_guesses(my_out) == _names_and_guesses(their_out)
    assert len(_names_and_guesses(my_out)) == 10 + 1500 // 300 + 3 * 4


def _names_and_guesses(out: str) -> list[str]:
    """The lines printed for training examples, guesses and predictions."""
    lines = out.splitlines()
    return [line for line in lines if re.match(r"category =|\d+ \d+%|> |\(-", line)]


def _recording_train_losses(module: ModuleType) -> list[float]:
    """The loss of every training example (train returns output, loss)."""
    losses: list[float] = []
    train = module.train

    def recording(*args: Any) -> Any:
        output, loss = train(*args)
        losses.append(loss)
        return output, loss

    module.train = recording
    return losses


# -------------------------------------------------------------- dcgan
class _Namespace:
    """A library namespace with some names replaced (set as a ported module's
    `nn`, say): everything else is the library's own."""

    def __init__(self, library: ModuleType, **names: Any) -> None:
        self._library, self._names = library, names

    def __getattr__(self, name: str) -> Any:
        if name in self._names:
            return self._names[name]
        return getattr(self._library, name)


def _recording_bce_loss(nn_module: Any, losses: list[float]) -> type[Any]:
    """nn.BCELoss that records every loss it computes."""

    class RecordingBCELoss(nn_module.BCELoss):  # type: ignore[misc,name-defined]  # either library's
        def forward(self, input: Any, target: Any) -> Any:
            loss = super().forward(input, target)
            losses.append(float(loss.item()))
            return loss

    return RecordingBCELoss


def _check_weights_init(model: Any) -> None:
    """weights_init's `.data.normal_`/`.data.fill_` changed actnet's parameters."""
    for name, value in model.state_dict().items():
        values = to_numpy(value)
        if name.endswith("weight") and values.ndim == 4:  # Conv, ConvTranspose
            assert abs(values.std() - 0.02) < 0.01, name
        elif name.endswith("weight"):  # BatchNorm
            assert abs(values.mean() - 1.0) < 0.05 and values.std() > 0, name
        elif name.endswith("bias"):
            assert not values.any(), name


DCGAN_ARGV = ["--dataset", "fake", "--workers", "0", "--batchSize", "4", "--nz", "8",
              "--ngf", "4", "--ndf", "4", "--niter", "2", "--manualSeed", "1",
              "--outf", "."]  # fmt: skip


def _run_dcgan(
    module: ModuleType, library: ModuleType, data: Any, init: Callable[[Any], None]
) -> tuple[list[float], list[np.ndarray], Any, Any]:
    """main.py on `library`, with the same noise as the other run, its BCELoss
    losses and save_image's images recorded."""
    losses: list[float] = []
    saved: list[np.ndarray] = []

    def save_image(tensor: Any, path: str, **options: Any) -> None:
        saved.append(to_numpy(tensor).copy())

    module.torch = _SameNoise(library, seed=9, default="float32")
    module.nn = _Namespace(library.nn, BCELoss=_recording_bce_loss(library.nn, losses))
    module.vutils = _Namespace(library, save_image=save_image)
    module.main(DCGAN_ARGV, data, init)
    return losses, saved, module.netG, module.netD


def test_dcgan_trains_beside_torch() -> None:
    theirs, mine = ported_pair("dcgan")
    rng = np.random.default_rng(4)
    images = rng.random((8, 3, 64, 64), dtype=np.float32)  # FakeData's, ToTensor'd
    labels = np.zeros(8, np.int64)
    their_data = Recording(
        torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels))
    )
    start: list[dict[str, np.ndarray]] = []  # netG's, then netD's
    runs = [
        _run_dcgan(theirs, torch, their_data, lambda m: start.append(initial_state(m)))
    ]
    models = iter(start)

    def actnet_init(model: Any) -> None:
        _check_weights_init(model)  # before the weights are replaced
        copy_state(next(models), model)

    my_data = Replaying(
        TensorDataset(at.tensor(images), at.tensor(labels)), their_data.indices
    )
    runs.append(_run_dcgan(mine, at, my_data, actnet_init))
    (their_losses, their_saved, their_g, their_d) = runs[0]
    (my_losses, my_saved, my_g, my_d) = runs[1]
    assert len(their_losses) == 2 * 2 * 3  # 2 epochs of 2 batches: 3 losses each
    assert_close(my_losses, their_losses, TOL, "DCGAN losses (D real, D fake, G)")
    assert len(my_saved) == len(their_saved) == 4  # real and fixed-noise fakes
    for ours, theirs_image in zip(my_saved, their_saved, strict=True):
        np.testing.assert_allclose(ours, theirs_image, rtol=0, atol=TOL)
    for their_model, my_model in ((their_g, my_g), (their_d, my_d)):
        for key, value in their_model.state_dict().items():
            np.testing.assert_allclose(
                to_numpy(my_model.state_dict()[key]), to_numpy(value), rtol=0,
                atol=TOL, err_msg=key,
            )  # fmt: skip
