"""The default corpus of actnet.util.text (CPython's pydoc topics), and the
tokenizer on it: a round trip that compresses."""

from __future__ import annotations

import pydoc_data.topics

from actnet.util.text import ByteBPE, TextDataset, pydoc_topics, split_tokens


def test_corpus_is_the_pydoc_topics() -> None:
    text = pydoc_topics()
    topics = pydoc_data.topics.topics
    assert text == "\n".join(topics[key] for key in sorted(topics))
    assert len(text) > 300_000
    assert 'The "if" statement' in text
    assert pydoc_topics() == text


def test_tokenizer_on_the_corpus() -> None:
    text = pydoc_topics()
    bpe = ByteBPE.train(text, 512)
    assert bpe.vocab_size == 512
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    # byte-level BPE with 256 merges roughly halves English text
    assert len(ids) < 0.55 * len(text.encode("utf-8"))
    _, val = split_tokens(ids, 0.9)
    ds = TextDataset(val, 128, stride=128)
    assert len(ds) == (len(val) - 129) // 128 + 1
    assert bpe.decode(ds[0][0].tolist()) == bpe.decode(val[:128])
