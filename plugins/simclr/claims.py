"""The SimCLR lab's directional sentences, each declared once with the figures that
decide it (``playground.contract.claims``). The reveals take their words from here,
so a run that comes out the other way says so; ``tests/test_simclr_claims.py`` checks
every claim on the default run and on other seeds.

Source held against: Chen et al. 2020 (SimCLR), whose ImageNet ablation found random
crop and colour distortion together the strongest pair of augmentations.
"""
from __future__ import annotations

from playground.contract.claims import HIGHER, LOWER, TIE, Claims, compare

from .compute import ExperimentResult, SimCLRResult

# Two probe accuracies (or neighbour agreements) this close are a tie: a few held-out images,
# and a new seed moves a run by a few points.
EQUAL_WITHIN = 0.03
CROP_ATTRIBUTES = ("position", "size", "shape")
PAPER = "Chen et al. 2020"

CLAIMS = Claims()

for _attribute in CROP_ATTRIBUTES:
    _words = {
        LOWER: "**{attribute} fell**, {without:.1%} → {with_:.1%}",
        TIE: "{attribute} stayed ({without:.1%} → {with_:.1%}: within 3 points, a tie)",
        HIGHER: "{attribute} rose, {without:.1%} → {with_:.1%}",
    }
    if _attribute == "shape":  # the one the SimCLR paper measured crop against
        _words[LOWER] += (f": crop **cost** shape accuracy here, the opposite of the SimCLR paper's finding on "
                          f"ImageNet, where crop with colour distortion was the strongest pair ({PAPER})")
    CLAIMS.declare(f"crop.{_attribute}", lambda f: compare(f["with_"], f["without"], EQUAL_WITHIN), _words, PAPER)

CLAIMS.declare(
    "neighbours.winner",
    lambda f: compare(f["trained"], f["pixels"], EQUAL_WITHIN),
    {
        HIGHER: "the trained encoder's neighbours share it more often than the raw pixels' ({trained:.0%} vs {pixels:.0%})",
        TIE: "the trained encoder's and the raw pixels' neighbours share it about equally often "
             "({trained:.0%} vs {pixels:.0%}, within 3 points)",
        LOWER: "the **raw pixels'** neighbours share it more often than the trained encoder's ({pixels:.0%} vs "
               "{trained:.0%}): by this measure training has not beaten the pixels",
    },
)


def crop_figures(experiment: ExperimentResult, attribute: str) -> dict:
    """Figures of one ``crop.<attribute>`` claim: the held-out probe with and without crop."""
    return {"attribute": attribute, "with_": experiment.run("all").probes[attribute],
            "without": experiment.run("without crop").probes[attribute]}


def crop_sentences(experiment: ExperimentResult) -> tuple[list[str], list[str]]:
    """(the sentence per cropped attribute, the attributes whose probe fell) for this run."""
    sentences, fell = [], []
    for attribute in CROP_ATTRIBUTES:
        figures = crop_figures(experiment, attribute)
        claim = CLAIMS[f"crop.{attribute}"]
        sentences.append(claim.words(figures))
        if claim.decide(figures) == LOWER:
            fell.append(attribute)
    return sentences, fell


def neighbour_figures(result: SimCLRResult) -> dict:
    """Figures of the ``neighbours.winner`` claim: agreement of the trained features and the pixels."""
    agree = result.neighbour_agreement
    return {"trained": agree["trained"], "pixels": agree["pixels"]}
