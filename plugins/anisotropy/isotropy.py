"""Post-hoc isotropy, the lab's second question: is anisotropy just a shift?

Centering subtracts the corpus mean vector (the direction every vector of a cone
shares); PCA whitening also rescales every principal direction to unit variance
(the BERT-whitening line of work). Each is fitted on the texts of the run, then
the rows are L2-normalised again and every figure is measured anew.

    >>> from plugins.anisotropy.isotropy import postprocess_figures
    >>> postprocess_figures(result, ["center", "whiten"])["center"]["glove"]["separation_auc"]

No gradio here.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from playground.science import geometry
from playground.contract.verdict import judge

from .compute import AnisotropyResult, model_geometry
from .noise import EQUAL_WITHIN, compare

POSTPROCESS = {
    "none": "the raw vectors",
    "center": "centred: the corpus mean vector subtracted, then rows re-normalised",
    "whiten": "PCA-whitened: centred, rotated onto the principal axes and each axis scaled to unit variance, "
              "then rows re-normalised",
}
SOURCES = (
    "Mu & Viswanath 2018 (all-but-the-top: remove the mean and top directions); "
    "Li et al. 2020 (BERT-flow); Su et al. 2021 (BERT-whitening)"
)
# Eigenvalues below this share of the largest are dropped by whitening: with fewer texts
# than dimensions the covariance has a null space that no rescaling can make unit.
RANK_TOLERANCE = 1e-8


def center(x: np.ndarray) -> np.ndarray:
    """``x`` less its column mean (the mean vector of the corpus)."""
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean(axis=0)


def whiten(x: np.ndarray) -> np.ndarray:
    """PCA whitening fitted on ``x``: centred rows projected on the principal axes and
    divided by each axis's standard deviation, so the covariance (``Xᵀ X / n``) of the
    result is the identity. Axes with (numerically) zero variance are dropped, so the
    output has rank(X − mean) columns."""
    z = center(x)
    if len(z) < 2:
        raise ValueError("Whitening needs at least two vectors.")
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    variance = s**2 / len(z)
    keep = variance > RANK_TOLERANCE * variance.max() if variance.max() > 0 else np.zeros_like(variance, bool)
    if not keep.any():
        raise ValueError("Whitening needs vectors that are not all the same.")
    return z @ vt[keep].T / np.sqrt(variance[keep])


def postprocess(x: np.ndarray, how: str) -> np.ndarray:
    """``x`` after ``how`` (``none``, ``center`` or ``whiten``), rows L2-normalised."""
    if how not in POSTPROCESS:
        raise ValueError(f"Post-processing {how!r} is not one of: {', '.join(POSTPROCESS)}.")
    out = x if how == "none" else center(x) if how == "center" else whiten(x)
    return geometry.l2_normalise(np.asarray(out, dtype=np.float64)).astype(np.float32)


def parse_postprocess(value: Sequence[str] | str | None) -> list[str]:
    """``"center,whiten"`` or a list -> distinct known names in the given order."""
    names = value.split(",") if isinstance(value, str) else list(value or [])
    names = list(dict.fromkeys(n.strip().lower() for n in names if n and n.strip()))
    unknown = [n for n in names if n not in POSTPROCESS]
    if unknown:
        raise ValueError(f"Unknown post-processing {', '.join(unknown)}; choose from {', '.join(POSTPROCESS)} "
                         "(comma-separated for several).")
    return names


def postprocess_figures(result: AnisotropyResult, methods: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    """``{method: {model_id: figures}}``: every figure re-measured on the run's vectors
    after each method (``none`` gives the raw figures of ``result``). The probe uses
    the run's split, seed, noise mode, scale and σ (no sweep)."""
    labels = result.frame["label"].to_numpy()
    out = {}
    for method in parse_postprocess(methods):
        if method == "none":
            out[method] = result.figures()
            continue
        out[method] = {
            model_id: model_geometry(
                model_id, postprocess(report.embeddings, method), labels, result.sigma, result.noise,
                (0.0, result.sigma), result.seed, result.noise_scale, result.common_dim(),
            ).figures
            for model_id, report in result.reports.items()
        }
    return out


# -- the second prediction, revealed ---------------------------------------------------

PREDICT_QUESTION = (
    "Second question: subtract the corpus mean from Model A's vectors (or whiten them). "
    "How will its separation AUC compare with Model B's raw AUC?"
)
PREDICT_CHOICES = {
    "below": "Still clearly below Model B: the cone was not just a shift",
    "close": f"About equal to Model B (within {EQUAL_WITHIN:g})",
    "above": "Above Model B: most of the cone was one shared direction",
}


def auc_bucket(repaired: float, contrastive_raw: float) -> str:
    """Which of ``PREDICT_CHOICES`` a repaired AUC falls in against the contrastive model's raw AUC
    (within the lab's tie band ``EQUAL_WITHIN``: "close")."""
    return {"equal": "close", "above": "above", "below": "below"}[compare(repaired, contrastive_raw)]


FIGURE_ROWS = (("mean_cosine", "mean cosine"), ("separation_auc", "separation AUC"), ("gap", "intra − inter"),
               ("alignment", "alignment"), ("uniformity", "uniformity"), ("probe_accuracy", "probe, clean"),
               ("probe_accuracy_noisy", "probe, noisy"))


def comparison_table(figures: dict[str, dict[str, dict[str, float]]]) -> list[list]:
    """Rows for a side-by-side table: one per figure, one column per (model, method)."""
    header = ["figure"] + [f"{m} · {method}" for method, by_model in figures.items() for m in by_model]
    rows = [header]
    for key, name in FIGURE_ROWS:
        rows.append([name] + [round(by_model[m][key], 3) for by_model in figures.values() for m in by_model])
    return rows


def whitening_sentence(model_id: str, n: int, dim: int, raw: dict[str, float], whitened: dict[str, float],
                       rank: Optional[int] = None) -> str:
    """What full PCA whitening did to one model, chosen from the run's ``n`` texts and
    ``dim`` dimensions: with n − 1 ≤ d the centred texts span at most n − 1 directions,
    each rescaled to unit variance, so any corpus whose centred texts span all n − 1
    (``rank``, the whitened dimension; by default assumed) lands on a regular simplex
    (every cosine −1/(n − 1): AUC 0.5 and the probe at one label's share, by
    construction); otherwise a lower AUC is the small directions given the same weight
    as the large ones. Empty when neither applies (whitening did not lower the AUC)."""
    rank = min(n - 1, dim) if rank is None else rank
    if n - 1 <= dim and rank == n - 1:
        return (
            f"`{model_id}` has {dim} dimensions for {n} texts (n − 1 = {n - 1} ≤ {dim}): centred, its texts span at "
            f"most {n - 1} directions, and full whitening scales each to unit variance, which maps *any* corpus onto a "
            f"regular simplex: every pair of texts ends at cosine −1/{n - 1} = {-1 / (n - 1):.4f}. Nothing of what the "
            f"model learned survives, by construction: the AUC is 0.5 (measured {whitened['separation_auc']:.3f}, "
            "round-off) and every held-out text gets the same score for each label, so the probe answers one label "
            f"for all of them ({whitened['probe_accuracy']:.0%}). BERT-whitening keeps only the top directions."
        )
    if whitened["separation_auc"] < raw["separation_auc"] - EQUAL_WITHIN:
        return (
            f"Whitening *lowered* `{model_id}`'s AUC ({raw['separation_auc']:.3f} → {whitened['separation_auc']:.3f}): "
            f"with {n} texts in {dim} dimensions it gives each of the {rank} principal directions the same weight, the "
            "small, noisy ones as much as the few that carry the domains. BERT-whitening keeps only the top "
            "directions for that reason."
        )
    return ""


def repair_sentence(a: str, b: str, raw_a: dict[str, float], raw_b: dict[str, float],
                    figures: dict[str, dict[str, dict[str, float]]], best: str) -> str:
    """The closing reading: how far the best repair took model ``a`` against ``b``'s raw
    AUC, and, with centering, how much it did for ``b`` too; every direction is chosen
    from the figures with the lab's tie band ``EQUAL_WITHIN``."""
    gain = figures[best][a]["separation_auc"] - raw_a["separation_auc"]
    text = (
        f"Against `{b}`'s raw AUC of {raw_b['separation_auc']:.3f}, `{a}` {best} reaches "
        f"{figures[best][a]['separation_auc']:.3f} ({gain:+.3f} over its raw vectors). "
        + ("Much of the cone was one shared direction: removed, the cosine separates the domains. "
           if gain > 0.05 else "Removing the shared direction changed little here. ")
    )
    if "center" in figures:
        text += centering_sentence(a, b, raw_a["separation_auc"], raw_b["separation_auc"],
                                   figures["center"][a]["separation_auc"], figures["center"][b]["separation_auc"])
    return text + (
        "A mean cosine near 0 after centering is guaranteed (the mean is gone), so it says nothing by itself "
        "about how well the directions that remain separate the domains; the AUC and the probe do. Every repair is "
        f"fitted to this corpus: new texts from elsewhere shift the mean. Sources: {SOURCES}."
    )


def centering_sentence(a: str, b: str, raw_a: float, raw_b: float, centred_a: float, centred_b: float) -> str:
    """How centering changed each model's AUC, which benefited more, and whether the
    two are level once centred, each chosen with the tie band."""
    moved = {"above": "lifts", "equal": "barely moves", "below": "lowers"}[compare(centred_b, raw_b)]
    who = {"below": f"`{b}` benefits less than `{a}`" + (", but it benefits" if moved == "lifts" else ""),
           "equal": f"`{b}` benefits about as much as `{a}`",
           "above": f"`{b}` benefits more than `{a}`"}[compare(centred_b - raw_b, centred_a - raw_a)]
    level = compare(centred_a, centred_b)
    centred = (f"about equal ({centred_a:.3f} and {centred_b:.3f}, within {EQUAL_WITHIN:g})" if level == "equal"
               else f"`{a if level == 'above' else b}` ahead ({centred_a:.3f} against {centred_b:.3f})")
    return f"Centering {moved} `{b}`'s AUC too ({raw_b:.3f} → {centred_b:.3f}): {who}; centred, the two are {centred}. "


def reveal(result: AnisotropyResult, figures: dict[str, dict[str, dict[str, float]]], guess: Optional[str]) -> str:
    """Markdown: the second prediction against what this run measured after post-processing."""
    ids = list(result.reports)
    if len(ids) < 2:
        return "Compare two models to answer this question."
    a, b = ids[:2]
    raw_a, raw_b = result.reports[a].figures, result.reports[b].figures
    methods = [m for m in figures if m != "none"]
    if not methods:
        return "Tick centering or whitening (or both) to answer this question."
    best = max(methods, key=lambda m: figures[m][a]["separation_auc"])
    truth = auc_bucket(figures[best][a]["separation_auc"], raw_b["separation_auc"])
    key = next((k for k, text in PREDICT_CHOICES.items() if guess in (k, text)), None)
    lines = [judge(PREDICT_CHOICES.get(key), PREDICT_CHOICES[truth])]
    for method in methods:
        fa, fb = figures[method][a], figures[method][b]
        lines.append(
            f"**{method}**: `{a}` mean cosine {raw_a['mean_cosine']:.2f} → **{fa['mean_cosine']:.2f}**, separation "
            f"AUC {raw_a['separation_auc']:.3f} → **{fa['separation_auc']:.3f}**, probe under noise "
            f"{raw_a['probe_accuracy_noisy']:.0%} → {fa['probe_accuracy_noisy']:.0%}; `{b}` AUC "
            f"{raw_b['separation_auc']:.3f} → {fb['separation_auc']:.3f}."
        )
    if "whiten" in figures:
        for m in (a, b):
            x = result.reports[m].embeddings
            sentence = whitening_sentence(m, len(result.frame), x.shape[1], result.reports[m].figures,
                                          figures["whiten"][m], rank=whiten(x).shape[1])
            if sentence:
                lines.append(sentence)
    lines.append(repair_sentence(a, b, raw_a, raw_b, figures, best))
    return "\n\n".join(lines)
