"""A reveal's verdict on the student's own prediction ("Your prediction was right", "You
predicted X"), marked so that the Instructor tab can show the measured answer without it.

A lab's reveal words its verdict with ``judge(prediction, answer)``, the same in every
lab; anything else it says to the student about their prediction it wraps in
``verdict(...)``. The page renders the marker as an ordinary ``<span>``. ``without_verdict(reveal)`` is the measurement alone.
No gradio here: compute modules use it.
"""
from __future__ import annotations

import re
from typing import Optional

_OPEN, _CLOSE = '<span class="verdict">', "</span>"
_MARKED = re.compile(re.escape(_OPEN) + r".*?" + re.escape(_CLOSE) + r"[ \t]*(\n\n)?", re.S)


def verdict(text: str) -> str:
    """``text`` (a reveal's words to the student about their prediction), marked as such."""
    return f"{_OPEN}{text}{_CLOSE}"


def without_verdict(reveal: str) -> str:
    """``reveal`` with every marked verdict (and the space or blank line after it) left out."""
    return _MARKED.sub("", reveal).strip()


def judge(prediction: Optional[str], answer: str, right: Optional[bool] = None) -> str:
    """The verdict on a student's prediction, worded the same in every lab and marked
    with ``verdict``: a nudge when there is no prediction, else right or "not quite"
    against ``answer`` (the choice this run measured). ``right`` overrides the plain
    comparison where more than one choice counts as right."""
    if not prediction:
        return verdict("*You did not predict this time; next time pick an answer before you run.*")
    if prediction == answer if right is None else right:
        return verdict(f"**Your prediction was right:** *{prediction}*.")
    return verdict(f"**Not quite.** You predicted *{prediction}*; this run says *{answer}*.")
