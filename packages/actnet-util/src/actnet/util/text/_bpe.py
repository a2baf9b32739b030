"""`ByteBPE`: a byte-level byte-pair-encoding tokenizer (GPT-2's idea).

The base vocabulary is the 256 byte values (ids 0-255), so every text has an
encoding and nothing is ever unknown. Training learns merges on the UTF-8 bytes
of a text: each merge joins the most frequent adjacent pair of tokens into a new
token, whose id is 256 + the merge's index.

Pre-split. Before counting, the text is cut into chunks by `PATTERN`, in
GPT-2's spirit (Python's ``re`` has no ``\\p{L}``, so the classes are spelled
with ``\\w``): a run of letters, a run of decimal digits, or a run of other
non-space characters (punctuation, symbols, underscores), each with at most one
leading space; then runs of whitespace, the last space of a run being left to
the word after it. Merges never cross a chunk boundary: " the" is a token, "e t"
never is. Unlike GPT-2 there are no English contraction rules ("'s" is
punctuation followed by a word).

Determinism. At each step the pair with the highest count (over all chunks,
overlapping occurrences counted as in a plain scan) is merged; among pairs with
the same count the smallest pair (first id, then second id) wins. Training
therefore depends only on the text, never on dict or set ordering. It stops
early, with a smaller vocabulary, when no adjacent pair is left.

Lone surrogates. A Python str may hold lone surrogates ("\\ud800"), which UTF-8
cannot encode. Both sides use the ``surrogatepass`` error handler, so they are
encoded as the three bytes of their code point and come back unchanged:
``decode(encode(s)) == s`` for every str. Other byte sequences that are not
UTF-8 (a model may sample them) decode to U+FFFD, as ``errors="replace"`` does.

>>> bpe = ByteBPE.train("low lower lowest " * 20, 262)
>>> bpe.encode(" lower"), bpe.encode("lower")
([261], [257, 101, 114])
>>> bpe.decode(bpe.encode("lowest 🙂"))
'lowest 🙂'
"""

from __future__ import annotations

import codecs
import heapq
import itertools
import json
import math
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

import actnet.tensor as at
from actnet.util.checkpoint import write_atomic

__all__ = ["PATTERN", "ByteBPE"]

FORMAT: Final = "actnet.util.text.ByteBPE"
VERSION: Final = 1

#: The pre-split: letters, digits, other symbols (each with an optional leading
#: space), then whitespace not followed by a non-space, then any whitespace.
#: Every character falls in one class, so the chunks always cover the text.
PATTERN: Final = r" ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"
_CHUNK: Final = re.compile(PATTERN)

# Chunk encodings kept by `encode`: a corpus has tens of thousands of distinct
# chunks; the cap only bounds memory on endless streams of new ones.
_CACHE_LIMIT: Final = 1 << 18

_ERRORS: Final = "actnet.util.text.surrogatepass_replace"
_SURROGATEPASS: Final = codecs.lookup_error("surrogatepass")

Pair = tuple[int, int]
# What decode accepts: ints (Python or NumPy), a 1-d integer array or Tensor.
Ids = Iterable[int | np.integer[Any]] | np.ndarray[Any, Any] | at.Tensor


def _surrogatepass_replace(exc: UnicodeError) -> tuple[str, int]:
    """Decoding: encoded lone surrogates come back (surrogatepass), any other
    invalid UTF-8 becomes U+FFFD (replace)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    try:
        replacement, end = _SURROGATEPASS(exc)
    except UnicodeDecodeError:
        return "\ufffd", exc.end
    return str(replacement), end  # a str: decoding handlers return text


codecs.register_error(_ERRORS, _surrogatepass_replace)


def _to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _merge(word: list[int], a: int, b: int, new: int) -> list[int]:
    """`word` with each (a, b), scanned left to right, replaced by `new`."""
    out: list[int] = []
    i, n = 0, len(word)
    while i < n:
        if i + 1 < n and word[i] == a and word[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def _check_text(text: object, name: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    return text


def _check_merge(index: int, merge: object) -> Pair:
    if (
        not isinstance(merge, Sequence)
        or isinstance(merge, str | bytes)
        or len(merge) != 2
        or any(
            isinstance(t, bool) or not isinstance(t, int | np.integer) for t in merge
        )
    ):
        raise TypeError(f"merges: merge {index} must be a pair of ints, got {merge!r}")
    a, b = int(merge[0]), int(merge[1])
    known = 256 + index
    for token in (a, b):
        if not 0 <= token < known:
            raise ValueError(
                f"merges: merge {index} {(a, b)} refers to id {token}, which is "
                f"unknown at that point (ids 0 to {known - 1} exist)"
            )
    return a, b


def _ids_list(ids: object) -> list[int]:
    """`ids` (a sequence of ints, a 1-d integer NumPy array or actnet Tensor)
    as a list of Python ints."""
    if isinstance(ids, at.Tensor):
        ids = np.asarray(ids.array)
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise TypeError(
                "ids must be a 1-d array of integers, got shape "
                f"{ids.shape} and dtype {ids.dtype}"
            )
        values: list[int] = ids.tolist()
        return values
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise TypeError(f"ids must be a sequence of ints, got {type(ids).__name__}")
    values = []
    for i, token in enumerate(ids):
        if isinstance(token, bool) or not isinstance(token, int | np.integer):
            raise TypeError(
                f"ids must be ints, got {type(token).__name__} at position {i}"
            )
        values.append(int(token))
    return values


class ByteBPE:
    """A byte-level BPE tokenizer: the 256 bytes, then one token per merge.

    Args:
        merges: the learned merges in order; merge *i* joins the pair of ids
            (a, b), both below 256 + *i*, into id 256 + *i*.

    Usually made by `ByteBPE.train` or `ByteBPE.load`. `encode` gives a list
    of ints; `decode` takes any sequence of ints (or a 1-d integer array).

    >>> bpe = ByteBPE([(104, 105)])      # "h" + "i"
    >>> bpe.encode("hi hi"), len(bpe)
    ([256, 32, 256], 257)
    """

    merges: tuple[Pair, ...]
    vocab: tuple[bytes, ...]

    def __init__(self, merges: Iterable[Sequence[int]] = ()) -> None:
        if isinstance(merges, str | bytes) or not isinstance(merges, Iterable):
            raise TypeError(
                f"merges must be a sequence of pairs, got {type(merges).__name__}"
            )
        checked = tuple(_check_merge(i, m) for i, m in enumerate(merges))
        ranks: dict[Pair, int] = {}
        for i, pair in enumerate(checked):
            if pair in ranks:
                raise ValueError(
                    f"merges: merge {i} {pair} repeats merge {ranks[pair]}"
                )
            ranks[pair] = i
        vocab = [bytes([i]) for i in range(256)]
        for a, b in checked:
            vocab.append(vocab[a] + vocab[b])
        self.merges = checked
        self.vocab = tuple(vocab)
        self._ranks = ranks
        self._cache: dict[str, list[int]] = {}

    # ------------------------------------------------------------ training
    @classmethod
    def train(cls, text: str, vocab_size: int, *, progress: bool = False) -> ByteBPE:
        """Learn ``vocab_size - 256`` merges on `text` (see the module
        docstring for the pre-split and the tie rule). `progress` draws a tqdm
        bar on stderr.

        Pair counts are kept per distinct chunk, weighted by how often the chunk
        occurs, and updated only for the chunks a merge touches, so each merge
        costs the size of those chunks, not of the text.
        """
        _check_text(text, "text")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise TypeError(f"vocab_size must be an int, got {vocab_size!r}")
        if vocab_size < 256:
            raise ValueError(
                f"vocab_size must be at least 256 (the byte values), got {vocab_size}"
            )
        chunks = Counter(_CHUNK.findall(text))
        words = [list(_to_bytes(chunk)) for chunk in chunks]
        freqs = list(chunks.values())
        counts: dict[Pair, int] = defaultdict(int)
        where: dict[Pair, set[int]] = defaultdict(set)  # chunks holding the pair
        for i, word in enumerate(words):
            for pair in itertools.pairwise(word):
                counts[pair] += freqs[i]
                where[pair].add(i)
        # A max-heap on (count, then the smallest pair); entries whose count is
        # no longer current are skipped when they surface.
        heap = [(-n, a, b) for (a, b), n in counts.items()]
        heapq.heapify(heap)
        merges: list[Pair] = []
        wanted = vocab_size - 256
        bar = tqdm(
            total=wanted, desc="BPE merges", disable=not progress, file=sys.stderr
        )
        while len(merges) < wanted and heap:
            negative, a, b = heapq.heappop(heap)
            if counts.get((a, b)) != -negative:
                continue
            new = 256 + len(merges)
            merges.append((a, b))
            changed: set[Pair] = set()
            for i in where.pop((a, b)):
                old = words[i]
                word = _merge(old, a, b, new)
                if len(word) == len(old):
                    continue  # an earlier merge took this chunk's (a, b)
                freq = freqs[i]
                for pair in itertools.pairwise(old):
                    counts[pair] -= freq
                    changed.add(pair)
                for pair in itertools.pairwise(word):
                    counts[pair] += freq
                    where[pair].add(i)
                    changed.add(pair)
                words[i] = word
            for pair in changed:
                n = counts[pair]
                if n > 0:
                    heapq.heappush(heap, (-n, *pair))
                else:
                    del counts[pair]
                    where.pop(pair, None)
            bar.update(1)
        bar.close()
        return cls(merges)

    # ------------------------------------------------------------ encoding
    @property
    def vocab_size(self) -> int:
        """256 + the number of merges: ids run from 0 to vocab_size - 1."""
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def _encode_chunk(self, chunk: str) -> list[int]:
        # Applying the lowest-ranked pair present, again and again, gives what
        # applying all merges in training order gives: a pair holding token
        # 256 + r can only have a rank above r.
        word = list(_to_bytes(chunk))
        ranks = self._ranks
        while len(word) > 1:
            best = min(
                itertools.pairwise(word),
                key=lambda pair: ranks.get(pair, math.inf),
            )
            rank = ranks.get(best)
            if rank is None:
                break
            word = _merge(word, best[0], best[1], 256 + rank)
        return word

    def encode(self, text: str) -> list[int]:
        """The token ids of `text`, a list of ints (chunk encodings are cached,
        so a long text costs about one dict lookup per chunk).

        >>> ByteBPE().encode("é")
        [195, 169]
        """
        _check_text(text, "text")
        out: list[int] = []
        cache = self._cache
        for chunk in _CHUNK.findall(text):
            ids = cache.get(chunk)
            if ids is None:
                ids = self._encode_chunk(chunk)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[chunk] = ids
            out.extend(ids)
        return out

    def decode_bytes(self, ids: Ids) -> bytes:
        """The bytes the tokens stand for (the UTF-8 of the text, possibly cut
        inside a character when `ids` is a prefix)."""
        values = _ids_list(ids)
        size = len(self.vocab)
        if values and (min(values) < 0 or max(values) >= size):
            position, bad = next(
                (i, v) for i, v in enumerate(values) if not 0 <= v < size
            )
            raise ValueError(
                f"ids: {bad} at position {position} is out of range for a "
                f"vocabulary of {size}"
            )
        vocab = self.vocab
        return b"".join([vocab[i] for i in values])

    def decode(self, ids: Ids) -> str:
        """The text of the tokens: their bytes decoded as UTF-8, lone surrogates
        passed through and other invalid bytes replaced by U+FFFD.

        >>> ByteBPE().decode([104, 105, 0xFF])
        'hi\\ufffd'
        """
        return self.decode_bytes(ids).decode("utf-8", _ERRORS)

    # ------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the tokenizer to `path` as JSON, atomically (a temporary file
        beside it, then renamed over): ``{"format", "version", "pattern",
        "merges"}``, one merge ``[a, b]`` per line."""
        head = json.dumps({"format": FORMAT, "version": VERSION, "pattern": PATTERN})
        lines = ",\n".join(json.dumps(list(pair)) for pair in self.merges)
        text = f'{head[:-1]}, "merges": [\n{lines}\n]}}\n'
        write_atomic(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ByteBPE:
        """Read a tokenizer written by `save`. A file that is not one (bad
        JSON, another format or version, merges that refer to unknown ids)
        raises ValueError naming the file."""
        where = Path(path)
        try:
            data = json.loads(where.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{where}: not a ByteBPE file (invalid JSON: {e})") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = (
                data.get("format") if isinstance(data, dict) else type(data).__name__
            )
            raise ValueError(
                f"{where}: not a ByteBPE file (format {found!r}, expected {FORMAT!r})"
            )
        if data.get("version") != VERSION:
            raise ValueError(
                f"{where}: ByteBPE file version {data.get('version')!r}; this "
                f"actnet reads version {VERSION}"
            )
        if data.get("pattern") != PATTERN:
            raise ValueError(
                f"{where}: the tokenizer was trained with the pre-split pattern "
                f"{data.get('pattern')!r}; this actnet uses {PATTERN!r}"
            )
        merges: Any = data.get("merges")
        try:
            return cls(merges)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: {e}") from e

    # ------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ByteBPE):
            return NotImplemented
        return self.merges == other.merges

    def __hash__(self) -> int:
        return hash(self.merges)

    def __repr__(self) -> str:
        return f"ByteBPE(vocab_size={self.vocab_size})"
