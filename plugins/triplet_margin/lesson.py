"""The margin sweep's question and its reveal, computed from the sweep (no gradio: the tab
and the notebook both use them)."""
from __future__ import annotations

from typing import Optional

from playground.contract.verdict import judge

from . import compute

PREDICT_CHOICES = ["it falls", "it can rise or fall", "it never falls", "it stays the same"]
PREDICT_QUESTION = "Predict first: as the margin α grows from 0 to 1, the fraction of active triplets…"


def sweep_reveal(result: compute.SweepResult, prediction: Optional[str]) -> str:
    parts = []
    for model_id, s in result.models.items():
        first, last = s.sweep[0], s.sweep[-1]
        falls = any(b["fraction_active"] < a["fraction_active"] for a, b in zip(s.sweep, s.sweep[1:]))
        parts.append(
            f"**{model_id}**: {first['fraction_active']:.0%} active at α = {first['margin']:g}, "
            f"{last['fraction_active']:.0%} at α = {last['margin']:g}" + (" (it fell somewhere!)" if falls else "")
        )
    verdict = judge(prediction, "it never falls", answer_shown=True) + " "
    return (
        f"#### Reveal\n{verdict}It never falls. Raising α only adds to the left side of `d(a,p) + α > d(a,n)`, so a "
        "triplet that is active at some α stays active at every larger α; the distances themselves do not move.\n\n"
        + "; ".join(parts) + "."
    )
