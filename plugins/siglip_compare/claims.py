"""The SigLIP vs CLIP tab's directional sentences, each declared once with the figures
that decide it (``playground.contract.claims``); ``reveal_losses`` takes its words
from here. Checked on several models and photo sets in ``tests/test_siglip_compare.py``.
"""
from __future__ import annotations

import math

from playground.contract.claims import HIGHER, LOWER, TIE, Claims, compare

# A loss within this share of chance counts as "at chance": neither better nor worse.
CHANCE_BAND = 0.05

CLAIMS = Claims()

CLAIMS.declare(
    "loss.against_chance",
    lambda f: compare(f["loss"], f["chance"], CHANCE_BAND * f["chance"]),
    {
        HIGHER: "**{model}** is **worse than chance here**: at N={n} its {loss_name} is {loss:.3f}, {ratio:.1f}× the "
                "{chance:.3f} ({chance_name}) of a model that cannot tell the pairs apart; on these photos it puts "
                "more weight on wrong captions than such a model would",
        TIE: "**{model}** is at about chance here: at N={n} its {loss_name} is {loss:.3f} against {chance:.3f} "
             "({chance_name}), within 5%",
        LOWER: "**{model}** beats chance here: at N={n} its {loss_name} is {loss:.3f} against {chance:.3f} "
               "({chance_name})",
    },
)


def chance_figures(losses) -> dict:
    """Figures of ``loss.against_chance`` for one model's ``BatchLosses`` at its largest batch.
    Chance: log N for the softmax (every caption equally likely), log 2 per pair for the
    sigmoid (a coin flip on each of the N pairs an image is scored against: N·log 2)."""
    n, loss = losses.sizes[-1], losses.loss[-1]
    if losses.scoring == "sigmoid":
        chance, name = n * math.log(2), f"log 2 per pair, {n} pairs per image"
    else:
        chance, name = math.log(n), f"log {n}"
    return {"model": losses.model_id, "loss_name": losses.loss_name, "n": n, "loss": loss, "chance": chance,
            "chance_name": name, "ratio": loss / chance}
