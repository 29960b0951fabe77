"""What a student's vote panel says while an instructor leads a question through its
phases (``store.PHASES``): while voting, only that their vote counted; once the instructor
shows the votes, the spread; in a re-vote, that a new round started; at the reveal, every
round's spread beside the measured answer of the class's run. Until the reveal a run's own
answer is held back too (``HELD``). Pure text: no gradio."""
from __future__ import annotations

from typing import Optional

from playground.classroom.store import REVEAL, REVOTE, SHOW, VOTING, Question, VoteStore
from playground.classroom.tally import bars, measured_text

HEADS = {
    VOTING: ("**Voting.** Pick your prediction and run. The class's votes stay hidden until your "
             "instructor shows them, and what your run measured until the reveal, so vote on your own."),
    REVOTE: ("🔔 **Round {round}: vote again.** Your instructor started a new round after the discussion: "
             "pick your prediction (the same or another) and run."),
    SHOW: ("**The class's votes**, for discussion. Voting is closed until your instructor starts a new round; "
           "the answer comes at the reveal."),
    REVEAL: ("**The answer.** Every round's votes, beside what your class's run measured. If your own run was "
             "held back, **{release}** (below) shows it now."),
}
# The phases in which a run's answer is held back from the student who ran it (``ui.RunWatch``)
HELD_PHASES = (VOTING, SHOW, REVOTE)
RELEASE = "Show my run's result"  # the button that shows a held-back run at the reveal
HELD = ("🔒 **Your run finished.** What it measured is held back while your instructor leads this question, "
        f"so that the class votes and discusses before anyone sees the answer. At the reveal, **{RELEASE}** "
        "(below) shows it.")
CLOSED = ("⚠ *Voting on this question is closed while your class discusses: this vote was not counted. "
          "Your result above is unaffected.*")
NO_RUN = "*No run in this class measured it yet: run the lab to see the answer.*"


def led_panel(store: VoteStore, q: Question, code: str, student: str, phase: str, round_: int,
              measured: str) -> str:
    """The panel of ``student`` (a stored id, "" for none) for question ``q`` of class ``code``
    in ``phase`` of round ``round_``; ``measured`` is the run's reveal kept for the reveal."""
    labels = q.label_of()
    head = HEADS[phase].format(round=round_, release=RELEASE)
    mine: Optional[str] = store.choice_of(q.lab, q.question, student, code) if student else None
    if phase in (VOTING, REVOTE):
        if mine is None:
            return f"{head}\n\n*You have not voted in round {round_} yet.*"
        return (f"{head}\n\n✓ **Your vote counted** (round {round_}): {labels.get(mine, mine)}. "
                "You can change it while voting is open: pick another and run again.")
    if phase == SHOW:
        counts = store.distribution(q.lab, q.question, code)
        return f"{head}\n\n{bars(counts, mine, labels, f'How class {code} voted, round {round_}')}"
    rounds = [bars(store.distribution(q.lab, q.question, code, round_=r), None, labels, f"Round {r}")
              for r in range(1, round_ + 1)]
    answer = measured_text(q, measured, "your class's run when the instructor revealed it") if measured else NO_RUN
    return "\n\n".join([head, *rounds, answer])
