"""A tiny gpt demo run for test_util_demo_gpt.py, run in a subprocess: a small
GPTConfig on the start of the pydoc topics, a checkpoint every few steps,
optionally killed with SIGKILL at a given step; started again with the same OUT,
it resumes.

    python util_gpt_worker.py OUT [--kill-at 7]

Prints "done: resumed from PATH" at the end (PATH None for a run from scratch).
"""

from __future__ import annotations

import argparse
import os
import signal

from actnet.util.demos import GPTConfig, run_gpt
from actnet.util.text import pydoc_topics

STEPS, EVERY = 12, 3
CONFIG = GPTConfig(vocab_size=280, context=16, d_model=16, n_layers=1, n_heads=2)
TEXT_CHARS = 6000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--kill-at", type=int, default=0)
    args = parser.parse_args()

    def on_step(step: int, loss: float) -> None:
        if step == args.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    result = run_gpt(
        STEPS,
        args.out,
        text=pydoc_topics()[:TEXT_CHARS],
        progress="none",
        eval_every=EVERY,
        config=CONFIG,
        batch_size=4,
        sample_tokens=0,
        on_step=on_step,
    )
    print(f"done: resumed from {result.resumed_from}")


if __name__ == "__main__":
    main()
