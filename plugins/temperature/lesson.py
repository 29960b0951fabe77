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

from .claims import (
    CLAIMS, UNIFORMITY_TIE, false_negative_floor, largest_figures, least_uniform_figures, shape_figures,
)
from .compute import DEFAULT_BATCH, SweepResult

PREDICT_CHOICES = ["the smallest τ", "a middle τ", "the largest τ"]
PREDICT_QUESTION = "Predict first: which τ will spread the texts most evenly (lowest uniformity)?"
SOURCES = "Wang & Isola 2020; Wang & Liu 2021"
SOLVED_SHARE = 0.1  # a final loss under this share of chance: the batch is solved
STUCK_SHARE = 0.5  # over this share of chance: the positives never win outright


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
        shape = CLAIMS["smallest_tau.shape"].words(shape_figures(t))
        if result.positives != "label":
            return (f"At τ = {t.tau:g} the training loss stayed at **{t.loss:.2f}** (chance: {chance:.2f}): the "
                    f"positives never win outright; {shape}.")
        return f"At τ = {t.tau:g} the training loss stayed at **{t.loss:.2f}** (chance: {chance:.2f}). " + \
            label_floor_story(result) + f" At τ = {t.tau:g}, {shape}."
    return (f"At τ = {t.tau:g} the loss ended at {t.loss:.2f} (chance: {chance:.2f}) with uniformity "
            f"{t.uniformity:.2f}.")


def label_floor_story(result: SweepResult) -> str:
    """Why same-label positives keep the loss high (the false-negative floor, shared by
    every small τ), and why only the smallest τ crowds (its logit gap)."""
    k, floor = false_negative_floor(result.labels)
    t = result.taus[0]
    small = result.taus[:3]
    losses = ", ".join(f"τ = {x.tau:g}: {x.loss:.2f}" for x in small)
    gap = t.intra - t.inter
    return (
        f"Each batch holds about {k:.0f} views with the query's label besides itself (its positive and false "
        f"negatives the loss cannot tell from it), so the loss cannot fall much below log {k:.0f} = {floor:.2f} at "
        f"any τ ({losses}). That floor explains the loss, not the shape. What only a small τ does: it divides the "
        f"cosine gap between same-label and other-label texts ({t.intra:.3f} against {t.inter:.3f}, a gap of "
        f"{gap:.2f}) by τ, and at τ = {t.tau:g} that is already a logit gap of {gap / t.tau:.0f}, enough for the "
        "softmax to rank the other labels far below, so nothing pushes the texts further apart."
    )


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
        lines.append(CLAIMS["smallest_tau.least_uniform"].words(least_uniform_figures(result)))
        last = result.taus[-1]
        if best != len(result.taus) - 1:
            against = CLAIMS["largest_tau.against_best"].words(largest_figures(result, t))
            lines.append(
                f"At τ = {last.tau:g} the softmax is flat: every negative is pushed a little and close neighbours are "
                f"tolerated, {against}."
            )
        positives = ("two dropout views of one text: nothing says which texts belong together, so spreading "
                     "every text from every other is all the loss asks"
                     if result.positives == "dropout" else
                     "two texts with one label: the loss pulls each label together while it pushes the "
                     "labels' texts apart as negatives")
        lines.append(f"Positives in this run: {positives}. The loss values are not comparable across τ. "
                     f"Temperature sets how hard the nearest negatives are pushed ({SOURCES}).")
    return "\n\n".join(lines)
