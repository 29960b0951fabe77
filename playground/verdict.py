"""A reveal's verdict on the student's own prediction ("Your prediction was right", "You
predicted X"), marked so that the Instructor tab can show the measured answer without it.

A lab's reveal wraps its verdict sentence(s) in ``verdict(...)``; the page renders the
marker as an ordinary ``<span>``. ``without_verdict(reveal)`` is the measurement alone.
No gradio here: compute modules use it.
"""
from __future__ import annotations

import re

_OPEN, _CLOSE = '<span class="verdict">', "</span>"
_MARKED = re.compile(re.escape(_OPEN) + r".*?" + re.escape(_CLOSE) + r"[ \t]*(\n\n)?", re.S)


def verdict(text: str) -> str:
    """``text`` (a reveal's words to the student about their prediction), marked as such."""
    return f"{_OPEN}{text}{_CLOSE}"


def without_verdict(reveal: str) -> str:
    """``reveal`` with every marked verdict (and the space or blank line after it) left out."""
    return _MARKED.sub("", reveal).strip()
