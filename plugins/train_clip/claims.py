"""The train_clip lab's directional sentences, each declared once with the figures that
decide it (``playground.contract.claims``). Checked on several seeds in
``tests/test_train_clip.py``.
"""
from __future__ import annotations

from playground.contract.claims import HIGHER, TIE, Claims, compare

# The SigLIP bias counts as moved when it ends this far from where it started.
BIAS_MOVED = 0.1

CLAIMS = Claims()

CLAIMS.declare(
    "bias.moved",
    lambda f: compare(abs(f["end"] - f["start"]), 0.0, BIAS_MOVED),
    {
        TIE: "learned bias **{end:.3f}**: it barely moved from its start, {start:g} (by {delta:+.3f}), so in this "
             "run the bar a pair must clear stayed where the SigLIP paper's initialisation put it",
        HIGHER: "learned bias **{end:.2f}**, moved from its start, {start:g}, by {delta:+.2f}",
    },
)


def bias_figures(result) -> dict:
    """Figures of ``bias.moved`` for a sigmoid run's ``TrainResult``."""
    start, end = result.settings.bias_init, result.logit_bias
    return {"start": start, "end": end, "delta": end - start}
