"""The shape of an embedding space, in numbers: similarities, separation,
anisotropy, alignment and uniformity, 2-D projections and a linear probe.

Every function takes plain numpy arrays and returns plain numbers or arrays, so
labs, the CLI and tests share one implementation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    """All pairwise cosines: ``sim(u, v) = u·v / (|u||v|)``, shape (n, n)."""
    z = l2_normalise(x)
    return z @ z.T


def intra_inter_similarities(sims: np.ndarray, labels: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Split the distinct pairs (i < j) of a similarity matrix into those with the
    same label (intra) and those with different labels (inter)."""
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    same = labels[i] == labels[j]
    values = np.asarray(sims)[i, j]
    return values[same], values[~same]


def separation_auc(intra: np.ndarray, inter: np.ndarray) -> float:
    """ROC-AUC of telling intra from inter pairs by similarity: the chance that a
    random intra pair is more similar than a random inter pair (ties count half).
    0.5 means no separation, 1.0 a clean gap."""
    intra, inter = np.asarray(intra, dtype=np.float64), np.asarray(inter, dtype=np.float64)
    if len(intra) == 0 or len(inter) == 0:
        raise ValueError("separation_auc needs at least one intra and one inter pair")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([intra, inter]))
    n1, n2 = len(intra), len(inter)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n2))


def mean_cosine(x: np.ndarray) -> float:
    """Mean cosine over all distinct pairs (anisotropy: near 0 is isotropic)."""
    z = l2_normalise(x)
    n = len(z)
    if n < 2:
        raise ValueError("mean_cosine needs at least two vectors")
    s = z.sum(axis=0)
    return float((s @ s - n) / (n * (n - 1)))


def alignment(x: np.ndarray, y: np.ndarray, alpha: float = 2.0) -> float:
    """Wang & Isola's alignment ``E‖f(x)−f(y)‖^α`` over positive pairs (rows of x, y),
    on normalised vectors. Lower is better aligned."""
    d = np.linalg.norm(l2_normalise(x) - l2_normalise(y), axis=1)
    return float(np.mean(d**alpha))


def uniformity(x: np.ndarray, t: float = 2.0) -> float:
    """Wang & Isola's uniformity ``log E exp(−t‖f(x)−f(y)‖²)`` over distinct pairs,
    on normalised vectors. Lower (more negative) is more uniform."""
    z = l2_normalise(x)
    sq = np.maximum(2.0 - 2.0 * (z @ z.T), 0.0)
    i, j = np.triu_indices(len(z), k=1)
    vals = -t * sq[i, j]
    m = vals.max()
    return float(m + np.log(np.mean(np.exp(vals - m))))


def positive_pairs(labels: Sequence, max_pairs: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i < j, with the same label; a seeded sample if there are many."""
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    keep = labels[i] == labels[j]
    i, j = i[keep], j[keep]
    if len(i) > max_pairs:
        pick = np.random.default_rng(seed).choice(len(i), max_pairs, replace=False)
        i, j = i[pick], j[pick]
    return i, j


@dataclass
class ProbeResult:
    accuracy: float
    n_train: int
    n_test: int


def linear_probe(
    x: np.ndarray, labels: Sequence, train_fraction: float = 0.2, noise_sigma: float = 0.0,
    noise_after_normalise: bool = True, seed: int = 0,
) -> ProbeResult:
    """Logistic regression trained on a stratified, seeded ``train_fraction`` of the
    rows and scored (accuracy) on the rest.

    With ``noise_sigma > 0``, Gaussian noise N(0, σ) is added to every vector:
    after L2 normalisation (the default: the noise is then comparable across
    models) or before it (the vectors are re-normalised after the noise).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    x = np.asarray(x, dtype=np.float64)
    if noise_sigma > 0:
        noise = np.random.default_rng(seed + 1).normal(0.0, noise_sigma, size=x.shape)
        x = l2_normalise(x) + noise if noise_after_normalise else l2_normalise(x + noise)
    else:
        x = l2_normalise(x)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), train_size=train_fraction, stratify=labels, random_state=seed
    )
    clf = LogisticRegression(max_iter=2000)
    clf.fit(x[train_idx], labels[train_idx])
    acc = float((clf.predict(x[test_idx]) == labels[test_idx]).mean())
    return ProbeResult(accuracy=acc, n_train=len(train_idx), n_test=len(test_idx))
