"""The bundled MiniLM WordPiece tokenizer, cut to the pieces the training text uses.

A 30k-piece output layer would cost a small model most of its time and weights; the
``vocab_size`` most frequent pieces of the training text (plus the five special tokens)
cover nearly all of it, and every other piece reads as ``[UNK]``.

    >>> rows = minilm_ids(["Return the sum of a and b."], max_len=16)   # MiniLM ids, one array per text
    >>> vocab = build_vocabulary(rows, size=64)
    >>> vocab.compact(rows)                                             # the same, in compact ids
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from playground.models.sentence_transformers import minilm_wordpiece

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD, UNK, CLS, SEP, MASK = range(len(SPECIALS))  # compact ids




@dataclass(frozen=True)
class Vocabulary:
    """``pieces[i]`` is the WordPiece token of compact id ``i``; ``lookup[minilm_id]`` its compact id."""

    pieces: tuple[str, ...]
    lookup: np.ndarray

    def __len__(self) -> int:
        return len(self.pieces)

    def compact(self, rows: Sequence[np.ndarray]) -> list[np.ndarray]:
        """MiniLM id rows (from ``minilm_ids``) in this vocabulary's compact ids."""
        return [self.lookup[r] for r in rows]

    def encode(self, texts: Sequence[str], max_len: int) -> list[np.ndarray]:
        """Compact ids of each text: ``[CLS] pieces... [SEP]``, cut to ``max_len`` ids."""
        return self.compact(minilm_ids(texts, max_len))


def minilm_ids(texts: Sequence[str], max_len: int) -> list[np.ndarray]:
    """MiniLM WordPiece ids of each text, ``[CLS] pieces... [SEP]``, cut to ``max_len`` ids."""
    if max_len < 3:
        raise ValueError(f"max_len must leave room for [CLS], a piece and [SEP]; got {max_len}.")
    tokenizer = minilm_wordpiece()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    return [np.asarray([cls, *enc.ids[1:-1][: max_len - 2], sep], dtype=np.int64)
            for enc in tokenizer.encode_batch(list(texts))]


def build_vocabulary(rows: Sequence[np.ndarray], size: int) -> Vocabulary:
    """The ``size`` pieces: the specials, then the most frequent pieces of ``rows``
    (MiniLM ids from ``minilm_ids``; ties broken by MiniLM id, so the result is deterministic)."""
    if size <= len(SPECIALS):
        raise ValueError(f"the vocabulary needs more than {len(SPECIALS)} pieces, got {size}.")
    tokenizer = minilm_wordpiece()
    full = tokenizer.get_vocab_size()
    counts = np.bincount(np.concatenate(list(rows)), minlength=full).astype(np.int64)
    specials = [tokenizer.token_to_id(s) for s in SPECIALS]
    counts[specials] = 0
    order = np.lexsort((np.arange(full), -counts))
    kept = [i for i in order[: size - len(SPECIALS)] if counts[i] > 0]
    lookup = np.full(full, UNK, dtype=np.int64)
    for compact, minilm_id in enumerate(specials + kept):
        lookup[minilm_id] = compact
    pieces = tuple(SPECIALS) + tuple(tokenizer.id_to_token(int(i)) for i in kept)
    return Vocabulary(pieces=pieces, lookup=lookup)
