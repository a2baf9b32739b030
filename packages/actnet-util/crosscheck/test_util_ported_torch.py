"""Published PyTorch examples (ported/), run twice: as written, on torch 2.13.0,
and with only their imports rewritten (util_porting.port_source), on actnet;
from the same initial weights (torch's, moved by name through NumPy), on the
same data (NumPy-made corpora and images), without dropout (the two libraries'
random generators differ). Every loss within 1e-4 of torch's, and greedy
generation picks the same tokens.

- pytorch/examples word_language_model: LSTM, GRU, RNN_TANH, RNN_RELU and the
  nn.Transformer subclass. Its training step updates through `p.data.add_(...)`
  (`Tensor.data` is a view of `p` that writes through, as in PyTorch); the same
  loop with that one line written as `with torch.no_grad(): p.add_(...)` (on
  both sides) trains beside torch too.
- karpathy/minGPT: GPT (a causal-mask buffer, masked_fill, softmax), its
  Trainer (AdamW with parameter groups, a RandomSampler with replacement,
  clip_grad_norm_) and generate (greedy, top-k, and sampling).
- karpathy/nanoGPT: model.py (tied embeddings, F.layer_norm, causal
  scaled_dot_product_attention, crop_block_size, configure_optimizers, generate)
  and train.py's loop (cosine learning rate set in the parameter groups,
  gradient accumulation, clipping, memmapped batches), without its AMP lines.
- pytorch/examples mnist (Conv2d, max_pool2d, log_softmax, nll_loss, Adadelta,
  StepLR) and mnist_rnn (a batch_first LSTM, BatchNorm1d, Dropout2d on 2-D).
"""

from __future__ import annotations

import argparse
import re
import warnings
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


# ------------------------------------------------- word_language_model
WORDS = [f"w{i}" for i in range(24)]
SENTENCES = [  # a corpus with something to learn: sentences over 24 words
    [WORDS[(3 * s + k * (s + 1)) % 24] for k in range(4 + s % 5)] for s in range(9)
]
KINDS = ["LSTM", "GRU", "RNN_TANH", "RNN_RELU", "Transformer"]
P_DATA = "p.data.add_(p.grad, alpha=-lr)"
NO_GRAD = (
    P_DATA,
    (
        "with torch.no_grad():  # (the crosscheck's edit)\n"
        "                p.add_(p.grad, alpha=-lr)"
    ),
)


def _corpus(path: Path) -> Path:
    rng = np.random.default_rng(0)
    for split, lines in (("train", 60), ("valid", 12), ("test", 12)):
        picks = rng.integers(0, len(SENTENCES), lines)
        text = "\n".join(" ".join(SENTENCES[i]) for i in picks) + "\n"
        (path / f"{split}.txt").write_text(text)
    return path


def _args(data: Path, kind: str, lr: float) -> argparse.Namespace:
    """main.py's options (its argparse defaults but for sizes and dropout)."""
    return argparse.Namespace(
        data=str(data), model=kind, emsize=16, nhid=16, nlayers=2, lr=lr,
        clip=0.25, epochs=2, batch_size=4, bptt=7, dropout=0.0, tied=False,
        seed=1111, log_interval=200, dry_run=False, nhead=2,
    )  # fmt: skip


def _record_losses(module: ModuleType) -> list[float]:
    """Every loss main.py computes (training and evaluation), by wrapping the
    module's `criterion`."""
    losses: list[float] = []
    criterion = module.criterion

    def recording(output: Any, target: Any) -> Any:
        loss = criterion(output, target)
        losses.append(float(loss.item()))
        return loss

    module.criterion = recording
    return losses


def _setup(module: ModuleType, args: argparse.Namespace, dtype: str) -> Any:
    with warnings.catch_warnings():
        # torch's note that nn.Transformer's encoder skips its nested-tensor path
        warnings.filterwarnings("ignore", "enable_nested_tensor is True")
        model = module.setup(args)
    without_dropout(model)
    if dtype == "float64":
        model.double()
    return model


def _generate(module: ModuleType, first: int, words: int = 12) -> list[str]:
    out: list[str] = module.generate(words, greedy=True, first=first)
    return out


def _train_both(
    tmp_path: Path, kind: str, edit: tuple[str, str] | None, lr: float, dtype: str
) -> None:
    theirs, mine = ported_pair("word_language_model", edit)
    args = _args(_corpus(tmp_path), kind, lr)
    torch_model = _setup(theirs, args, dtype)
    copy_state(torch_model, _setup(mine, args, dtype))
    their_losses, my_losses = _record_losses(theirs), _record_losses(mine)
    torch_test = theirs.fit()
    my_test = mine.fit()
    assert len(their_losses) > 30  # 2 epochs of 17 batches, and evaluations
    assert_close(my_losses, their_losses, TOL, f"{kind} losses")
    assert abs(my_test - torch_test) <= TOL
    for first in (0, 5):
        assert _generate(mine, first) == _generate(theirs, first)


@pytest.mark.parametrize("kind", KINDS)
def test_word_language_model_trains_beside_torch_as_written(
    tmp_path: Path, kind: str
) -> None:
    _train_both(tmp_path, kind, None, lr=2.0, dtype="float32")


@pytest.mark.parametrize(
    ("kind", "lr", "dtype"),
    [(kind, 2.0, "float32") for kind in KINDS]
    # main.py's default lr (20) is chaotic in float32: differences of 1e-7 grow
    # past 1e-4 within 20 steps, in torch itself between thread counts too
    + [("LSTM", 20.0, "float64"), ("Transformer", 20.0, "float64")],
)
def test_word_language_model_trains_beside_torch_with_the_update_under_no_grad(
    tmp_path: Path, kind: str, lr: float, dtype: str
) -> None:
    _train_both(tmp_path, kind, NO_GRAD, lr, dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_word_language_model_evaluates_and_generates_from_the_same_weights(
    tmp_path: Path, kind: str
) -> None:
    # torch trains (as written); actnet takes its weights and evaluates the
    # test split and generates, through main.py's and generate.py's code
    theirs, mine = ported_pair("word_language_model")
    args = _args(_corpus(tmp_path), kind, lr=5.0)
    torch_model = _setup(theirs, args, "float32")
    my_model = _setup(mine, args, "float32")
    theirs.lr = args.lr
    for theirs.epoch in range(1, 7):  # main.py's train() reads the global epoch
        theirs.train()
    copy_state(torch_model, my_model)
    their_losses, my_losses = _record_losses(theirs), _record_losses(mine)
    their_loss, my_loss = (
        theirs.evaluate(theirs.test_data),
        mine.evaluate(mine.test_data),
    )
    assert_close(my_losses, their_losses, TOL, f"{kind} evaluation")
    assert abs(my_loss - their_loss) <= TOL
    for first in (0, 3, 7, 12):
        assert _generate(mine, first, 20) == _generate(theirs, first, 20)
    sampled = mine.generate(20, temperature=0.8)  # torch.multinomial's path
    assert len(sampled) == 20 and set(sampled) <= set(mine.corpus.dictionary.word2idx)


# ------------------------------------------------------------ minGPT
def _text() -> str:
    rng = np.random.default_rng(1)
    phrases = ["the cat sat on the mat. ", "a dog ran in the fog. ", "we ate a pie. "]
    return "".join(phrases[i] for i in rng.integers(0, len(phrases), 60))


def _gpt(module: ModuleType, text: str) -> tuple[Any, Any]:
    """chargpt.py's setup, smaller, without dropout."""
    data_config = module.CharDataset.get_default_config()
    data_config.block_size = 16
    dataset = module.CharDataset(data_config, text)
    config = module.GPT.get_default_config()
    config.model_type = None
    config.n_layer, config.n_head, config.n_embd = 2, 4, 32
    config.vocab_size = dataset.get_vocab_size()
    config.block_size = dataset.get_block_size()
    config.embd_pdrop = config.resid_pdrop = config.attn_pdrop = 0.0
    return dataset, module.GPT(config)


def _fit(module: ModuleType, model: Any, dataset: Any) -> list[float]:
    config = module.Trainer.get_default_config()
    config.max_iters, config.batch_size, config.learning_rate = 40, 8, 5e-3
    config.num_workers = 0  # torch's worker processes would not record indices
    trainer = module.Trainer(config, model, dataset)
    losses: list[float] = []
    trainer.set_callback("on_batch_end", lambda t: losses.append(t.loss.item()))
    with warnings.catch_warnings():
        # torch's note that pin_memory has nothing to pin to without a GPU
        warnings.filterwarnings("ignore", "'pin_memory' argument is set as true")
        trainer.run()
    return losses


def test_mingpt_trains_and_generates_beside_torch() -> None:
    theirs, mine = ported_pair("mingpt")
    text = _text()
    their_data, their_model = _gpt(theirs, text)
    my_data, my_model = _gpt(mine, text)
    copy_state(their_model, my_model)
    recording = Recording(their_data)
    their_losses = _fit(theirs, their_model, recording)
    my_losses = _fit(mine, my_model, Replaying(my_data, recording.indices))
    assert_close(my_losses, their_losses, TOL, "minGPT training losses")
    assert my_losses[-1] < my_losses[0] - 1.0  # it learns
    their_model.eval()
    my_model.eval()
    prompt = [their_data.stoi[c] for c in "the "]
    # 30 new tokens from 4: past block_size (16), so the window is cropped
    for top_k in (None, 5):
        theirs_out = their_model.generate(
            torch.tensor([prompt]), 30, do_sample=False, top_k=top_k
        )
        mine_out = my_model.generate(
            at.tensor([prompt]), 30, do_sample=False, top_k=top_k
        )
        assert mine_out[0].tolist() == theirs_out[0].tolist()
    sampled = my_model.generate(at.tensor([prompt]), 20, do_sample=True, top_k=3)
    assert sampled.shape == (1, 24)
    assert set(sampled[0].tolist()) <= set(range(my_data.get_vocab_size()))


# ------------------------------------------------------------ nanoGPT
def _token_files(path: Path) -> np.ndarray:
    """train.bin and val.bin as nanoGPT's prepare.py writes them (uint16)."""
    rng = np.random.default_rng(3)
    tokens = np.tile(np.arange(20, dtype=np.uint16), 50)
    tokens[rng.random(tokens.size) < 0.1] = 20  # some noise
    tokens.tofile(path / "train.bin")
    tokens[:300].tofile(path / "val.bin")
    return tokens


def test_nanogpt_trains_and_generates_beside_torch(tmp_path: Path) -> None:
    theirs, mine = ported_pair("nanogpt")
    tokens = _token_files(tmp_path)
    models = []
    for module in (theirs, mine):
        config = module.GPTConfig(
            block_size=16, vocab_size=32, n_layer=2, n_head=4, n_embd=32, dropout=0.0
        )
        models.append(module.GPT(config))
    their_model, my_model = models
    copy_state(their_model, my_model)  # the tied wte/lm_head weight included
    # get_batch draws its offsets with torch.randint: torch's batches are
    # recorded and fed to actnet's loop; actnet's own get_batch is checked apart
    batches: list[tuple[np.ndarray, np.ndarray]] = []
    their_get_batch = theirs.make_get_batch(str(tmp_path), 16, 4, "cpu")

    def recording(split: str) -> Any:
        x, y = their_get_batch(split)
        batches.append((to_numpy(x), to_numpy(y)))
        return x, y

    replay = iter(batches)
    theirs.get_batch = recording
    mine.get_batch = lambda split: tuple(at.tensor(a) for a in next(replay))
    options = {
        "data_dir": str(tmp_path), "device": "cpu", "block_size": 16,
        "batch_size": 4, "learning_rate": 1e-2, "max_iters": 30,
        "warmup_iters": 3, "lr_decay_iters": 30, "min_lr": 1e-3, "grad_clip": 1.0,
        "gradient_accumulation_steps": 2, "eval_interval": 10, "eval_iters": 2,
        "log_interval": 1,
    }  # fmt: skip
    losses, warned = [], []
    for module, model in ((theirs, their_model), (mine, my_model)):
        optimizer = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses.append(module.train(model, optimizer, **options))
        warned.append(sorted({(w.category.__name__, str(w.message)) for w in caught}))
    # train.py's `torch.cuda.amp.GradScaler(enabled=True)` on a CPU: both say it
    # is deprecated and that CUDA is not there (so it passes everything through)
    assert [category for category, _ in warned[1]] == [
        category for category, _ in warned[0]
    ], warned
    assert_close(losses[1], losses[0], TOL, "nanoGPT losses")
    assert len(losses[0]) == 31 + 2 * 4  # 31 iterations, 4 evaluations of 2 splits
    x, y = mine.make_get_batch(str(tmp_path), 16, 4, "cpu")("train")
    assert x.shape == y.shape == (4, 16) and x.dtype == np.int64
    windows = {
        (tuple(tokens[i : i + 16]), tuple(tokens[i + 1 : i + 17]))
        for i in range(tokens.size - 16)
    }
    for row, next_row in zip(x.tolist(), y.tolist(), strict=True):
        assert (tuple(row), tuple(next_row)) in windows  # a window and its shift
    their_model.eval()
    my_model.eval()
    for crop in (None, 8):  # crop_block_size: the model surgery, on both sides
        if crop is not None:
            their_model.crop_block_size(crop)
            my_model.crop_block_size(crop)
        # top_k=1: multinomial over one-hot probabilities, so greedy
        theirs_out = their_model.generate(torch.tensor([[1, 2, 3]]), 24, top_k=1)
        mine_out = my_model.generate(at.tensor([[1, 2, 3]]), 24, top_k=1)
        assert mine_out[0].tolist() == theirs_out[0].tolist()
    sampled = my_model.generate(at.tensor([[1, 2, 3]]), 10, temperature=0.8, top_k=5)
    assert sampled.shape == (1, 13)


# ----------------------------------------------------- mnist, mnist_rnn
def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digit-like data: a class's images share a random template, plus noise."""
    rng = np.random.default_rng(seed)
    templates = np.random.default_rng(99).random((10, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    noise = 0.5 * rng.random((n, 1, 28, 28), dtype=np.float32)
    return (templates[labels] + noise).astype(np.float32), labels


def _datasets(library: str) -> tuple[Any, Any]:
    (x, y), (xt, yt) = _images(48, 0), _images(24, 1)
    if library == "torch":
        make = torch.utils.data.TensorDataset
        return make(torch.tensor(x), torch.tensor(y)), make(
            torch.tensor(xt), torch.tensor(yt)
        )
    return TensorDataset(at.tensor(x), at.tensor(y)), TensorDataset(
        at.tensor(xt), at.tensor(yt)
    )


def _report(text: str) -> tuple[list[float], list[tuple[float, int]]]:
    """The training losses and the test lines (average loss, correct) that
    main.py prints."""
    losses = [float(v) for v in re.findall(r"Loss: ([0-9.]+)", text)]
    tests = [
        (float(a), int(c))
        for a, c in re.findall(r"Average loss: ([0-9.]+), Accuracy: (\d+)", text)
    ]
    return losses, tests


def _run_mnist(
    name: str, capsys: pytest.CaptureFixture[str]
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    theirs, mine = ported_pair(name)
    start: dict[str, np.ndarray] = {}

    def torch_init(model: Any) -> None:
        without_dropout(model)
        start.update(initial_state(model))

    def actnet_init(model: Any) -> None:
        without_dropout(model)
        copy_state(start, model)

    results = []
    runs = ((theirs, "torch", torch_init), (mine, "actnet", actnet_init))
    for module, library, init in runs:
        train, test = _datasets(library)
        if name == "mnist":
            argv = ["--batch-size", "16", "--test-batch-size", "10", "--epochs", "3",
                    "--log-interval", "1", "--no-accel"]  # fmt: skip
            model = module.main(argv, train, test, init)
        else:
            args = argparse.Namespace(
                batch_size=16, test_batch_size=10, epochs=3, lr=1.0, gamma=0.7,
                log_interval=1, dry_run=False,
            )  # fmt: skip
            with warnings.catch_warnings():
                # both libraries warn that Dropout2d takes a 2-D input as dropout
                warnings.filterwarnings("ignore", "dropout2d: Received a 2-D input")
                model = module.main(args, train, test, init)
        results.append((_report(capsys.readouterr().out), model))
    return results[0], results[1]


@pytest.mark.parametrize("name", ["mnist", "mnist_rnn"])
def test_mnist_examples_train_beside_torch(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ((their_losses, their_tests), their_model), ((my_losses, my_tests), my_model) = (
        _run_mnist(name, capsys)
    )
    assert len(their_losses) == 9 and len(their_tests) == 3  # 3 epochs of 3 batches
    # printed with 6 and 4 decimals: within TOL plus half of the last digit
    assert_close(my_losses, their_losses, TOL + 5e-7, f"{name} training losses")
    assert_close(
        [t[0] for t in my_tests], [t[0] for t in their_tests], TOL + 5e-5, "test loss"
    )
    assert [t[1] for t in my_tests] == [t[1] for t in their_tests]
    for key, value in their_model.state_dict().items():
        np.testing.assert_allclose(
            to_numpy(my_model.state_dict()[key]), to_numpy(value), rtol=0, atol=1e-4,
            err_msg=key,
        )  # fmt: skip
