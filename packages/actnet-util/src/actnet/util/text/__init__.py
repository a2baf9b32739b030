"""Text for language models: a byte-level BPE tokenizer, (context, next token)
windows over a token array, and a corpus that ships with Python.

    from actnet.util.text import ByteBPE, TextDataset, pydoc_topics, split_tokens
    text = pydoc_topics()                   # CPython's language reference, offline
    bpe = ByteBPE.train(text, 512)          # deterministic; bpe.save("bpe.json")
    train, val = split_tokens(bpe.encode(text), 0.9)   # the tail validates
    loader = DataLoader(TextDataset(train, 128), batch_size=16, shuffle=True, seed=0)
    assert bpe.decode(bpe.encode(text)) == text
"""

from actnet.util.text._bpe import PATTERN, ByteBPE
from actnet.util.text._corpus import pydoc_topics
from actnet.util.text._dataset import TextDataset, split_tokens

__all__ = [
    "PATTERN",
    "ByteBPE",
    "TextDataset",
    "pydoc_topics",
    "split_tokens",
]
