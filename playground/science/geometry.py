"""The shape of an embedding space, in numbers: similarities, separation,
anisotropy, alignment and uniformity, 2-D projections and a linear probe.

Every function takes plain numpy arrays and returns plain numbers or arrays, so
labs, the CLI and tests share one implementation. Similarities are cosines of
the rows, whatever their length; "pairs" are the distinct pairs ``i < j``.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

log = logging.getLogger("playground")

THREADS_ENV = "PLAYGROUND_GEOMETRY_THREADS"


def limit_threads():
    """A context in which BLAS and OpenMP use ``PLAYGROUND_GEOMETRY_THREADS``
    threads (default 1) for the small matrices of a lab.

    Why: on a small shared CPU, OpenBLAS/OpenMP threads that spin-wait for a
    busy core make t-SNE or an SVD of a few hundred rows ten times slower than
    a single thread does; these sizes gain little from more threads anyway.
    """
    from threadpoolctl import threadpool_limits

    raw = os.environ.get(THREADS_ENV, "").strip()
    return threadpool_limits(limits=int(raw) if raw.isdigit() and int(raw) > 0 else 1)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64); a zero row stays zero."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    """All pairwise cosines: ``sim(u, v) = u·v / (|u||v|)``, shape (n, n)."""
    z = l2_normalise(x)
    return z @ z.T


def intra_inter_similarities(sims: np.ndarray, labels: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Split the distinct pairs (i < j) of a similarity matrix into those with the
    same label (intra) and those with different labels (inter).

    Returns ``(intra, inter)``: 1-D arrays of the similarities, in row-major
    order of the pairs. A label with one text contributes no intra pair.
    """
    labels = np.asarray(labels)
    sims = np.asarray(sims)
    if sims.ndim != 2 or sims.shape[0] != sims.shape[1] or sims.shape[0] != len(labels):
        raise ValueError(
            f"intra_inter_similarities needs a square (n, n) matrix and n labels; "
            f"got a matrix of shape {sims.shape} and {len(labels)} labels."
        )
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
    """Mean cosine over all distinct pairs (anisotropy: near 1 means every vector
    points the same way). Near 0 is necessary for isotropy, not sufficient: it is
    (almost exactly) the squared length of the mean unit vector, so two opposite
    clusters, or any centred set, also score 0. O(n·d): the sum of all pairwise
    dot products is ``|Σz|²`` less the diagonal."""
    z = l2_normalise(x)
    n = len(z)
    if n < 2:
        raise ValueError("mean_cosine needs at least two vectors")
    s = z.sum(axis=0)
    diagonal = float(np.einsum("ij,ij->", z, z))  # n, less any zero rows
    return float((s @ s - diagonal) / (n * (n - 1)))


def alignment(x: np.ndarray, y: np.ndarray, alpha: float = 2.0) -> float:
    """Wang & Isola's alignment ``E‖f(x)−f(y)‖^α`` over positive pairs (rows of x, y),
    on normalised vectors. Lower is better aligned (0: positives coincide; 4:
    they are antipodal, for α = 2)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or len(x) == 0:
        raise ValueError(f"alignment needs two equal, non-empty sets of rows; got shapes {x.shape} and {y.shape}.")
    d = np.linalg.norm(l2_normalise(x) - l2_normalise(y), axis=1)
    return float(np.mean(d**alpha))


def uniformity(x: np.ndarray, t: float = 2.0) -> float:
    """Wang & Isola's uniformity ``log E exp(−t‖f(x)−f(y)‖²)`` over distinct pairs,
    on normalised vectors. Lower (more negative) is more uniform; 0 means all
    vectors coincide. Computed in float64 with a log-sum-exp shift."""
    z = l2_normalise(x)
    if len(z) < 2:
        raise ValueError("uniformity needs at least two vectors")
    sq = np.maximum(2.0 - 2.0 * (z @ z.T), 0.0)
    i, j = np.triu_indices(len(z), k=1)
    vals = -t * sq[i, j]
    m = vals.max()
    return float(m + np.log(np.mean(np.exp(vals - m))))


def positive_pairs(labels: Sequence, max_pairs: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i < j, with the same label; a seeded sample of
    ``max_pairs`` if there are more (kept in row-major order)."""
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    keep = labels[i] == labels[j]
    i, j = i[keep], j[keep]
    if len(i) > max_pairs:
        pick = np.sort(np.random.default_rng(seed).choice(len(i), max_pairs, replace=False))
        i, j = i[pick], j[pick]
    return i, j


def isometric_embedding(x: np.ndarray, dim: int, seed: int = 0) -> np.ndarray:
    """The rows of ``x`` (n, d) carried into ``dim`` ≥ d dimensions with every length,
    dot product and cosine unchanged: zero-padded to ``dim`` coordinates, then turned
    by one seeded random orthogonal matrix, so no coordinate is left empty. Returns
    (n, dim) float64; ``dim == d`` returns the rows as they are.

    Why: Gaussian noise N(0, σ) on every coordinate puts σ along *every* direction,
    so two models compared in one dimension get the same noise along any direction
    a probe uses and the same noise in total.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"isometric_embedding needs a 2-D array of rows; got shape {x.shape}.")
    d = x.shape[1]
    if dim < d:
        raise ValueError(f"Cannot embed {d}-dimensional vectors isometrically in {dim} dimensions (fewer).")
    if dim == d:
        return x
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)  # a uniformly random rotation (Haar), not one QR's bias
    return x @ q[:d]  # = [x, 0] @ q: the padded coordinates contribute nothing


@dataclass
class ProbeResult:
    """A linear probe's test accuracy and the sizes of its split."""

    accuracy: float
    n_train: int
    n_test: int


def add_noise(x: np.ndarray, sigma: float, after_normalise: bool = True, seed: int = 0) -> np.ndarray:
    """``x`` with Gaussian noise N(0, σ) added to every coordinate (seeded).

    ``after_normalise=True``: rows are L2-normalised, then noise is added (rows
    leave the unit sphere). σ is per coordinate, so the noise vector's expected
    length is σ·√d: pass σ_total/√d for the same total noise in every dimension
    (the anisotropy lab's default). ``False``: noise
    is added first and the rows are normalised after (the noisy vectors are put
    back on the sphere, so a classifier never sees their length). With σ = 0
    the rows are only normalised.
    """
    z = l2_normalise(x)
    if sigma < 0:
        raise ValueError(f"The noise σ must be 0 or more; got {sigma}.")
    if sigma == 0:
        return z
    noise = np.random.default_rng(seed).normal(0.0, sigma, size=z.shape)
    return z + noise if after_normalise else l2_normalise(z + noise)


def linear_probe(
    x: np.ndarray, labels: Sequence, train_fraction: float = 0.2, noise_sigma: float = 0.0,
    noise_after_normalise: bool = True, seed: int = 0,
) -> ProbeResult:
    """Logistic regression trained on a stratified, seeded ``train_fraction`` of the
    rows and scored (accuracy) on the rest.

    With ``noise_sigma > 0``, Gaussian noise N(0, σ) is added to every vector:
    after L2 normalisation (the default) or before it (the vectors are
    re-normalised after the noise). σ is per coordinate (see ``add_noise``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    x = np.asarray(x, dtype=np.float64)
    if len(x) != len(labels):
        raise ValueError(f"linear_probe got {len(x)} vectors and {len(labels)} labels; they must match.")
    classes, counts = np.unique(labels, return_counts=True)
    n_train = int(np.floor(train_fraction * len(labels)))  # as train_test_split counts it
    if len(classes) < 2 or counts.min() < 2 or n_train < len(classes) or len(labels) - n_train < len(classes):
        raise ValueError(
            f"A stratified {train_fraction:.0%} split of {len(labels)} texts over {len(classes)} labels leaves "
            "some label out of the training or the test set; give every label more texts "
            f"(at least {int(np.ceil(1 / min(train_fraction, 1 - train_fraction)))} each)."
        )
    # The noise draw is seeded apart from the split, so σ changes only the noise.
    x = add_noise(x, noise_sigma, after_normalise=noise_after_normalise, seed=seed + 1)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), train_size=train_fraction, stratify=labels, random_state=seed
    )
    clf = LogisticRegression(max_iter=2000)
    with limit_threads():
        clf.fit(x[train_idx], labels[train_idx])
        acc = float((clf.predict(x[test_idx]) == labels[test_idx]).mean())
    return ProbeResult(accuracy=acc, n_train=len(train_idx), n_test=len(test_idx))


def probe_noise_sweep(
    x: np.ndarray, labels: Sequence, sigmas: Sequence[float], train_fraction: float = 0.2,
    noise_after_normalise: bool = True, seed: int = 0,
) -> list[float]:
    """Linear-probe accuracy at each noise level σ in ``sigmas`` (same split and
    seed for every σ, so the curve shows the noise alone)."""
    return [
        linear_probe(x, labels, train_fraction, float(sigma), noise_after_normalise, seed).accuracy
        for sigma in sigmas
    ]


# -- 2-D projections -----------------------------------------------------------------

PROJECTIONS = ("pca", "tsne", "umap")
UMAP_WARMUP_ENV = "PLAYGROUND_UMAP_WARMUP"
_umap_lock = threading.Lock()
_umap_warm_started = False


def project_2d(x: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """The rows of ``x`` (L2-normalised first) in two dimensions, shape (n, 2).

    ``method``: ``"pca"`` (linear, on the centred rows: the mean direction a
    narrow cone shares is removed, what varies around it is kept), ``"tsne"``
    (keeps neighbourhoods; distances between clusters mean little) or
    ``"umap"`` (keeps neighbourhoods and some global layout).
    Seeded, so the same input gives the same picture.
    """
    method = method.lower().replace("-", "")
    z = l2_normalise(x)
    n = len(z)
    if method not in PROJECTIONS:
        raise ValueError(f"Unknown projection {method!r}; choose one of: {', '.join(PROJECTIONS)}.")
    if n < 3:
        raise ValueError(f"A 2-D projection needs at least 3 vectors; got {n}.")
    with limit_threads():
        return _project(z, method, seed)


def _project(z: np.ndarray, method: str, seed: int) -> np.ndarray:
    n = len(z)
    if method == "pca":
        centred = z - z.mean(axis=0)
        u, s, vt = np.linalg.svd(centred, full_matrices=False)
        out = np.zeros((n, 2))
        for k in range(min(2, len(s))):
            # Fix the axis's sign (largest loading positive) so the picture never flips.
            sign = np.sign(vt[k, np.argmax(np.abs(vt[k]))]) or 1.0
            out[:, k] = u[:, k] * s[k] * sign
        return out
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (n - 1) / 3.0))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(z)
    umap = import_umap()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state": seeded runs are serial
        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, random_state=seed)
        return reducer.fit_transform(z.astype(np.float32)).astype(np.float64)


def enable_numba_disk_cache() -> str:
    """Point numba's on-disk cache at the playground's cache folder (unless
    ``NUMBA_CACHE_DIR`` is already set) and return the folder.

    Call it before numba is imported where possible; if numba is already
    loaded its configuration is reloaded so the folder still applies to
    functions compiled from now on.
    """
    if not os.environ.get("NUMBA_CACHE_DIR"):
        from playground.paths import cache_dir

        os.environ["NUMBA_CACHE_DIR"] = cache_dir("numba")
        if "numba" in sys.modules:
            from numba.core import config

            config.reload_config()
    return os.environ["NUMBA_CACHE_DIR"]


def import_umap():
    """``import umap`` with its numba functions cached on disk.

    umap-learn compiles its functions without ``cache=True``, so every new
    process would spend tens of seconds compiling them again. Turning on
    numba's file cache for them (before their first compile) makes that a
    one-time cost per machine: later processes load the compiled code.
    """
    with _umap_lock:
        enable_numba_disk_cache()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import umap
        try:
            from numba.core.caching import NullCache
            from numba.core.registry import CPUDispatcher
        except ImportError:  # a numba without these internals: compile per process
            return umap
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "umap" or name.startswith("umap.")):
                continue
            for obj in list(vars(module).values()):
                if isinstance(obj, CPUDispatcher) and isinstance(getattr(obj, "_cache", None), NullCache):
                    try:
                        obj.enable_caching()
                    except Exception:  # e.g. a function numba cannot cache: it compiles per process
                        pass
        return umap


def warm_up_umap(delay: float = 10.0, block: bool = False) -> Optional[threading.Thread]:
    """Import umap and compile its functions on a tiny input, in a daemon thread
    (once per process), so the first UMAP a user asks for does not wait.

    The thread waits ``delay`` seconds first: importing umap holds the GIL for
    long stretches, and the app should finish building its tabs undisturbed.
    Skipped (returns None) when ``PLAYGROUND_UMAP_WARMUP=0`` (the tests set it)
    or when a warm-up already started. ``block=True`` waits for it to finish.
    """
    global _umap_warm_started
    if os.environ.get(UMAP_WARMUP_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    with _umap_lock:
        if _umap_warm_started:
            return None
        _umap_warm_started = True

    def _warm() -> None:
        time.sleep(max(delay, 0.0))
        try:
            project_2d(np.random.default_rng(0).normal(size=(40, 8)), "umap")
        except Exception as exc:  # a warm-up must never take the app down
            log.warning("UMAP warm-up failed (the first UMAP projection will be slow): %s", exc)

    thread = threading.Thread(target=_warm, name="umap-warm-up", daemon=True)
    thread.start()
    if block:
        thread.join()
    return thread
