"""Triplet margin lab, the computation: labelled texts in, triplets, distances,
a margin sweep, and a linear projection trained with the triplet loss.

A triplet is (anchor, positive, negative): anchor and positive share a label, the
negative has another. With margin α the triplet loss is
``max(0, d(a,p) − d(a,n) + α)``; a triplet is *active* (it still pays, so it
still pushes) when ``d(a,p) + α > d(a,n)`` and *satisfied* otherwise.

No gradio here: every function is callable from Python, the CLI and tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from playground.science import losses
from playground.models.gpu import embed_texts
from playground.science.geometry import linear_probe
from playground.models.lazy import F, torch
from playground.science.threads import torch_threads

DEFAULT_MODELS = ("glove", "minilm")
METRICS = losses.METRICS
MININGS = ("random", "hard")
DEFAULT_MARGINS = tuple(round(0.05 * i, 2) for i in range(21))  # 0.0 … 1.0
DEFAULT_MARGIN = 0.2
DEFAULT_TRIPLETS = 300
DEFAULT_PER_LABEL = 50
MAX_TRIPLETS = 5000

Progress = Optional[Callable[[float, str], None]]


# ------------------------------------------------------------------------ data in
def subsample_per_label(frame: pd.DataFrame, per_label: int, seed: int = 0) -> pd.DataFrame:
    """At most ``per_label`` rows of each label (a seeded sample), in a stable order."""
    if per_label < 2:
        raise ValueError(f"per_label must be at least 2 (an anchor and its positive), got {per_label}.")
    parts = [
        group.sample(n=min(per_label, len(group)), random_state=seed)
        for _, group in frame.groupby("label", sort=True)
    ]
    return pd.concat(parts).reset_index(drop=True)


def load_texts(upload=None, per_label: int = DEFAULT_PER_LABEL, seed: int = 0) -> pd.DataFrame:
    """The lab's labelled texts (columns ``text``, ``label``): the bundled corpus of the
    anisotropy lab, or a ``text,label`` CSV upload; at most ``per_label`` per label."""
    if upload is not None:
        from playground.data.uploads import read_labelled_csv

        frame = read_labelled_csv(upload)
    else:
        from playground.data.corpus import load_corpus

        frame = load_corpus()[["text", "label"]]
    frame = frame.astype({"text": str, "label": str}).drop_duplicates("text")
    check_labels(frame["label"])
    return subsample_per_label(frame, per_label, seed)


def check_labels(labels: Sequence) -> None:
    """Refuse labels that cannot make a triplet, saying what is needed."""
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    if len(counts) < 2:
        raise ValueError("Triplets need at least two labels (a negative has another label than its anchor).")
    if (counts >= 2).sum() < 1:
        raise ValueError("Triplets need a label with at least two texts (an anchor and its positive).")


# ----------------------------------------------------------------------- triplets
@dataclass
class Triplets:
    """Row indices into the texts: ``anchor[i], positive[i], negative[i]`` is triplet i."""

    anchor: np.ndarray
    positive: np.ndarray
    negative: np.ndarray

    def __len__(self) -> int:
        return len(self.anchor)


class TripletSampler:
    """Draws triplets over fixed labels; built once, sampled many times (training
    draws a fresh batch every step).

    Anchor and positive are two different texts with the same label, drawn at
    random. The negative:
      - ``"random"``: a random text with another label (so, given the seed, every
        model sees the same triplets);
      - ``"hard"``: the text with another label nearest the anchor in the given
        embeddings under ``metric`` (so each model mines its own negatives).
    """

    def __init__(self, labels: Sequence) -> None:
        self.labels = np.asarray(labels)
        check_labels(self.labels)
        codes = np.unique(self.labels, return_inverse=True)[1].ravel()
        self.codes = codes
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[codes]  # per text: where its label's block starts
        self.sizes = counts[codes]  # per text: how many texts share its label
        self.order = order  # text indices grouped by label
        self.position = np.empty_like(order)
        self.position[order] = np.arange(len(order))  # per text: its place inside its block
        self.anchors = np.flatnonzero(self.sizes >= 2)

    def sample(
        self, n: int, rng: np.random.Generator, mining: str = "random",
        embeddings: Optional[np.ndarray] = None, metric: str = "cosine",
    ) -> Triplets:
        if mining not in MININGS:
            raise ValueError(f"mining must be one of {', '.join(MININGS)}, got {mining!r}.")
        if not 1 <= n <= MAX_TRIPLETS:
            raise ValueError(f"The number of triplets must be between 1 and {MAX_TRIPLETS}, got {n}.")
        anchor = rng.choice(self.anchors, size=n, replace=True)
        # a uniform pick among the other texts of the anchor's label: skip the anchor's own slot
        k = rng.integers(0, self.sizes[anchor] - 1)
        k = k + (k >= self.position[anchor] - self.starts[anchor])
        positive = self.order[self.starts[anchor] + k]
        other = self.codes[anchor][:, None] != self.codes[None, :]  # (n, texts): allowed negatives
        if mining == "random":
            negative = np.where(other, rng.random(other.shape), -1.0).argmax(axis=1)
        else:
            if embeddings is None:
                raise ValueError("Hard-negative mining needs the embeddings to measure which negative is nearest.")
            dist = distance_matrix(np.asarray(embeddings)[anchor], embeddings, metric)
            negative = np.where(other, dist, np.inf).argmin(axis=1)
        return Triplets(anchor=anchor, positive=positive, negative=negative)


def sample_triplets(
    labels: Sequence, n: int, seed: int = 0, mining: str = "random",
    embeddings: Optional[np.ndarray] = None, metric: str = "cosine",
) -> Triplets:
    """``n`` seeded triplets over ``labels`` (see ``TripletSampler`` for the mining)."""
    return TripletSampler(labels).sample(n, np.random.default_rng(seed), mining, embeddings, metric)


def distance_matrix(x: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    """All distances between rows of ``x`` and rows of ``y`` (for mining), shape (len(x), len(y)).

    Computed in torch, so it follows torch's thread setting (numpy's BLAS would
    spin up its own threads inside the training loop)."""
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.float64)
    if metric == "cosine":
        return (1.0 - F.normalize(xt, dim=-1, eps=1e-12) @ F.normalize(yt, dim=-1, eps=1e-12).T).numpy()
    if metric == "euclidean":
        return torch.cdist(xt, yt).numpy()
    raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}.")


# ------------------------------------------------------------------ distances, sweep
def _rows(emb: np.ndarray, idx: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(emb)[idx], dtype=torch.float32)


def triplet_distances(emb: np.ndarray, triplets: Triplets, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``(d(a,p), d(a,n))`` per triplet, through the shared loss library."""
    d_ap, d_an = losses.triplet_distances(
        _rows(emb, triplets.anchor), _rows(emb, triplets.positive), _rows(emb, triplets.negative), metric
    )
    return d_ap.numpy().astype(np.float64), d_an.numpy().astype(np.float64)


def fraction_active(d_ap: np.ndarray, d_an: np.ndarray, margin: float) -> float:
    """Share of triplets with ``d(a,p) + α > d(a,n)`` (the loss is positive)."""
    return float(np.mean(np.asarray(d_ap) + margin > np.asarray(d_an)))


def fraction_satisfied(d_ap: np.ndarray, d_an: np.ndarray, margin: float) -> float:
    """Share of triplets with ``d(a,p) + α < d(a,n)`` (the inequality the loss asks for)."""
    return float(np.mean(np.asarray(d_ap) + margin < np.asarray(d_an)))


def margin_sweep(emb: np.ndarray, triplets: Triplets, metric: str, margins: Sequence[float]) -> list[dict]:
    """One row per margin, in increasing margin: ``{"margin", "loss", "fraction_active"}``;
    the loss is the shared library's ``triplet_loss`` (mean over triplets)."""
    margins = sorted(float(m) for m in margins)
    if not margins or margins[0] < 0:
        raise ValueError(f"Margins must be ≥ 0, got {margins}.")
    a, p, n = _rows(emb, triplets.anchor), _rows(emb, triplets.positive), _rows(emb, triplets.negative)
    d_ap, d_an = triplet_distances(emb, triplets, metric)
    return [
        {
            "margin": m,
            "loss": float(losses.triplet_loss(a, p, n, margin=m, metric=metric)),
            "fraction_active": fraction_active(d_ap, d_an, m),
        }
        for m in margins
    ]


@dataclass
class ModelSweep:
    """One model's view of the triplets."""

    model_id: str
    triplets: Triplets
    d_ap: np.ndarray
    d_an: np.ndarray
    sweep: list[dict]


@dataclass
class SweepResult:
    texts: list[str]
    labels: list[str]
    metric: str
    mining: str
    margin: float
    models: dict[str, ModelSweep] = field(default_factory=dict)

    def sweep_json(self) -> dict[str, list[dict]]:
        """What ``playground run triplet_margin --json`` prints: model id -> sweep rows."""
        return {m: s.sweep for m, s in self.models.items()}


def parse_models(models: str | Sequence[str]) -> list[str]:
    ids = [m.strip() for m in (models.split(",") if isinstance(models, str) else models) if m and m.strip()]
    if not ids:
        raise ValueError("Pick at least one model (for example glove,minilm).")
    if len(set(ids)) != len(ids):
        raise ValueError(f"Each model once, please: got {', '.join(ids)}.")
    return ids


def embed(registry, model_id: str, texts: Sequence[str], session: Optional[str] = None) -> np.ndarray:
    """``texts`` embedded by the registry's model (rows L2-normalised, cached per text)."""
    return embed_texts(registry, model_id, texts, session)


def run_sweep(
    registry, frame: pd.DataFrame, model_ids: Sequence[str], metric: str = "cosine", mining: str = "random",
    n_triplets: int = DEFAULT_TRIPLETS, margins: Sequence[float] = DEFAULT_MARGINS, margin: float = DEFAULT_MARGIN,
    seed: int = 0, session: Optional[str] = None, progress: Progress = None,
) -> SweepResult:
    """Embed ``frame``'s texts with each model and sweep the margin on its triplets.

    With random mining every model sees the same triplets; with hard mining each
    model's negatives are the nearest other-label texts in its own space.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}.")
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    result = SweepResult(texts=texts, labels=labels, metric=metric, mining=mining, margin=float(margin))
    for k, model_id in enumerate(parse_models(model_ids)):
        if progress:
            progress(k / len(model_ids), f"embedding {len(texts)} texts with {model_id}")
        emb = embed(registry, model_id, texts, session)
        with torch_threads(1):
            triplets = sample_triplets(labels, n_triplets, seed, mining, emb, metric)
            d_ap, d_an = triplet_distances(emb, triplets, metric)
            sweep = margin_sweep(emb, triplets, metric, margins)
        result.models[model_id] = ModelSweep(model_id, triplets, d_ap, d_an, sweep)
    return result


def example_triplets(result: SweepResult, margin: float, per_model: int = 6, seed: int = 0) -> pd.DataFrame:
    """A few triplets per model with their texts and distances, half satisfied and
    half violated where the model has both, so the inequality is seen both ways."""
    rows = []
    rng = np.random.default_rng(seed)
    for model_id, s in result.models.items():
        ok = s.d_ap + margin < s.d_an
        good, bad = np.flatnonzero(ok), np.flatnonzero(~ok)
        n_bad = min(len(bad), max(per_model // 2, per_model - len(good)))
        picks = list(rng.permutation(bad)[:n_bad]) + list(rng.permutation(good)[: per_model - n_bad])
        for i in picks:
            rows.append({
                "model": model_id,
                "anchor": result.texts[s.triplets.anchor[i]],
                "positive": result.texts[s.triplets.positive[i]],
                "negative": result.texts[s.triplets.negative[i]],
                "d(a,p)": round(float(s.d_ap[i]), 4),
                "d(a,n)": round(float(s.d_an[i]), 4),
                "d(a,p) + α < d(a,n)": bool(ok[i]),
            })
    return pd.DataFrame(rows, columns=["model", "anchor", "positive", "negative", "d(a,p)", "d(a,n)", "d(a,p) + α < d(a,n)"])


# ------------------------------------------------------------------------ training
@dataclass
class TrainResult:
    """A linear projection trained with the triplet loss, and what it changed on
    held-out texts (never seen in training)."""

    model_id: str
    margin: float
    metric: str
    losses: list[float]
    before: dict  # satisfied, active, loss, probe_accuracy, d_ap, d_an on held-out triplets
    after: dict
    weight: np.ndarray
    train_size: int
    heldout_size: int


def split_texts(labels: Sequence, heldout_fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of text indices into (train, held-out)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, held = [], []
    for lab in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == lab))
        k = int(round(len(idx) * heldout_fraction))
        held += list(idx[:k])
        train += list(idx[k:])
    return np.sort(np.array(train, dtype=int)), np.sort(np.array(held, dtype=int))


def project(weight: np.ndarray, emb: np.ndarray) -> np.ndarray:
    """Embeddings through the projection, rows L2-normalised (as the model's own are)."""
    z = np.asarray(emb, dtype=np.float32) @ np.asarray(weight, dtype=np.float32).T
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def _evaluate(emb: np.ndarray, labels: np.ndarray, triplets: Triplets, margin: float, metric: str) -> dict:
    d_ap, d_an = triplet_distances(emb, triplets, metric)
    probe = linear_probe(emb, labels, train_fraction=0.5, seed=0)
    return {
        "satisfied": fraction_satisfied(d_ap, d_an, margin),
        "active": fraction_active(d_ap, d_an, margin),
        "loss": float(np.mean(np.maximum(d_ap - d_an + margin, 0.0))),
        "probe_accuracy": probe.accuracy,
        "d_ap": d_ap,
        "d_an": d_an,
    }


def train_projection(
    emb: np.ndarray, labels: Sequence, margin: float = DEFAULT_MARGIN, metric: str = "cosine",
    mining: str = "random", steps: int = 300, batch_size: int = 64, lr: float = 0.01,
    heldout_fraction: float = 0.5, n_heldout_triplets: int = DEFAULT_TRIPLETS, seed: int = 0,
    model_id: str = "", progress: Progress = None,
) -> TrainResult:
    """Train ``W`` (square, starting at the identity, so "before" is the model itself)
    on frozen embeddings with the triplet loss at ``margin``; outputs are
    ``normalise(W x)``. Training triplets are drawn afresh every step from the
    training texts (hard mining: the nearest other-label training text in the
    current projected space); the held-out triplets are fixed, drawn from held-out
    texts (hard mining: in the frozen space), and scored before and after.
    """
    if not 0 <= margin <= 2:
        raise ValueError(f"The margin must be between 0 and 2 (distances on the unit sphere are ≤ 2), got {margin}.")
    if not 1 <= steps <= 5000:
        raise ValueError(f"steps must be between 1 and 5000, got {steps}.")
    labels = np.asarray(labels)
    emb = np.asarray(emb, dtype=np.float32)
    train_idx, held_idx = split_texts(labels, heldout_fraction, seed)
    check_labels(labels[train_idx])
    check_labels(labels[held_idx])
    held_emb, held_labels = emb[held_idx], labels[held_idx]
    held_triplets = sample_triplets(held_labels, n_heldout_triplets, seed + 1, mining, held_emb, metric)
    before = _evaluate(held_emb, held_labels, held_triplets, margin, metric)

    with torch_threads(1):
        w, history = _fit_projection(emb[train_idx], labels[train_idx], margin, metric, mining, steps, batch_size,
                                     lr, seed, progress)
    after = _evaluate(project(w, held_emb), held_labels, held_triplets, margin, metric)
    return TrainResult(
        model_id=model_id, margin=float(margin), metric=metric, losses=history, before=before, after=after,
        weight=w, train_size=len(train_idx), heldout_size=len(held_idx),
    )


def _fit_projection(
    train_emb: np.ndarray, train_labels: np.ndarray, margin: float, metric: str, mining: str, steps: int,
    batch_size: int, lr: float, seed: int, progress: Progress,
) -> tuple[np.ndarray, list[float]]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed + 2)
    sampler = TripletSampler(train_labels)
    x = torch.as_tensor(train_emb)
    d = x.shape[1]
    weight = torch.nn.Parameter(torch.eye(d))
    opt = torch.optim.Adam([weight], lr=lr)
    history = []
    for step in range(steps):
        z = torch.nn.functional.normalize(x @ weight.T, dim=-1)
        t = sampler.sample(batch_size, rng, mining, z.detach().numpy() if mining == "hard" else None, metric)
        loss = losses.triplet_loss(z[t.anchor], z[t.positive], z[t.negative], margin=margin, metric=metric)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
        if progress and (step % 25 == 0 or step == steps - 1):
            progress((step + 1) / steps, f"step {step + 1}/{steps}: loss {history[-1]:.4f}")
    return weight.detach().numpy().copy(), history


def summary_rows(result: TrainResult) -> list[dict]:
    """Before/after figures on held-out triplets, as plain rows."""
    keys = [("satisfied", "satisfied triplets (held-out)"), ("active", "active triplets (held-out)"),
            ("loss", "triplet loss (held-out)"), ("probe_accuracy", "linear-probe accuracy (held-out texts)")]
    return [{"figure": name, "before": round(result.before[k], 4), "after": round(result.after[k], 4)} for k, name in keys]
