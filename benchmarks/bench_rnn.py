"""Language-model training steps from the ported pytorch/examples
word_language_model, actnet against PyTorch in the same run (2 threads each).

Rows (issue 13, porting from PyTorch): one step of main.py's training loop
(lm_ported.py: zero_grad, forward, NLLLoss, backward, clip_grad_norm_(0.25),
`p.data.add_(p.grad, alpha=-lr)`) for its `RNNModel('LSTM')` and for its
`TransformerModel` (an nn.Transformer subclass), main.py's default shapes with a
vocabulary of 10,000 words: the same file on torch as written, and on actnet with
its imports rewritten. Both start from torch's initial weights and train on the
same tokens; their first two losses must agree within 1e-4.

actnet runs in a process of its own, without torch (isolated.py: torch and
numba share the OpenMP runtime, and torch's makes actnet's threads spin), the
two sides alternating in rounds. Printed and saved: the median step of each and
the median of the per-round ratios (pass <= 1.5x torch, goal <= 1.0x).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_rnn.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import benchutil as bu  # before any numeric library: it sets the thread counts
import lm_ported as lm
import numpy as np
import torch
from bench_device import interleaved
from isolated import Isolated

torch.set_num_threads(bu.NTHREADS)

# main.py's lr of 20 is chaotic in float32: the libraries' last-bit differences
# grow past 1e-4 by the third step (the crosscheck trains at lr 2 for that);
# two steps check the same weights, data and update
FIRST_STEPS, REPS, TOL = 2, 9, 1e-4


def main() -> None:
    module = lm.ported("torch")
    data = lm.tokens()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "tokens.npy", data)
        args: dict[str, object] = {
            "tokens": str(Path(tmp) / "tokens.npy"),
            "threads": bu.NTHREADS,
        }
        models = {}
        for kind in lm.KINDS:
            torch.manual_seed(0)
            models[kind] = lm.build(module, kind)
            state = {
                k: v.detach().numpy() for k, v in models[kind].state_dict().items()
            }
            np.savez(Path(tmp) / f"{kind}.npz", **state)
            args[f"state_{kind}"] = str(Path(tmp) / f"{kind}.npz")
        print(f"{'workload':62s} {'actnet':>10s} {'torch':>10s} {'ratio':>7s}")
        with Isolated("lm_ported", "steps", args) as side:
            for kind in lm.KINDS:
                ours = side.step(kind)
                peer = lm.trainer(module, torch, models[kind], kind, torch.tensor(data))
                pairs = [(ours(), peer()) for _ in range(FIRST_STEPS)]
                diff = max(abs(a - b) for a, b in pairs)
                t_ours, t_peer, ratio = interleaved(ours, peer, reps=REPS)
                name = (
                    f"{kind} LM step (word_language_model): vocab {lm.NTOKENS}, "
                    f"{lm.NLAYERS}x{lm.NHID}, bptt {lm.BPTT}, batch {lm.BATCH}"
                )
                print(
                    f"{name:62s} {t_ours * 1e3:8.1f}ms {t_peer * 1e3:8.1f}ms "
                    f"{ratio:6.2f}x   pass <= 1.5x, goal <= 1x"
                )
                print(f"  first {FIRST_STEPS} losses (actnet, torch): {pairs}")
                assert diff <= TOL, f"{kind}: losses differ by {diff:.2e}"
                rows[name] = {
                    "actnet_ms": t_ours * 1e3,
                    "torch_ms": t_peer * 1e3,
                    "ratio": ratio,
                    "first_losses": pairs,
                    "max_loss_difference": diff,
                    "reps": REPS,
                }
    bu.save("rnn", rows)


if __name__ == "__main__":
    main()
