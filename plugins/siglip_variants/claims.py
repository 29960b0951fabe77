"""The SigLIP-* lab's directional sentences, each declared once with the figures that
decide it (``playground.contract.claims``). The detail toy's reveal takes its words from
here; ``tests/test_siglip_variants.py`` checks the claim on several seeds.
"""
from __future__ import annotations

from playground.contract.claims import HIGHER, LOWER, TIE, Claims, compare

# Accuracies closer than this are a tie: 800 held-out answers (400 pictures, each with both marks)
# give a standard error under 2 points.
DETAIL_TIE = 0.1

CLAIMS = Claims()

CLAIMS.declare(
    "detail.kept_at_higher_size",
    lambda f: compare(f["high"], f["low"], DETAIL_TIE),
    {
        HIGHER: "At {high_side} px ({high_tokens} tokens) the model read the mark: {high:.0%} of held-out pictures "
                "right, against {low:.0%} at {low_side} px ({low_tokens} tokens), where the mark's two pixels blend "
                "into one and no model can score above {low_ceiling:.0%}. The same steps took {high_seconds:.1f} s "
                "against {low_seconds:.1f} s.",
        TIE: "In this run the two sizes came out alike: {high:.0%} at {high_side} px ({high_tokens} tokens), {low:.0%} "
             "at {low_side} px ({low_tokens} tokens); the model did not learn to read the mark at either size.",
        LOWER: "In this run the smaller input did better: {low:.0%} at {low_side} px against {high:.0%} at "
               "{high_side} px; the larger model did not learn the mark in these steps.",
    },
)


def detail_figures(runs) -> dict:
    """Figures of ``detail.kept_at_higher_size`` from the detail toy's ``SizeRun`` list
    (the smallest and the largest input size)."""
    low, high = min(runs, key=lambda r: r.side), max(runs, key=lambda r: r.side)
    return {"low": low.accuracy, "high": high.accuracy, "low_side": low.side, "high_side": high.side,
            "low_tokens": low.tokens, "high_tokens": high.tokens, "low_ceiling": low.ceiling,
            "low_seconds": low.train_seconds, "high_seconds": high.train_seconds}
