"""A reveal's verdict on the student's own prediction ("Your prediction was right", "You
predicted X"), marked so that the Instructor tab can show the measured answer without it.

A lab's reveal words its verdict with ``judge(prediction, answer)``, the same in every
lab; anything else it says to the student about their prediction it wraps in
``verdict(...)``. The page renders the marker as an ordinary ``<span>``. ``without_verdict(reveal)`` is the measurement alone.
No gradio here: compute modules use it.
"""
from __future__ import annotations

import html
import re
from typing import Optional

_OPEN, _CLOSE = '<span class="verdict">', "</span>"
_ANSWER = re.compile(r"<!--answer:(.*?)-->", re.S)  # the measured choice judge() noted, for the Instructor tab
_MARKED = re.compile(re.escape(_OPEN) + r".*?" + re.escape(_CLOSE) + r"[ \t]*(\n\n)?", re.S)


def verdict(text: str) -> str:
    """``text`` (a reveal's words to the student about their prediction), marked as such."""
    return f"{_OPEN}{text}{_CLOSE}"


def without_verdict(reveal: str) -> str:
    """``reveal`` with every marked verdict (and the space or blank line after it) left out."""
    return _MARKED.sub("", reveal).strip()


def measured_answer(reveal: str) -> Optional[str]:
    """The answer (a choice's text) that ``judge`` in ``reveal`` was given; None without one."""
    found = _ANSWER.search(reveal)
    return html.unescape(found.group(1)) if found else None


def judge(prediction: Optional[str], answer: str, right: Optional[bool] = None, answer_shown: bool = False) -> str:
    """The verdict on a student's prediction, worded the same in every lab and marked
    with ``verdict``: right, or "not quite" with the answer this run measured, or, with
    no prediction, the answer and a nudge to predict first. ``right`` overrides the plain
    ``prediction == answer`` where more than one choice counts as right. A reveal that
    states the answer itself right after the verdict passes ``answer_shown=True``, and
    the verdict does not repeat it. Place the verdict first in its paragraph: the
    Instructor tab cuts it out (``without_verdict``) and keeps the measurement."""
    noted = f"<!--answer:{html.escape(answer)}-->"  # invisible in the page; see measured_answer
    if not prediction:
        told = "" if answer_shown else f" This run says *{quoted(answer)}*."
        return verdict(f"You did not predict this time; next time pick an answer before you run.{told}{noted}")
    if prediction == answer if right is None else right:
        return verdict(("**Your prediction was right.**" if answer_shown
                        else f"**Your prediction was right:** *{quoted(prediction)}*.") + noted)
    told = "" if answer_shown else f"; this run says *{quoted(answer)}*"
    return verdict(f"**Not quite.** You predicted *{quoted(prediction)}*{told}.{noted}")


def quoted(choice: str) -> str:
    """A choice's text as it reads inside a sentence: "It rises: ..." becomes "it rises: ...";
    a word in capitals ("CLIP", "SigLIP") or a number is left as it is."""
    first = choice.split(" ", 1)[0]
    return choice[0].lower() + choice[1:] if first[:1].isupper() and first[1:].islower() else choice
