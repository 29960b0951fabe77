"""How much noise σ means, and the noisy probe under each reading of it.

Gaussian noise N(0, s) on every coordinate puts s along *every* direction, the ones a
linear probe uses included. Comparing a 50-d model with a 384-d one, σ can be read
three ways, and only one is neutral:

- ``matched`` (the default): every model's vectors are embedded isometrically in the
  run's largest dimension D (``geometry.isometric_embedding``: every cosine unchanged)
  and get σ/√D on each coordinate: the same noise along every direction and in total.
- ``total``: σ is the noise vector's expected length in each model's own dimension d,
  so σ/√d lands on each coordinate and along each direction: √(D/d) times more for the
  smaller model. Biased towards the larger model.
- ``coordinate``: σ on each coordinate of each model's own dimension: the same noise
  along each direction, but the larger model carries it in D − d more dimensions, which
  a probe trained on a few texts must learn to ignore. Biased towards the smaller model.

``noisy_probes`` measures one model under all three at the same noise on the largest
model; ``noise_reading`` words what a run's figures show, with ``EQUAL_WITHIN`` as the
lab's one "about equal" band. No gradio here.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from playground.science import geometry

NOISE_MATCHED, NOISE_TOTAL, NOISE_COORDINATE = "matched", "total", "coordinate"
NOISE_SCALES = {
    NOISE_MATCHED: "matched dimension: every model's vectors embedded isometrically (cosines unchanged) in the "
                   "run's largest dimension D, and σ is the noise vector's expected length there (σ/√D on each "
                   "coordinate): the same noise along every direction for every model",
    NOISE_TOTAL: "σ is the expected length of the noise vector in each model's own dimension d (σ/√d on each "
                 "coordinate and along each direction): the smaller model gets √(D/d) times more along each "
                 "direction, so this favours the larger model",
    NOISE_COORDINATE: "σ is the standard deviation on every coordinate of each model's own dimension: the same "
                      "noise along each direction, but a 384-d model carries it in 334 more dimensions than a "
                      "50-d one (about σ·√d in total), which favours the smaller model",
}
SCALE_NAMES = {NOISE_MATCHED: "matched dimension", NOISE_TOTAL: "equal total noise",
               NOISE_COORDINATE: "σ per coordinate"}  # short names for titles
DEFAULT_NOISE_SCALE = NOISE_MATCHED
# Per scale: the default σ and the sweep. σ = 1 is a noise vector as long as the unit
# signal vector; per coordinate, σ = 0.1 is the lesson's literal formula.
DEFAULT_SIGMAS = {NOISE_MATCHED: 1.0, NOISE_TOTAL: 1.0, NOISE_COORDINATE: 0.1}
_LENGTH_SWEEP = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
SWEEPS = {
    NOISE_MATCHED: _LENGTH_SWEEP,
    NOISE_TOTAL: _LENGTH_SWEEP,
    NOISE_COORDINATE: (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5),
}
# The rotation that embeds a smaller model is fixed, not drawn per run: it is part of
# how the vectors are put in D dimensions, not of the noise.
ROTATION_SEED = 0
# Two figures (fractions, AUCs) this close count as about equal: the lab's one tie band.
EQUAL_WITHIN = 0.02


def check_scale(noise_scale: str) -> None:
    if noise_scale not in NOISE_SCALES:
        raise ValueError(f"Noise scale {noise_scale!r} is not one of: {', '.join(NOISE_SCALES)}.")


def coordinate_sigma(sigma: float, dim: int, noise_scale: str = DEFAULT_NOISE_SCALE,
                     matched_dim: Optional[int] = None) -> float:
    """The standard deviation per coordinate that noise level ``sigma`` means for a
    ``dim``-dimensional model: ``σ/√dim`` for equal total noise, ``σ`` per coordinate,
    ``σ/√matched_dim`` at matched dimension (``matched_dim`` defaults to ``dim``; the
    vectors are then embedded in ``matched_dim`` dimensions, see ``noise_space``)."""
    check_scale(noise_scale)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"The noise σ must be a finite number, 0 or more; got {sigma}.")
    if noise_scale == NOISE_COORDINATE:
        return float(sigma)
    return float(sigma) / np.sqrt(dim if noise_scale == NOISE_TOTAL else (matched_dim or dim))


def noise_space(x: np.ndarray, noise_scale: str, matched_dim: Optional[int] = None) -> np.ndarray:
    """The vectors the noise is added to: at matched dimension, ``x`` embedded
    isometrically in ``matched_dim`` dimensions; on the other scales, ``x`` itself."""
    check_scale(noise_scale)
    dim = np.shape(x)[1]
    if noise_scale != NOISE_MATCHED or not matched_dim or matched_dim <= dim:
        return np.asarray(x)
    return geometry.isometric_embedding(x, matched_dim, seed=ROTATION_SEED)


def sigma_on_largest(sigma: float, noise_scale: str, matched_dim: int) -> float:
    """The per-coordinate σ that the run's largest model (``matched_dim`` dimensions)
    gets at noise level ``sigma``: the same on all three scales for that model."""
    return coordinate_sigma(sigma, matched_dim, noise_scale, matched_dim)


# The figure names of the three noisy probes (each model's figures carry all three).
SCALE_FIGURES = {scale: f"probe_noisy_{scale}" for scale in NOISE_SCALES}


def noisy_probes(
    x: np.ndarray, labels: Sequence, per_coordinate_on_largest: float, matched_dim: int, train_fraction: float,
    after_normalise: bool = True, seed: int = 0, known: Optional[dict[str, float]] = None,
) -> dict[str, float]:
    """``{scale: accuracy}``: the linear probe on ``x`` under the noise each scale gives
    this model when the largest model (``matched_dim`` dimensions) gets
    ``per_coordinate_on_largest`` on each coordinate. ``known`` holds accuracies
    already measured (by scale), so they are not measured twice."""
    dim = np.shape(x)[1]
    s = float(per_coordinate_on_largest)
    settings = {  # scale -> (vectors, σ per coordinate)
        NOISE_MATCHED: (lambda: noise_space(x, NOISE_MATCHED, matched_dim), s),
        NOISE_TOTAL: (lambda: x, s * np.sqrt(matched_dim / dim)),  # the same total length s·√D in d dimensions
        NOISE_COORDINATE: (lambda: x, s),
    }
    out = dict(known or {})
    if dim >= matched_dim:  # the largest model: the three scales are one and the same noise
        value = next(iter(out.values()), None)
        if value is None:
            value = geometry.linear_probe(x, labels, train_fraction, s, after_normalise, seed).accuracy
        return {scale: float(value) for scale in NOISE_SCALES}
    for scale, (vectors, sigma) in settings.items():
        if scale not in out:
            out[scale] = geometry.linear_probe(vectors(), labels, train_fraction, sigma, after_normalise, seed).accuracy
    return {scale: float(out[scale]) for scale in NOISE_SCALES}


# -- the reading of a run ---------------------------------------------------------------

def compare(a: float, b: float, within: float = EQUAL_WITHIN) -> str:
    """``"above"``, ``"equal"`` (within the tie band) or ``"below"``: ``a`` against ``b``."""
    if abs(a - b) <= within:
        return "equal"
    return "above" if a > b else "below"


def winner_sentence(figures: dict[str, dict[str, float]], scale: str = NOISE_MATCHED) -> str:
    """Which of the first two models keeps the higher noisy probe on ``scale``, or that
    they are about equal (within ``EQUAL_WITHIN``), with both figures."""
    (a, fa), (b, fb) = list(figures.items())[:2]
    key = SCALE_FIGURES[scale]
    side = compare(fa[key], fb[key])
    if side == "equal":
        return (f"`{a}` and `{b}` are about equal under this noise ({fa[key]:.0%} and {fb[key]:.0%}, within "
                f"{EQUAL_WITHIN:g})")
    win, lose = (a, b) if side == "above" else (b, a)
    return (f"`{win}`'s probe scores higher under this noise: {figures[win][key]:.0%} against "
            f"{figures[lose][key]:.0%} for `{lose}`")


def _against_matched(value: float, matched: float) -> str:
    side = compare(value, matched)
    return {"equal": "about the same as", "above": "above", "below": "below"}[side]


def noise_reading(figures: dict[str, dict[str, float]], dims: dict[str, int], per_coordinate_on_largest: float,
                  train_fraction: float = 0.2) -> str:
    """Markdown: the three noise scales, which way each is biased and why, with the
    run's noisy probes (``figures[model][SCALE_FIGURES[scale]]``); every direction
    it states is chosen from those figures. ``dims``: each model's dimension;
    ``train_fraction``: the probe's share of training texts."""
    big = max(dims.values())
    s = per_coordinate_on_largest
    smaller = [m for m in figures if dims[m] < big]
    largest = [m for m in figures if dims[m] == big]
    two = len(figures) >= 2
    if not smaller:
        text = (f"**Noise, three ways.** Every model here has {big} dimensions, so the three noise scales add the "
                f"same noise: N(0, {s:.3g}) on every coordinate.")
        return text + (f" {winner_sentence(figures)}." if two else "")
    names = ", ".join(f"`{m}`" for m in largest)
    lines = [
        f"**Noise, three ways.** The three scales give {names} ({big} dimensions) the same noise, N(0, {s:.3g}) on "
        "every coordinate; they differ in what a smaller model gets.",
        "- **Matched dimension** (the default): "
        + ", ".join(f"`{m}`'s {dims[m]}-d vectors" for m in smaller)
        + f" are embedded isometrically in {big} dimensions (zero-padded, then one fixed random rotation: every "
          f"cosine unchanged), and every model gets N(0, {s:.3g}) on each coordinate: the same noise along every "
          "direction a probe can use, and the same in total. This compares the arrangement of the vectors alone. "
        + (f"{winner_sentence(figures, NOISE_MATCHED)}." if two else ""),
    ]
    total, coordinate = [], []
    for m in smaller:
        f, d = figures[m], dims[m]
        matched = f[SCALE_FIGURES[NOISE_MATCHED]]
        total.append(
            f"`{m}` ({d}-d) gets √({big}/{d}) ≈ {np.sqrt(big / d):.1f} times the noise along each direction and "
            f"scores {f[SCALE_FIGURES[NOISE_TOTAL]]:.0%}, {_against_matched(f[SCALE_FIGURES[NOISE_TOTAL]], matched)} "
            f"its {matched:.0%} at matched dimension")
        coordinate.append(
            f"`{m}` keeps its {d} dimensions ({big - d} fewer noisy ones) and scores "
            f"{f[SCALE_FIGURES[NOISE_COORDINATE]]:.0%}, "
            f"{_against_matched(f[SCALE_FIGURES[NOISE_COORDINATE]], matched)} its {matched:.0%} at matched dimension")
    lines.append(
        "- **Equal total noise**: each model's noise vector is equally long in its own dimension d, so σ/√d lands on "
        "each coordinate, and so along any direction a linear probe uses: the fewer the dimensions, the more noise "
        "per direction. Biased towards the larger model: " + "; ".join(total) + "."
        + (f" {winner_sentence(figures, NOISE_TOTAL)}." if two else ""))
    lines.append(
        "- **Per coordinate**, in each model's own dimension: the same noise along each direction, but the larger "
        "model carries it in more dimensions, "
        f"noise the probe (trained on {train_fraction:.0%} of the texts) must learn to ignore. "
        "Biased towards the smaller model: " + "; ".join(coordinate) + "."
        + (f" {winner_sentence(figures, NOISE_COORDINATE)}." if two else ""))
    return "\n".join(lines)
