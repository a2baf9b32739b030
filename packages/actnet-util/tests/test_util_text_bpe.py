"""ByteBPE of actnet.util.text: round trips on arbitrary Unicode, merges against a
brute-force reference written plainly here, determinism, files, bad input."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.tensor as at
from actnet.util.text import PATTERN, ByteBPE, _bpe

SMALL_CORPUS = (
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs!\n"
    "    def f(x_1, x_2):  # 12 + 345 = 357\n"
    "        return x_1 ** 2\n"
    "Größe, naïve café, Ελληνικά, русский текст, 日本語のテキスト, emoji 🙂🙃.\n"
    "\t\ttabs  and   spaces\r\n"
) * 4

# Any character, lone surrogates included (st.characters() leaves them out).
ANY_CHAR = st.one_of(st.characters(), st.characters(categories=["Cs"]))


@pytest.fixture(scope="module")
def small_bpe() -> ByteBPE:
    return ByteBPE.train(SMALL_CORPUS, 400)


# ------------------------------------------------------------------ reference
def _reference_merge(word: list[int], pair: tuple[int, int], new: int) -> list[int]:
    out: list[int] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def reference_merges(text: str, vocab_size: int) -> list[tuple[int, int]]:
    """BPE the slow, obvious way: recount every pair of every chunk, merge the
    most frequent (smallest pair on ties) everywhere, repeat."""
    words = [
        list(c.encode("utf-8", "surrogatepass")) for c in re.findall(PATTERN, text)
    ]
    merges: list[tuple[int, int]] = []
    while len(merges) < vocab_size - 256:
        counts: dict[tuple[int, int], int] = {}
        for word in words:
            for i in range(len(word) - 1):
                pair = (word[i], word[i + 1])
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        words = [_reference_merge(w, best, 255 + len(merges)) for w in words]
    return merges


def reference_encode(merges: list[tuple[int, int]], text: str) -> list[int]:
    """Apply every merge, in training order, to every chunk."""
    out: list[int] = []
    for chunk in re.findall(PATTERN, text):
        word = list(chunk.encode("utf-8", "surrogatepass"))
        for i, pair in enumerate(merges):
            word = _reference_merge(word, pair, 256 + i)
        out.extend(word)
    return out


REPETITIVE = st.text(alphabet="ab c\n1é_.", max_size=80)


@settings(deadline=None, max_examples=60)
@given(text=REPETITIVE, extra=st.integers(0, 40))
def test_merges_equal_brute_force_reference(text: str, extra: int) -> None:
    expected = reference_merges(text, 256 + extra)
    bpe = ByteBPE.train(text, 256 + extra)
    assert list(bpe.merges) == expected
    assert bpe.encode(text) == reference_encode(expected, text)


def test_merges_equal_reference_on_the_small_corpus(small_bpe: ByteBPE) -> None:
    assert list(small_bpe.merges) == reference_merges(SMALL_CORPUS, 400)


def test_ties_go_to_the_smallest_pair() -> None:
    # chunks "ab", " cd": the pairs (97, 98), (32, 99), (99, 100) occur once each
    assert ByteBPE.train("ab cd", 257).merges == ((32, 99),)
    assert ByteBPE.train("ab cd", 259).merges == ((32, 99), (97, 98), (256, 100))


def test_training_stops_when_no_pair_is_left() -> None:
    bpe = ByteBPE.train("aaa", 1000)
    assert bpe.merges == ((97, 97), (256, 97))
    assert bpe.vocab_size == len(bpe) == 258
    assert ByteBPE.train("", 300).vocab_size == 256


# ------------------------------------------------------------------ pre-split
@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        ("Hello, world!", ["Hello", ",", " world", "!"]),
        ("x_1 = 345", ["x", "_", "1", " =", " 345"]),
        ("a  b\n\n  c", ["a", " ", " b", "\n\n ", " c"]),
        ("end.  \n", ["end", ".", "  \n"]),
        ("naïve 日本語", ["naïve", " 日本語"]),
    ],
)
def test_pre_split(text: str, chunks: list[str]) -> None:
    assert re.findall(PATTERN, text) == chunks


@given(text=st.text(ANY_CHAR))
def test_chunks_cover_the_text(text: str) -> None:
    assert "".join(re.findall(PATTERN, text)) == text


def test_merges_never_cross_chunks(small_bpe: ByteBPE) -> None:
    chunks = {c.encode() for c in re.findall(PATTERN, SMALL_CORPUS)}
    for token in small_bpe.vocab[256:]:
        assert any(token in chunk for chunk in chunks)
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            continue  # part of a character: no chunk boundary inside
        assert re.findall(PATTERN, text) == [text]


# ------------------------------------------------------------------ round trips
@settings(deadline=None, max_examples=150)
@given(text=st.text(ANY_CHAR))
def test_round_trip_any_text(small_bpe: ByteBPE, text: str) -> None:
    ids = small_bpe.encode(text)
    assert all(0 <= i < small_bpe.vocab_size for i in ids)
    assert small_bpe.decode(ids) == text


@settings(deadline=None, max_examples=50)
@given(text=st.text(ANY_CHAR, max_size=60))
def test_round_trip_with_a_tokenizer_trained_on_the_text(text: str) -> None:
    bpe = ByteBPE.train(text, 300)
    assert bpe.decode(bpe.encode(text)) == text


def test_lone_surrogates_round_trip(small_bpe: ByteBPE) -> None:
    text = "a\ud800b \udfff\ud83d\ude00"
    ids = small_bpe.encode(text)
    assert small_bpe.decode_bytes(ids) == text.encode("utf-8", "surrogatepass")
    assert small_bpe.decode(ids) == text


@settings(deadline=None, max_examples=100)
@given(data=st.binary(max_size=40).filter(lambda b: b"\xed" not in b))
def test_invalid_utf8_decodes_as_replace(data: bytes) -> None:
    # without 0xED no byte string can hold an encoded surrogate
    assert ByteBPE().decode(list(data)) == data.decode("utf-8", "replace")


def test_decode_cut_and_invalid_bytes() -> None:
    bpe = ByteBPE()
    assert bpe.decode([0xE2, 0x82]) == "\ufffd"
    assert bpe.decode([104, 0xFF, 105]) == "h\ufffdi"
    assert bpe.decode([0xED, 0xA0, 0x80]) == "\ud800"
    assert bpe.decode([0xED, 0x9F, 0xBF]) == "\ud7ff"


def test_decode_accepts_arrays_and_tensors(small_bpe: ByteBPE) -> None:
    ids = small_bpe.encode("the fox")
    assert small_bpe.decode(np.array(ids, dtype=np.int32)) == "the fox"
    assert small_bpe.decode(np.array(ids, dtype=np.uint16)) == "the fox"
    assert small_bpe.decode(at.tensor(ids)) == "the fox"
    assert small_bpe.decode([np.int64(i) for i in ids]) == "the fox"
    assert small_bpe.decode(iter(ids)) == "the fox"
    assert small_bpe.decode([]) == ""
    assert small_bpe.decode(np.array([])) == ""


def test_encode_uses_the_merges(small_bpe: ByteBPE) -> None:
    ids = small_bpe.encode(" the")
    assert len(ids) == 1
    assert small_bpe.vocab[ids[0]] == b" the"
    assert small_bpe.encode(SMALL_CORPUS) == reference_encode(
        list(small_bpe.merges), SMALL_CORPUS
    )


def test_encode_cache_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    bpe = ByteBPE.train(SMALL_CORPUS, 300)
    expected = bpe.encode(SMALL_CORPUS)
    monkeypatch.setattr(_bpe, "_CACHE_LIMIT", 3)
    fresh = ByteBPE(bpe.merges)
    assert fresh.encode(SMALL_CORPUS) == expected
    assert len(fresh._cache) <= 3


# ------------------------------------------------------------------ determinism
def test_training_is_deterministic() -> None:
    assert ByteBPE.train(SMALL_CORPUS, 350) == ByteBPE.train(SMALL_CORPUS, 350)


@settings(deadline=None, max_examples=30)
@given(
    lines=st.lists(
        st.lists(
            st.text(alphabet="abcé1", min_size=1, max_size=6), min_size=1, max_size=5
        ),
        min_size=1,
        max_size=12,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_training_ignores_the_order_of_chunks(
    lines: list[list[str]], seed: int
) -> None:
    # each line is " w1 w2 ...\n": permuting the lines permutes the chunks only
    texts = ["".join(f" {w}" for w in words) + "\n" for words in lines]
    shuffled = texts[:]
    random.Random(seed).shuffle(shuffled)
    first = ByteBPE.train("".join(texts), 290)
    assert ByteBPE.train("".join(shuffled), 290) == first


def test_a_prefix_of_the_vocabulary_is_a_smaller_training() -> None:
    big = ByteBPE.train(SMALL_CORPUS, 380)
    assert ByteBPE.train(SMALL_CORPUS, 300).merges == big.merges[:44]


# ------------------------------------------------------------------ files
def test_save_load_round_trip(small_bpe: ByteBPE, tmp_path: Path) -> None:
    path = tmp_path / "bpe.json"
    small_bpe.save(path)
    loaded = ByteBPE.load(path)
    assert loaded == small_bpe
    assert loaded.vocab == small_bpe.vocab
    assert loaded.encode(SMALL_CORPUS) == small_bpe.encode(SMALL_CORPUS)
    data = json.loads(path.read_text())
    assert data["format"] == "actnet.util.text.ByteBPE"
    assert data["version"] == 1
    assert data["pattern"] == PATTERN
    assert data["merges"] == [list(m) for m in small_bpe.merges]
    assert [p.name for p in tmp_path.iterdir()] == ["bpe.json"]  # no temp file left
    small_bpe.save(str(path))  # over an existing file, from a str path
    assert ByteBPE.load(str(path)) == small_bpe


def test_save_load_without_merges(tmp_path: Path) -> None:
    ByteBPE().save(tmp_path / "empty.json")
    assert ByteBPE.load(tmp_path / "empty.json") == ByteBPE()


def _good() -> dict[str, object]:
    return {
        "format": "actnet.util.text.ByteBPE",
        "version": 1,
        "pattern": PATTERN,
        "merges": [[97, 98], [256, 99]],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something else"}, "not a ByteBPE file"),
        ({"version": 2}, "version 2"),
        ({"pattern": r"\S+"}, "pre-split pattern"),
        ({"merges": [[97, 98], [257, 99]]}, "refers to id 257"),
        ({"merges": [[97, -1]]}, "refers to id -1"),
        ({"merges": [[97, 98], [97, 98]]}, "repeats merge 0"),
        ({"merges": [[97]]}, "pair of ints"),
        ({"merges": [[97, 98.0]]}, "pair of ints"),
        ({"merges": [[True, 98]]}, "pair of ints"),
        ({"merges": "ab"}, "sequence of pairs"),
        ({"merges": None}, "sequence of pairs"),
    ],
)
def test_malformed_files_are_rejected(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "bpe.json"
    path.write_text(json.dumps(_good() | change))
    with pytest.raises(ValueError, match=message) as info:
        ByteBPE.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": ', "invalid JSON"),
        (b"\xff\xfe{}", "invalid JSON"),
        (b"[1, 2]", "not a ByteBPE file"),
        (b"{}", "not a ByteBPE file"),
    ],
)
def test_files_that_are_not_json_objects(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bpe.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        ByteBPE.load(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ByteBPE.load(tmp_path / "missing.json")


# ------------------------------------------------------------------ bad input
def test_train_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        ByteBPE.train(b"abc", 300)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="vocab_size must be at least 256"):
        ByteBPE.train("abc", 255)
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        ByteBPE.train("abc", 300.0)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        ByteBPE.train("abc", True)


def test_encode_decode_reject_bad_arguments(small_bpe: ByteBPE) -> None:
    with pytest.raises(TypeError, match="text must be a str"):
        small_bpe.encode(None)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="ids: 400 at position 1 is out of range"):
        small_bpe.decode([1, 400, 2])
    with pytest.raises(ValueError, match="ids: -1 at position 0"):
        small_bpe.decode(np.array([-1]))
    with pytest.raises(TypeError, match="ids must be ints, got str at position 0"):
        small_bpe.decode(["a"])  # type: ignore[list-item]  # the error under test
    with pytest.raises(TypeError, match="ids must be ints, got bool"):
        small_bpe.decode([True])
    with pytest.raises(TypeError, match="ids must be a sequence of ints, got str"):
        small_bpe.decode("abc")  # type: ignore[arg-type]  # the error under test
    with pytest.raises(TypeError, match="1-d array of integers"):
        small_bpe.decode(np.array([[1, 2]]))
    with pytest.raises(TypeError, match="1-d array of integers"):
        small_bpe.decode(np.array([1.0]))


def test_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ByteBPE.train(SMALL_CORPUS, 260, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "BPE merges" in captured.err
    ByteBPE.train(SMALL_CORPUS, 260)
    assert capsys.readouterr().err == ""


def test_repr_and_hash(small_bpe: ByteBPE) -> None:
    assert repr(small_bpe) == "ByteBPE(vocab_size=400)"
    assert hash(ByteBPE(small_bpe.merges)) == hash(small_bpe)
    assert small_bpe != ByteBPE()
    assert small_bpe != "not a tokenizer"
