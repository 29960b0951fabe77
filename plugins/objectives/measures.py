"""The geometry of one encoder's vectors on labelled texts, in the shell's terms
(``playground.science.geometry``): mean cosine, intra/inter similarities and the
separation AUC, alignment and uniformity (Wang & Isola 2020), the linear probe, a 2-D
PCA view. Pure numpy; the labels are used here only, never in training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from playground.science import geometry

# The figures every arm reports, and what each means (the JSON's "meaning", the tab's table).
FIGURES = {
    "mean_cosine": "mean cosine over all pairs of texts (0: isotropic; 1: one direction)",
    "intra_mean": "mean cosine of two texts with the same label",
    "inter_mean": "mean cosine of two texts with different labels",
    "separation_auc": "chance that a same-label pair is more similar than a different-label pair (0.5: none)",
    "alignment": "mean squared distance of same-label pairs, unit vectors (lower: closer)",
    "uniformity": "log mean exp(-2 x squared distance) over all pairs (lower: more spread)",
    "probe_accuracy": "logistic regression on 20% of the vectors, accuracy on the rest",
}


@dataclass
class Geometry:
    """One encoder's figures on one labelled set, with the arrays its plots need."""

    figures: dict[str, float]
    intra: np.ndarray = field(repr=False)
    inter: np.ndarray = field(repr=False)
    projection: np.ndarray = field(repr=False)  # (n, 2) PCA of the unit vectors

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.figures.items()}


def measure(vectors: np.ndarray, labels: Sequence, seed: int = 0) -> Geometry:
    """Every figure of ``FIGURES`` for ``vectors`` (rows aligned with ``labels``)."""
    labels = np.asarray(labels)
    intra, inter = geometry.intra_inter_similarities(geometry.cosine_matrix(vectors), labels)
    if len(intra) == 0 or len(inter) == 0:
        raise ValueError("The texts need at least two labels, and at least two texts under some label.")
    i, j = geometry.positive_pairs(labels, seed=seed)
    figures = {
        "mean_cosine": geometry.mean_cosine(vectors),
        "intra_mean": float(intra.mean()),
        "inter_mean": float(inter.mean()),
        "separation_auc": geometry.separation_auc(intra, inter),
        "alignment": geometry.alignment(vectors[i], vectors[j]),
        "uniformity": geometry.uniformity(vectors),
        "probe_accuracy": geometry.linear_probe(vectors, labels, seed=seed).accuracy,
    }
    return Geometry(figures, intra.astype(np.float32), inter.astype(np.float32),
                    geometry.project_2d(vectors, "pca", seed=seed))
