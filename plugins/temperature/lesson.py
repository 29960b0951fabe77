"""The temperature lab's reveal, computed from the run: which τ spread the texts
most evenly, and why, in the terms of this run's positives and its own losses.
No gradio here.

Sources: Wang & Isola 2020 (alignment and uniformity); Wang & Liu 2021
("Understanding the behaviour of contrastive loss": τ sets how hard the nearest
negatives are pushed, the uniformity–tolerance trade-off).
"""
from __future__ import annotations

import math
from typing import Optional

from playground.contract.verdict import judge, verdict

from .compute import DEFAULT_BATCH, SweepResult

PREDICT_CHOICES = ["the smallest τ", "a middle τ", "the largest τ"]
PREDICT_QUESTION = "Predict first: which τ will spread the texts most evenly (lowest uniformity)?"
SOURCES = "Wang & Isola 2020; Wang & Liu 2021"
SOLVED_SHARE = 0.1  # a final loss under this share of chance: the batch is solved
STUCK_SHARE = 0.5  # over this share of chance: the positives never win outright
COLLAPSED = -0.5  # uniformity above this: the points sit nearly on top of each other
# Uniformities this close to the lowest count as a tie: a gap of 0.02 between two heads is
# not an answer (the default run's heads differ by 0.2 and more).
UNIFORMITY_TIE = 0.05


def chance_loss(n_texts: int, batch_size: int = DEFAULT_BATCH) -> float:
    """NT-Xent's loss when every view is equally likely: log(2N − 1) for a batch of N pairs."""
    n = min(batch_size, n_texts)
    return math.log(2 * n - 1)


def most_uniform(result: SweepResult) -> int:
    """Index of the τ with the lowest uniformity."""
    return min(range(len(result.taus)), key=lambda k: result.taus[k].uniformity)


def where(result: SweepResult, k: int) -> int:
    """0, 1 or 2: whether τ number ``k`` is the smallest, a middle or the largest one."""
    return 0 if k == 0 else 2 if k == len(result.taus) - 1 else 1


def smallest_tau_story(result: SweepResult, chance: float) -> str:
    """What happened at the smallest τ, from its loss and uniformity and the kind of positives."""
    t = result.taus[0]
    if t.loss < SOLVED_SHARE * chance:
        return (
            f"At τ = {t.tau:g} the training loss fell to **{t.loss:.3f}** (chance: {chance:.2f}): each view already "
            "picks out its own partner, so the batch is solved, the gradient vanishes, and the points stop spreading "
            f"(uniformity {t.uniformity:.2f})."
        )
    if t.loss > STUCK_SHARE * chance:
        why = (
            "other texts with the same label sit in every batch as negatives, indistinguishable from the positive, "
            "so the positive can never win outright"
            if result.positives == "label" else "the positives never win outright"
        )
        shape = ("the points end nearly on top of each other (collapse)" if t.uniformity > COLLAPSED
                 else "the points spread little")
        return (
            f"At τ = {t.tau:g} the training loss stayed at **{t.loss:.2f}** (chance: {chance:.2f}): {why}, and at so "
            f"small a τ only the few nearest texts get any gradient; {shape}, uniformity {t.uniformity:.2f}."
        )
    return (f"At τ = {t.tau:g} the loss ended at {t.loss:.2f} (chance: {chance:.2f}) with uniformity "
            f"{t.uniformity:.2f}.")


def reveal(result: SweepResult, prediction: Optional[str]) -> str:
    """Markdown: the most uniform τ of this run, and the reasons its own figures give."""
    best = most_uniform(result)
    t = result.taus[best]
    tied = [k for k, x in enumerate(result.taus) if x.uniformity <= t.uniformity + UNIFORMITY_TIE]
    answers = [PREDICT_CHOICES[p] for p in sorted({where(result, k) for k in tied})]
    answer = " or ".join(answers)
    if len(result.taus) < 2:
        head = verdict("With one τ there is nothing to compare: give two or more to answer the question.") + " "
    else:
        head = judge(prediction, answer, right=prediction in answers, answer_shown=True) + " "
    if len(tied) > 1:
        answer += f"; uniformities within {UNIFORMITY_TIE:g} of the lowest count as a tie"
    rows = ", ".join(f"τ = {x.tau:g}: {x.uniformity:.2f}" for x in result.taus)
    chance = chance_loss(len(result.texts))
    lines = [
        f"#### Reveal\n{head}The most uniform head was trained at **τ = {t.tau:g}** ({answer}), uniformity "
        f"{t.uniformity:.2f} (frozen embeddings: {result.frozen['uniformity']:.2f}). All of them: {rows}."
    ]
    if len(result.taus) > 1:
        lines.append(smallest_tau_story(result, chance))
        last = result.taus[-1]
        if best != len(result.taus) - 1:
            lines.append(
                f"At τ = {last.tau:g} the softmax is flat: every negative is pushed a little and close neighbours are "
                f"tolerated, so the points spread less than at τ = {t.tau:g} (uniformity {last.uniformity:.2f}"
                + (", collapsed)." if last.uniformity > COLLAPSED else ", not collapsed).")
            )
        positives = ("two dropout views of one text: nothing says which texts belong together, so spreading "
                     "every text from every other is all the loss asks"
                     if result.positives == "dropout" else
                     "two texts with one label: the loss pulls each label together while it pushes the "
                     "labels' texts apart as negatives")
        lines.append(f"Positives in this run: {positives}. The loss values are not comparable across τ. "
                     f"Temperature sets how hard the nearest negatives are pushed ({SOURCES}).")
    return "\n\n".join(lines)
