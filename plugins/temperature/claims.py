"""The temperature lab's directional sentences, each declared once with the figures
that decide it (``playground.contract.claims``); the reveal takes its words from here.
``tests/test_temperature_claims.py`` checks every claim on the default runs and on
other seeds, grids and models.

Ties: uniformities closer than ``UNIFORMITY_TIE`` are a tie, never a direction.
"""
from __future__ import annotations

import math

from playground.contract.claims import HIGHER, LOWER, TIE, Claims, compare

from .compute import DEFAULT_BATCH, SweepResult, TauResult

# Uniformities this close count as a tie: a gap of 0.02 between two heads is not an answer
# (the default run's heads differ by 0.2 and more).
UNIFORMITY_TIE = 0.05
COLLAPSED = -0.5  # uniformity above this: the points crowd together
LABELS_INTACT = 0.9  # separation AUC above this: same-label texts still sit closer than other labels

CLAIMS = Claims()

CLAIMS.declare(
    "smallest_tau.least_uniform",
    lambda f: compare(f["smallest_u"], f["others_max_u"], UNIFORMITY_TIE),
    {
        HIGHER: "The smallest τ ({smallest_tau:g}) was the least uniform head of this run ({smallest_u:.2f}).",
        TIE: "The smallest τ ({smallest_tau:g}, {smallest_u:.2f}) tied for least uniform with τ = {others_worst_tau:g} "
             "({others_max_u:.2f}; within 0.05).",
        LOWER: "The smallest τ ({smallest_tau:g}, {smallest_u:.2f}) was not the least uniform head of this run: "
               "τ = {others_worst_tau:g} was ({others_max_u:.2f}).",
    },
)


def _shape(f) -> str:
    if f["uniformity"] <= COLLAPSED:
        return "spread"
    return "cone" if f["separation_auc"] > LABELS_INTACT else "collapsed"


CLAIMS.declare(
    "smallest_tau.shape",
    _shape,
    {
        "spread": "the points spread little (uniformity {uniformity:.2f}, separation AUC {separation_auc:.3f})",
        "cone": "the points crowd into a **narrow cone with the labels intact**, not a collapse: uniformity "
                "{uniformity:.2f}, same-label cosine {intra:.3f} against {inter:.3f} between labels, separation AUC "
                "{separation_auc:.3f}",
        "collapsed": "the points end nearly on top of each other and the labels no longer separate, a collapse: "
                     "uniformity {uniformity:.2f}, separation AUC {separation_auc:.3f}",
    },
)

CLAIMS.declare(
    "largest_tau.against_best",
    lambda f: compare(f["largest_u"], f["best_u"], UNIFORMITY_TIE),
    {
        HIGHER: "so the points spread less than at τ = {best_tau:g} (uniformity {largest_u:.2f} against {best_u:.2f})",
        TIE: "and here it spread about as evenly as τ = {best_tau:g} (uniformity {largest_u:.2f} against "
             "{best_u:.2f}: within 0.05, a tie)",
    },
)


def least_uniform_figures(result: SweepResult) -> dict:
    """Figures of ``smallest_tau.least_uniform``: the smallest τ's uniformity and the
    highest (least uniform) of the others."""
    first, others = result.taus[0], result.taus[1:]
    worst = max(others, key=lambda t: t.uniformity)
    return {"smallest_tau": first.tau, "smallest_u": first.uniformity, "others_worst_tau": worst.tau,
            "others_max_u": worst.uniformity}


def shape_figures(t: TauResult) -> dict:
    """Figures of ``smallest_tau.shape`` for one head."""
    return {"uniformity": t.uniformity, "separation_auc": t.separation_auc, "intra": t.intra, "inter": t.inter}


def largest_figures(result: SweepResult, best: TauResult) -> dict:
    """Figures of ``largest_tau.against_best``."""
    return {"largest_u": result.taus[-1].uniformity, "best_u": best.uniformity, "best_tau": best.tau}


def false_negative_floor(labels, batch_size: int = DEFAULT_BATCH) -> tuple[float, float]:
    """(k, log k): with same-label positives, each view's batch holds about k views of its
    own label besides itself (its positive and the false negatives, 2N/L − 1 for N pairs
    and L equally common labels); the loss cannot tell them apart, so it cannot fall much
    below log k at any τ."""
    n_labels = len(set(labels))
    n = min(batch_size, len(labels))
    k = max(1.0, 2 * n / n_labels - 1)
    return k, math.log(k)
