"""The SigLIP-* lab's directional sentences, each declared once with the figures that
decide it (``playground.contract.claims``). The detail toy's reveal takes its words from
here; ``tests/test_siglip_variants.py`` checks the claim on several seeds.
"""
from __future__ import annotations

from playground.contract.claims import HIGHER, LOWER, TIE, Claims, compare

# Accuracies closer than this are a tie. The 800 held-out answers are 400 linked pairs (each picture
# with both marks), so they are not 800 independent trials: at 16 px the two answers of a pair are
# identical pictures and the accuracy is exactly 50% (standard error 0 by construction); at 32 px,
# counting only the 400 pairs as independent, a standard error is at most sqrt(0.25 / 400) = 2.5
# points, less away from 50%. 0.10 is at least 4 such standard errors: a gap that size is not noise.
DETAIL_TIE = 0.1

CLAIMS = Claims()

CLAIMS.declare(
    "detail.kept_at_higher_size",
    lambda f: compare(f["high"], f["low"], DETAIL_TIE),
    {
        HIGHER: "At {high_side} px the model read the mark: {high:.0%} of held-out pictures right, against {low:.0%} "
                "at {low_side} px, where the picture is shrunk by averaging blocks (a box filter) and the two versions "
                "of each test picture come out identical, so every model, trained or not, scores exactly "
                "{low_ceiling:.0%} there. The mark sits inside one patch at both sizes "
                "({low_tokens} and {high_tokens} tokens): what decided is the resize, not the patch count. The same "
                "steps took {high_seconds:.1f} s against {low_seconds:.1f} s.",
        TIE: "In this run the two sizes came out alike: {high:.0%} at {high_side} px ({high_tokens} tokens), {low:.0%} "
             "at {low_side} px ({low_tokens} tokens); the model did not learn to read the mark at either size.",
        LOWER: "In this run the smaller input did better: {low:.0%} at {low_side} px against {high:.0%} at "
               "{high_side} px; the model did not learn the mark at the larger input in these steps.",
    },
)


def detail_figures(runs) -> dict:
    """Figures of ``detail.kept_at_higher_size`` from the detail toy's ``SizeRun`` list
    (the smallest and the largest input size)."""
    low, high = min(runs, key=lambda r: r.side), max(runs, key=lambda r: r.side)
    return {"low": low.accuracy, "high": high.accuracy, "low_side": low.side, "high_side": high.side,
            "low_tokens": low.tokens, "high_tokens": high.tokens, "low_ceiling": low.ceiling,
            "low_seconds": low.train_seconds, "high_seconds": high.train_seconds}
