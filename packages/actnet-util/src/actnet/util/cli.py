"""The `actnet` command (also `python -m actnet.util`).

    actnet demo digits [--epochs N] [--out DIR] [--fresh] [--progress MODE]
    actnet demo gpt [--text FILE] [--steps N] [--out DIR] [--fresh]
                    [--eval-every N] [--progress MODE]
    actnet generate --model DIR [--prompt TEXT] [--max-new-tokens N]
                    [--temperature T] [--top-k K] [--top-p P] [--seed S] [--no-cache]
    actnet --version

`main(argv)` returns the exit status, so tests call it in-process.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

import actnet.tensor as at
from actnet.nn import SafetensorsError
from actnet.util._version import __version__
from actnet.util.demos import gpt
from actnet.util.demos._gpt_generate import decode_steps, load_gpt
from actnet.util.demos.digits import DEFAULT_OUT, EPOCHS, run_digits

__all__ = ["build_parser", "main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fraction(text: str) -> float:
    """A float in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction in (0, 1], got {text!r}"
        ) from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def _compile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="captured training steps (actnet.tensor.compile; the same weights as "
        "eager steps); --no-compile runs them eagerly (default: compile)",
    )


def _progress_option(parser: argparse.ArgumentParser, unit: str) -> None:
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "epoch", "none"),
        default="auto",
        help=(
            f"a progress bar, one line per {unit}, or nothing (default auto: a bar "
            f"on a terminal, else one line per {unit})"
        ),
    )


def _add_gpt(demos: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = demos.add_parser(
        "gpt",
        help="a small GPT on a text, with a byte-level BPE tokenizer",
        description=(
            "Train the peer benchmark's GPT (d_model 256, 4 layers, 4 heads, context "
            "128, batch 16; a BPE vocabulary of 512) with AdamW (lr 3e-4, betas "
            "0.9/0.95, weight decay 0.1), warm-up then cosine, gradient clipping; "
            "validate every --eval-every steps; print the validation loss and a "
            "sample. DIR receives model.safetensors, config.json, tokenizer.json, "
            "history.json, the PNG plots and checkpoints/; running again with the "
            "same DIR resumes from the last checkpoint. The default run takes "
            "about 12 minutes on 2 cores."
        ),
    )
    parser.add_argument(
        "--text",
        metavar="FILE",
        help="a UTF-8 text file to train on (default: Python's pydoc topics)",
    )
    parser.add_argument(
        "--steps",
        type=_positive_int,
        default=gpt.STEPS,
        metavar="N",
        help=f"steps in all, counting those already done (default {gpt.STEPS})",
    )
    parser.add_argument(
        "--out",
        default=gpt.DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder (default {gpt.DEFAULT_OUT})",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete DIR/checkpoints and start over instead of resuming",
    )
    parser.add_argument(
        "--eval-every",
        type=_positive_int,
        default=gpt.EVAL_EVERY,
        metavar="N",
        help=(
            f"validate and write a checkpoint every N steps (default {gpt.EVAL_EVERY})"
        ),
    )
    _compile_option(parser)
    parser.add_argument(
        "--memory-budget",
        type=_fraction,
        default=None,
        metavar="F",
        help="hold the captured step's planned memory to the fraction F (0 < F <= "
        "1) of what it plans without a budget, recomputing saved tensors in "
        "backward (the same losses; needs --compile)",
    )
    _progress_option(parser, "validation")


def _add_generate(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = commands.add_parser(
        "generate",
        help="generate text with a model written by `actnet demo gpt`",
        description=(
            "Generate text after a prompt with the model in DIR (the --out of "
            "`actnet demo gpt`), one position per new token thanks to a key/value "
            "cache. Standard output holds the generated text only (the prompt is "
            "not repeated); progress and timings go to standard error. The same "
            "seed gives the same text."
        ),
    )
    parser.add_argument(
        "--model", required=True, metavar="DIR", help="the demo's output folder"
    )
    parser.add_argument(
        "--prompt",
        default=gpt.SAMPLE_PROMPT,
        metavar="TEXT",
        help=f"the text to continue (default {gpt.SAMPLE_PROMPT!r})",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=_positive_int,
        default=gpt.SAMPLE_TOKENS,
        metavar="N",
        help=f"tokens to generate (default {gpt.SAMPLE_TOKENS})",
    )
    parser.add_argument(
        "--temperature",
        type=_non_negative_float,
        default=0.8,
        metavar="T",
        help="softmax temperature; 0 takes the most likely token (default 0.8)",
    )
    parser.add_argument(
        "--top-k",
        type=_non_negative_int,
        default=40,
        metavar="K",
        help="sample among the K most likely tokens (default 40; 0: all)",
    )
    parser.add_argument(
        "--top-p",
        type=_probability,
        default=None,
        metavar="P",
        help="sample among the most likely tokens whose mass reaches P (default: off)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="the sampler's seed (default 0)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run the whole window for every token (slower; the same tokens)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actnet",
        description="actnet: a layered, PyTorch-like deep-learning toolkit.",
    )
    parser.add_argument(
        "--version", action="version", version=f"actnet-util {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser(
        "demo",
        help="run a small end-to-end training demo",
        description="Run a small end-to-end training demo.",
    )
    demos = demo.add_subparsers(dest="demo", metavar="DEMO")
    demos.required = True
    digits = demos.add_parser(
        "digits",
        help="MLP 64-256-256-10 on scikit-learn's digits (needs actnet-util[demo])",
        description=(
            "Train an MLP 64->256->256->10 (ReLU) on scikit-learn's bundled digits "
            "with SGD (lr 0.1, momentum 0.9, batch 64) and print the test accuracy. "
            "DIR receives model.safetensors, history.json, the PNG plots and "
            "checkpoints/; running again with the same DIR resumes from the last "
            "checkpoint."
        ),
    )
    digits.add_argument(
        "--epochs",
        type=_positive_int,
        default=EPOCHS,
        metavar="N",
        help=f"epochs to train in all, counting those already done (default {EPOCHS})",
    )
    digits.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder (default {DEFAULT_OUT})",
    )
    digits.add_argument(
        "--fresh",
        action="store_true",
        help="delete DIR/checkpoints and start over instead of resuming",
    )
    _compile_option(digits)
    _progress_option(digits, "epoch")
    _add_gpt(demos)
    _add_generate(commands)
    return parser


def _run_gpt(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.memory_budget is not None and not args.compile:
        parser.error("--memory-budget needs --compile (a captured step's memory)")
    text = None
    if args.text is not None:
        try:
            text = gpt.load_text(args.text)
            # a text too short for the model's windows, said before training
            shape = gpt.GPTConfig()
            gpt.prepare_data(text, shape.vocab_size, shape.context)
        except (OSError, ValueError) as e:
            parser.error(f"--text: {e}")
    try:
        result = gpt.run_gpt(
            args.steps,
            args.out,
            text=text,
            fresh=args.fresh,
            progress=args.progress,
            eval_every=args.eval_every,
            compile=args.compile,
            memory_budget=args.memory_budget,
        )
    except at.MemoryBudgetError as e:  # found while recording, after some steps
        parser.exit(2, f"{parser.prog}: error: --memory-budget: {e}\n")
    print(f"wrote {', '.join(str(p) for p in result.files)}")
    print(
        f"validation loss {result.val_loss:.2f} nats/token, "
        f"{result.bits_per_byte:.2f} bits/byte"
    )
    print(f"sample:\n{result.sample}", flush=True)
    return 0


def _generate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        model, bpe = load_gpt(args.model)
    except (OSError, ValueError, SafetensorsError) as e:
        parser.error(f"--model: {e}")
    prompt = bpe.encode(args.prompt)
    if not prompt:
        parser.error("--prompt: the prompt is empty")
    started = time.perf_counter()
    steps = decode_steps(
        model,
        prompt,
        args.max_new_tokens,
        temperature=args.temperature,
        top_k=args.top_k or None,
        top_p=args.top_p,
        seed=args.seed,
        use_cache=not args.no_cache,
    )
    bar = tqdm(
        total=args.max_new_tokens,
        desc="generate",
        unit="token",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    )
    ids = []
    positions = 0
    for step in steps:
        ids.append(step.token)
        positions += step.positions
        bar.update(1)
    bar.close()
    elapsed = time.perf_counter() - started
    sys.stdout.write(bpe.decode(ids) + "\n")
    sys.stdout.flush()
    print(
        f"{len(ids)} tokens in {elapsed:.2f} s ({len(ids) / elapsed:,.1f} tokens/s; "
        f"the model ran {positions} positions)",
        file=sys.stderr,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default sys.argv[1:]); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and args.demo == "digits":
        result = run_digits(
            epochs=args.epochs,
            out=args.out,
            fresh=args.fresh,
            progress=args.progress,
            compile=args.compile,
        )
        if result.rank == 0:
            print(f"wrote {', '.join(str(p) for p in result.files)}")
            print(f"test accuracy: {result.test_accuracy * 100:.2f}%", flush=True)
        return 0
    if args.command == "demo" and args.demo == "gpt":
        return _run_gpt(parser, args)
    if args.command == "generate":
        return _generate(parser, args)
    raise AssertionError(f"unhandled command {args}")  # argparse rejects the rest


if __name__ == "__main__":
    sys.exit(main())
