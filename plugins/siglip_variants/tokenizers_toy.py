"""The two tokenizers of the multilingual toy, each ``pieces(text) -> list[str]``:

- ``wordpiece``: the English WordPiece of the bundled all-MiniLM-L6-v2 (bert-base-uncased's
  30,522 pieces, lower-cased, accents stripped). What it lacks becomes ``[UNK]``.
- ``characters``: one piece per character, over every character of the five languages'
  captions written in ``languages.py``: it covers all five scripts.

No gradio, no torch.
"""
from __future__ import annotations

from functools import lru_cache

from playground.models.sentence_transformers import minilm_wordpiece

from .languages import every_text

UNK = "[UNK]"
TOKENIZERS = ("wordpiece", "characters")
TOKENIZER_NAMES = {"wordpiece": "English WordPiece (MiniLM's)", "characters": "characters (all five scripts)"}




@lru_cache(maxsize=1)
def _characters() -> frozenset:
    return frozenset(ch for text in every_text() for ch in text if not ch.isspace())


def pieces(tokenizer: str, text: str) -> list[str]:
    """``text`` cut into ``tokenizer``'s pieces (``[UNK]`` for what it does not cover)."""
    if tokenizer == "wordpiece":
        return list(minilm_wordpiece().encode(text, add_special_tokens=False).tokens)
    if tokenizer == "characters":
        known = _characters()
        return [ch if ch in known else UNK for ch in text if not ch.isspace()]
    raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {tokenizer!r}.")


def unknown_share(tokenizer: str, text: str) -> float:
    """The share of ``text``'s pieces that are ``[UNK]``."""
    cut = pieces(tokenizer, text)
    return sum(p == UNK for p in cut) / max(1, len(cut))
