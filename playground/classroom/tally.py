"""The class's votes and a run's measured answer as Markdown, for students' panels and the
instructor's view alike. Pure text: no gradio, no database."""
from __future__ import annotations

from typing import Optional

from playground.classroom.store import Question
from playground.contract.verdict import measured_answer, without_verdict

BAR_WIDTH = 20


def bar(n: int, total: int) -> str:
    """``n`` of ``total`` votes as a bar and its share: "`████░░…` 20% (1)"."""
    share = n / total if total else 0.0
    filled = round(share * BAR_WIDTH)
    return f"`{'█' * filled}{'░' * (BAR_WIDTH - filled)}` {share:.0%} ({n})"


def bars(counts: dict, mine: Optional[str] = None, labels: Optional[dict] = None, title: str = "How your class voted") -> str:
    """Markdown bars: one line per choice, its share of the votes, the student's own marked."""
    total = sum(counts.values())
    lines = [f"**{title}** ({total} vote{'s' if total != 1 else ''}):", ""]
    for choice, n in counts.items():
        you = " ← you" if choice == mine else ""
        lines.append(f"- {bar(n, total)} {(labels or {}).get(choice, choice)}{you}")
    return "\n".join(lines)


def quoted(text: str) -> str:
    return "> " + text.replace("\n", "\n> ")


def measured_choice(q: Question, reveal: str) -> Optional[str]:
    """The choice (as the page shows it) that ``reveal`` measured, "A or B" for a tie; None when
    its answer is none of ``q``'s choices or it gives none."""
    answer = measured_answer(reveal)
    if not answer:
        return None
    shown = {text.lower(): label for choice, label in q.label_of().items() for text in (choice, label)}
    found = [shown.get(part.strip().lower()) for part in answer.split(" or ")]
    return " or ".join(found) if all(found) else None


def measured_text(q: Question, reveal: str, note: str) -> str:
    """A run's measured answer (as ``q``'s choice when it is one) and its reveal quoted, the
    student's own verdict left out; ``note`` says whose run it was."""
    choice = measured_choice(q, reveal)
    return ((f"**Measured: {choice}**\n\n" if choice else "**Measured:**\n\n")
            + f"*({note})*\n\n{quoted(without_verdict(reveal))}")
