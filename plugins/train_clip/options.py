"""The lab's choices and its word splitter, kept apart from ``model`` (which needs
torch) so that the tab and the CLI can use them without importing torch."""
from __future__ import annotations

import re

IMAGE_TOWERS = ("vit", "cnn")
TEXT_TOWERS = ("minilm", "bow")
_WORD = re.compile(r"[a-z]+")
UNK = "<unk>"


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())
