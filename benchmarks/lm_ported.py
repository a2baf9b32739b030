"""The language-model steps of bench_rnn.py, from the ported pytorch/examples
word_language_model (packages/actnet-util/crosscheck/ported): its `RNNModel`
('LSTM') and its `TransformerModel` (an `nn.Transformer` subclass), trained as
its main.py trains them: zero_grad, forward, NLLLoss over log_softmax, backward,
`clip_grad_norm_(0.25)`, then `p.data.add_(p.grad, alpha=-lr)` for every
parameter, the LSTM's hidden state carried from step to step (detached).

The same file runs on torch as written and on actnet with its imports
rewritten (util_porting.port_source): `build(library, ...)` takes "torch" or
"actnet", so the actnet side is importable in a process without torch
(isolated.py). `steps(args)` serves the actnet side to isolated.py.

Shapes: main.py's defaults (emsize 200, nhid 200, 2 layers, bptt 35, batch
20, nhead 2, lr 20, clip 0.25) with a vocabulary of 10,000 words (Penn
Treebank's size), dropout 0 (the libraries' random streams differ).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from isolated import Steps

import actnet.device as ad
import actnet.tensor as at

HERE = Path(__file__).resolve().parent
CROSSCHECK = HERE.parent / "packages" / "actnet-util" / "crosscheck"
sys.path.insert(0, str(CROSSCHECK))

from util_porting import (  # found through the path above
    load_source,
    port_source,
    without_dropout,
)

NTOKENS, EMSIZE, NHID, NLAYERS, NHEAD = 10_000, 200, 200, 2, 2
BPTT, BATCH, LR, CLIP = 35, 20, 20.0, 0.25
KINDS = ("LSTM", "Transformer")


def ported(library: str) -> Any:
    """word_language_model's module on `library` ("torch" or "actnet")."""
    text = (CROSSCHECK / "ported" / "word_language_model.py").read_text()
    if library == "actnet":
        text = port_source(text)
    module = load_source(f"wlm_{library}", text)
    module.args = argparse.Namespace(model="", bptt=BPTT, clip=CLIP)
    return module


def build(module: Any, kind: str) -> Any:
    """The model of `kind`, as main.py builds it, without dropout (also inside
    nn.Transformer's layers, whose own default is 0.1)."""
    if kind == "Transformer":
        model = module.TransformerModel(NTOKENS, EMSIZE, NHEAD, NHID, NLAYERS, 0.0)
    else:
        model = module.RNNModel(kind, NTOKENS, EMSIZE, NHID, NLAYERS, 0.0)
    without_dropout(model)
    return model


def tokens(seed: int = 0) -> np.ndarray[Any, Any]:
    """(BPTT + 1, BATCH) token ids: main.py's batchified layout."""
    return np.random.default_rng(seed).integers(0, NTOKENS, (BPTT + 1, BATCH))


def trainer(module: Any, lib: Any, model: Any, kind: str, data: Any) -> Any:
    """One step of main.py's train() on `data` ((BPTT + 1, BATCH) ids of lib),
    returning the loss; the LSTM's hidden state carries over, detached."""
    criterion = lib.nn.NLLLoss()
    x, y = data[:-1], data[1:].reshape(-1)
    state: dict[str, Any] = {}
    if kind != "Transformer":
        state["hidden"] = model.init_hidden(BATCH)

    def step() -> float:
        model.zero_grad()
        if kind == "Transformer":
            output = model(x).view(-1, NTOKENS)
        else:
            hidden = module.repackage_hidden(state["hidden"])
            output, state["hidden"] = model(x, hidden)
        loss = criterion(output, y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-LR)
        return float(loss.item())

    return step


def steps(args: dict[str, Any]) -> Any:
    """The actnet side for isolated.py: a step per kind, from the weights in
    args["state_<kind>"] (npz) and the tokens in args["tokens"] (npy)."""
    ad.set_num_threads(int(args.get("threads", 2)))
    module = ported("actnet")
    data = at.tensor(np.load(args["tokens"]))
    calls = {}
    for kind in KINDS:
        model = build(module, kind)
        with np.load(args[f"state_{kind}"]) as archive:
            model.load_state_dict({k: at.tensor(archive[k]) for k in archive.files})
        calls[kind] = trainer(module, at, model, kind, data)
    return Steps(calls)
