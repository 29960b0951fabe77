"""The CLIP zero-shot lab's own part: its prediction question and the reveal.

The scoring itself (labels, prompts, templates, ``classify``, the ViT's view) lives
in the shell, ``playground.science.zero_shot``, shared with the SigLIP tab.
"""
from __future__ import annotations

from typing import Optional

from playground.contract.verdict import judge
from playground.science.zero_shot import ZeroShotResult

# -- prediction, revealed ---------------------------------------------------------
PREDICT_QUESTION = (
    "Before you run: type labels that do NOT describe the photo at all. With a softmax over your labels, "
    "what will the top label's probability be?"
)
PREDICT_CHOICES = (
    "Near 0 for every label: none of them fits",
    "Still far above 0: the probabilities must share out 100% among my labels",
    "Exactly 1/N for each of the N labels",
)


def reveal(result: ZeroShotResult, guess: Optional[str]) -> str:
    """What the run showed, against the student's prediction."""
    top_label, top_p = result.ranked(0)[0]
    total = float(result.probabilities[0].sum())
    n = len(result.labels)
    if result.scoring == "softmax":
        facts = (
            f"The {n} scores sum to **{total:.3f}**: a softmax always shares out 100% among the labels you "
            f"typed, so the top label (**{top_label}**, {top_p:.1%}) gets at least 1/{n} = {1 / n:.1%} whether or "
            "not any label fits the photo (it is the largest of numbers that sum to 1), and often far more: a "
            "softmax turns small differences in similarity into large differences in share. The probabilities say "
            "which label fits *best*, never whether any fits. The SigLIP tab shows the alternative."
        )
        answer = PREDICT_CHOICES[1]
    else:
        facts = (
            f"This model scores with a sigmoid: each label gets its own yes/no probability, and the {n} "
            f"scores sum to **{total:.3f}**, not 1. The top label is **{top_label}** at {top_p:.1%}; with "
            "labels that do not fit, every score can be near 0."
        )
        answer = PREDICT_CHOICES[0]
    return judge(guess, answer) + f" {facts}"
