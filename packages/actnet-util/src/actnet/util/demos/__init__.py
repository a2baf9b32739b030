"""Small end-to-end demos, run by the `actnet demo ...` command.

- `digits`: an MLP 64→256→256→10 on scikit-learn's bundled digits (needs the
  `demo` extra: `pip install "actnet-util[demo]"`).
- `gpt`: a small GPT (the peer benchmark's) on a text with a byte-level BPE
  tokenizer; `generate` continues a prompt with the model it wrote, with a
  key/value cache.
"""

from actnet.util.demos._gpt_generate import (
    DecodeStep,
    decode_steps,
    generate,
    load_gpt,
    sample_token,
)
from actnet.util.demos._gpt_model import GPT, GPTConfig, KVCache
from actnet.util.demos.digits import DigitsResult, EpochBatches, run_digits
from actnet.util.demos.gpt import GPTResult, run_gpt

__all__ = [
    "GPT",
    "DecodeStep",
    "DigitsResult",
    "EpochBatches",
    "GPTConfig",
    "GPTResult",
    "KVCache",
    "decode_steps",
    "generate",
    "load_gpt",
    "run_digits",
    "run_gpt",
    "sample_token",
]
