"""The `actnet` command (also `python -m actnet.util`).

    actnet demo digits [--epochs N] [--out DIR] [--fresh] [--progress MODE]
    actnet --version

`main(argv)` returns the exit status, so tests call it in-process.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from actnet.util._version import __version__
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
    digits.add_argument(
        "--progress",
        choices=("auto", "bar", "epoch", "none"),
        default="auto",
        help=(
            "a progress bar, one line per epoch, or nothing (default auto: a bar "
            "on a terminal, else one line per epoch)"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default sys.argv[1:]); returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo" and args.demo == "digits":
        result = run_digits(
            epochs=args.epochs, out=args.out, fresh=args.fresh, progress=args.progress
        )
        print(f"wrote {', '.join(str(p) for p in result.files)}")
        print(f"test accuracy: {result.test_accuracy * 100:.2f}%", flush=True)
        return 0
    raise AssertionError(f"unhandled command {args}")  # argparse rejects the rest


if __name__ == "__main__":
    sys.exit(main())
