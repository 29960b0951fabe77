"""Temperature lab, the computation: frozen embeddings in; a small projection head
trained with NT-Xent / InfoNCE at several temperatures τ; per τ the loss, alignment,
uniformity, a 2-D view and the softmax one query puts over its batch. Plus the
same softmax over fixed embeddings for any τ (the live slider).

Why τ matters: the loss divides every cosine by τ before the softmax. A small τ
makes the softmax peaky, so the few nearest negatives get nearly all the gradient;
a large τ spreads the weight over all negatives, so close neighbours are pushed
only gently (Wang & Liu 2021). Which τ spreads the points most is measured, not
assumed: on the default runs the smallest τ (0.01) was the least uniform (not on
every grid: ``lesson`` decides it per run), because with dropout positives the batch
is solved early (the loss falls to near 0 and the push stops) and with same-label
positives the labels crowd into a narrow cone once their cosine gap, divided by τ, is
already a large logit gap; ``lesson.reveal`` says which happened in a given run.

No gradio here: every function is callable from Python, the CLI and tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np
import pandas as pd

from playground.science import losses
from playground.science.geometry import (
    alignment, cosine_matrix, intra_inter_similarities, l2_normalise, positive_pairs, separation_auc, uniformity,
)
from playground.models.gpu import embed_texts
from playground.models.lazy import torch
from playground.science.threads import torch_threads

if TYPE_CHECKING:  # the class needs torch to be defined; see head.py
    from .head import ProjectionHead

DEFAULT_MODEL = "glove"
DEFAULT_TAUS = (0.01, 0.05, 0.1, 0.5, 1.0)
POSITIVES = ("dropout", "label")
POSITIVE_NAMES = {
    "dropout": "two dropout views of the same text (SimCSE-style)",
    "label": "two different texts with the same label",
}
DEFAULT_PER_LABEL = 40
DEFAULT_STEPS = 150
DEFAULT_BATCH = 64
DEFAULT_DROPOUT = 0.1
HEAD_HIDDEN, HEAD_OUT = 64, 32
SOFTMAX_BATCH = 16  # keys shown in the "softmax over the batch" plots
MAX_TAUS = 8

Progress = Optional[Callable[[float, str], None]]


# ------------------------------------------------------------------------ data in
def load_texts(upload=None, per_label: int = DEFAULT_PER_LABEL, seed: int = 0) -> pd.DataFrame:
    """Labelled texts (``text``, ``label``): the bundled corpus or a ``text,label`` CSV;
    at most ``per_label`` per label, a seeded sample."""
    if per_label < 2:
        raise ValueError(f"per_label must be at least 2, got {per_label}.")
    if upload is not None:
        from playground.data.uploads import read_labelled_csv

        frame = read_labelled_csv(upload)
    else:
        from playground.data.corpus import load_corpus

        frame = load_corpus()[["text", "label"]]
    frame = frame.astype({"text": str, "label": str}).drop_duplicates("text")
    parts = [g.sample(n=min(per_label, len(g)), random_state=seed) for _, g in frame.groupby("label", sort=True)]
    return pd.concat(parts).reset_index(drop=True)


def parse_taus(text: str | Sequence[float]) -> list[float]:
    """Temperatures from ``"0.01, 0.05, 0.1"`` (or a list): positive, distinct, sorted."""
    if isinstance(text, str):
        try:
            taus = [float(t) for t in text.replace(";", ",").split(",") if t.strip()]
        except ValueError:
            raise ValueError(f"Temperatures must be numbers separated by commas, e.g. 0.01, 0.1, 1; got {text!r}.") from None
    else:
        taus = [float(t) for t in text]
    if not taus:
        raise ValueError("Give at least one temperature, e.g. 0.01, 0.1, 1.")
    bad = [t for t in taus if not (0.001 <= t <= 10)]
    if bad:
        raise ValueError(f"Temperatures must be between 0.001 and 10; got {', '.join(map(str, bad))}.")
    taus = sorted(set(taus))
    if len(taus) > MAX_TAUS:
        raise ValueError(f"At most {MAX_TAUS} temperatures at once (each trains a head); got {len(taus)}.")
    return taus


def embed(registry, model_id: str, texts: Sequence[str], session: Optional[str] = None) -> np.ndarray:
    """``texts`` embedded by the registry's model (rows L2-normalised, cached per text)."""
    return embed_texts(registry, model_id, texts, session)


# ------------------------------------------------------------ softmax over a batch
def softmax_over_batch(similarities: np.ndarray, tau: float) -> np.ndarray:
    """``softmax(s / τ)`` over the last axis (the query's batch), computed stably."""
    if not tau > 0:
        raise ValueError(f"τ must be > 0, got {tau}.")
    z = np.asarray(similarities, dtype=np.float64) / tau
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def entropy(p: np.ndarray) -> float:
    """Shannon entropy in nats (0 log 0 = 0): log N for a flat softmax, 0 for a one-hot."""
    p = np.asarray(p, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


@dataclass
class QueryBatch:
    """One query, its positive and the negatives it is compared with (text indices);
    ``keys[0]`` is the positive."""

    query: int
    keys: np.ndarray


def pick_query_batch(labels: Sequence, size: int = SOFTMAX_BATCH, seed: int = 0) -> QueryBatch:
    """A fixed query, one same-label positive and ``size − 1`` negatives of other labels."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    with_pair = [i for i in range(len(labels)) if (labels == labels[i]).sum() >= 2]
    if not with_pair:
        raise ValueError("No label has two texts, so no query has a positive. Give each label at least two texts.")
    query = int(rng.choice(with_pair))
    same = np.flatnonzero((labels == labels[query]) & (np.arange(len(labels)) != query))
    others = np.flatnonzero(labels != labels[query])
    if len(others) == 0:
        raise ValueError("Every text has the same label; the query needs negatives with other labels.")
    negatives = rng.choice(others, size=min(size - 1, len(others)), replace=False)
    return QueryBatch(query=query, keys=np.concatenate([[rng.choice(same)], negatives]).astype(int))


def query_softmax(emb: np.ndarray, batch: QueryBatch, tau: float,
                  views: Optional[tuple[np.ndarray, np.ndarray]] = None) -> np.ndarray:
    """The query's softmax over its keys (positive first) at temperature τ. ``views``:
    (query, positive) vectors to use instead of the query's row and its same-label
    positive's (two dropout views of the query, the pair a dropout-trained loss saw)."""
    z = l2_normalise(emb)
    keys, query = z[batch.keys], z[batch.query]
    if views is not None:
        query, positive = l2_normalise(np.asarray(views, dtype=np.float64).reshape(2, -1))
        keys = np.concatenate([positive[None], keys[1:]])
    return softmax_over_batch(keys @ query, tau)


# ------------------------------------------------------------------ live τ (fixed)
@dataclass
class LiveView:
    """The loss and the query's softmax over fixed embeddings at one τ, and how
    both move over a grid of τ (for the curves)."""

    tau: float
    loss: float
    probabilities: np.ndarray
    entropy: float
    key_labels: list[str]
    key_texts: list[str]
    grid: list[float]
    grid_loss: list[float]
    grid_entropy: list[float]
    grid_positive: list[float]  # probability on the positive


def label_pairs_batch(labels: Sequence, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``size`` (query, positive) pairs with the same label: the fixed InfoNCE batch."""
    labels = np.asarray(labels)
    i, j = positive_pairs(labels, max_pairs=100000, seed=seed)
    if len(i) == 0:
        raise ValueError("No two texts share a label; InfoNCE needs same-label pairs.")
    pick = np.random.default_rng(seed).choice(len(i), size=min(size, len(i)), replace=False)
    return i[pick], j[pick]


def live_view(emb: np.ndarray, texts: Sequence[str], labels: Sequence, tau: float, seed: int = 0) -> LiveView:
    """InfoNCE on a fixed batch of same-label pairs and one query's softmax, at τ,
    over the frozen embeddings (nothing is trained: only τ moves)."""
    labels = np.asarray(labels)
    if not 0.001 <= tau <= 10:
        raise ValueError(f"τ must be between 0.001 and 10, got {tau}.")
    batch = pick_query_batch(labels, seed=seed)
    qi, ki = label_pairs_batch(labels, seed=seed)
    q, k = torch.as_tensor(emb[qi]), torch.as_tensor(emb[ki])
    grid = sorted(set(np.round(np.geomspace(0.01, 2.0, 40), 4).tolist()) | {round(float(tau), 4)})
    with torch_threads(1):
        loss_at = {t: float(losses.info_nce(q, k, temperature=t)) for t in grid}
    probs_at = {t: query_softmax(emb, batch, t) for t in grid}
    p = query_softmax(emb, batch, tau)
    return LiveView(
        tau=float(tau), loss=float(losses.info_nce(q, k, temperature=tau)), probabilities=p, entropy=entropy(p),
        key_labels=[str(labels[i]) for i in batch.keys], key_texts=[str(texts[i]) for i in batch.keys],
        grid=grid, grid_loss=[loss_at[t] for t in grid], grid_entropy=[entropy(probs_at[t]) for t in grid],
        grid_positive=[float(probs_at[t][0]) for t in grid],
    )


# ------------------------------------------------------------------- training heads
@dataclass
class TauResult:
    """One τ: the trained head's figures on all texts (no dropout at evaluation)."""

    tau: float
    loss: float  # mean training loss over the last 10% of steps
    alignment: float  # E‖f(x)−f(y)‖² over same-label pairs
    uniformity: float  # log E exp(−2‖f(x)−f(y)‖²) over all pairs
    separation_auc: float  # same-label pairs against other-label pairs, by cosine (1: labels apart)
    intra: float  # mean cosine of same-label pairs
    inter: float  # mean cosine of other-label pairs
    coords: np.ndarray  # (n, 2) PCA of the head's outputs
    probabilities: np.ndarray  # the query's softmax over its batch at this τ
    entropy: float
    history: list[float] = field(default_factory=list)

    def row(self) -> dict:
        return {"tau": self.tau, "loss": self.loss, "alignment": self.alignment, "uniformity": self.uniformity,
                "separation_auc": self.separation_auc}


@dataclass
class SweepResult:
    model_id: str
    positives: str
    texts: list[str]
    labels: list[str]
    query: QueryBatch
    frozen: dict  # alignment and uniformity of the frozen embeddings, for reference
    taus: list[TauResult]

    def sweep_json(self) -> dict:
        """What ``playground run temperature --json`` prints."""
        return {"sweep": [t.row() for t in self.taus]}


def pca_2d(z: np.ndarray) -> np.ndarray:
    """First two principal components (sign fixed so repeated runs look alike)."""
    z = np.asarray(z, dtype=np.float64)
    centred = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:2] * np.sign(vt[:2, :1] + 1e-12)
    out = centred @ vt.T
    return out if out.shape[1] == 2 else np.pad(out, ((0, 0), (0, 2 - out.shape[1])))


def geometry_figures(z: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """(alignment over the given same-label pairs, uniformity over all pairs)."""
    i, j = pairs
    return alignment(z[i], z[j]), uniformity(z)


def label_figures(z: np.ndarray, labels: Sequence) -> dict:
    """Whether the labels stay apart: ``separation_auc`` of same-label against
    other-label cosines, and the mean cosine of each (``intra``, ``inter``)."""
    intra, inter = intra_inter_similarities(cosine_matrix(z), labels)
    return {"separation_auc": separation_auc(intra, inter), "intra": float(intra.mean()), "inter": float(inter.mean())}


def dropout_views(head, emb: np.ndarray, index: int, seed: int) -> np.ndarray:
    """Two dropout views (2, out) of text ``index`` through ``head``, seeded: the kind
    of pair the head was trained to match when its positives are dropout views."""
    torch.manual_seed(seed)
    head.train()
    with torch.no_grad():
        views = head(torch.as_tensor(np.asarray(emb[[index, index]], dtype=np.float32))).numpy()
    head.eval()
    return views.astype(np.float64)


class PairSampler:
    """Batches of (view 1, view 2) text indices: the same text twice (dropout views)
    or two different texts with one label; vectorised, since training draws a
    batch every step."""

    def __init__(self, labels: Sequence, positives: str) -> None:
        if positives not in POSITIVES:
            raise ValueError(f"positives must be one of {', '.join(POSITIVES)}, got {positives!r}.")
        self.positives = positives
        codes = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
        counts = np.bincount(codes)
        self.order = np.argsort(codes, kind="stable")  # text indices grouped by label
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[codes]
        self.sizes = counts[codes]
        self.position = np.empty_like(self.order)
        self.position[self.order] = np.arange(len(codes))
        self.anchors = np.arange(len(codes)) if positives == "dropout" else np.flatnonzero(self.sizes >= 2)
        if len(self.anchors) < 2:
            raise ValueError("Training needs at least two texts that have a positive (same-label texts need a "
                             "label with two texts or more).")

    def sample(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.choice(self.anchors, size=min(size, len(self.anchors)), replace=False)
        if self.positives == "dropout":
            return idx, idx
        k = rng.integers(0, self.sizes[idx] - 1)  # another text of the label: skip the anchor's own slot
        k = k + (k >= self.position[idx] - self.starts[idx])
        return idx, self.order[self.starts[idx] + k]


def train_head(
    emb: np.ndarray, labels: Sequence, tau: float, positives: str = "dropout", steps: int = DEFAULT_STEPS,
    batch_size: int = DEFAULT_BATCH, lr: float = 3e-3, dropout: float = DEFAULT_DROPOUT, seed: int = 0,
) -> tuple[ProjectionHead, list[float]]:
    """Train a fresh head (seeded: every τ starts from the same weights and sees the
    same batches) with NT-Xent at ``tau``; returns the head and the loss per step.

    Positives: ``"dropout"``: the two views of a text differ only by the dropout
    mask on its frozen embedding; ``"label"``: a text and another text with its
    label. Every other view in the batch is a negative.
    """
    if positives == "dropout" and not 0 < dropout < 1:
        raise ValueError(f"With dropout views the dropout rate must be in (0, 1), got {dropout}.")
    sampler = PairSampler(labels, positives)
    torch.manual_seed(seed)
    from .head import ProjectionHead  # defining an nn.Module needs torch: imported on first training

    head = ProjectionHead(emb.shape[1], dropout=dropout)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    x = torch.as_tensor(np.asarray(emb, dtype=np.float32))
    rng = np.random.default_rng(seed)
    history = []
    head.train()
    for _ in range(steps):
        i, j = sampler.sample(rng, batch_size)
        loss = losses.nt_xent(head(x[i]), head(x[j]), temperature=tau)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    head.eval()
    return head, history


def run_sweep(
    registry, frame: pd.DataFrame, model_id: str = DEFAULT_MODEL, taus: Sequence[float] = DEFAULT_TAUS,
    positives: str = "dropout", steps: int = DEFAULT_STEPS, seed: int = 0, session: Optional[str] = None,
    progress: Progress = None,
) -> SweepResult:
    """Embed the texts once, then train one head per τ and measure its geometry."""
    if not 10 <= steps <= 3000:
        raise ValueError(f"steps must be between 10 and 3000, got {steps}.")
    taus = parse_taus(taus)
    texts, labels = frame["text"].tolist(), np.asarray(frame["label"].tolist())
    if len(set(labels)) < 2:
        raise ValueError("The texts need at least two labels (alignment is measured within a label, the query's "
                         "negatives come from other labels).")
    if progress:
        progress(0.0, f"embedding {len(texts)} texts with {model_id}")
    emb = embed(registry, model_id, texts, session)
    pairs = positive_pairs(labels, seed=seed)
    query = pick_query_batch(labels, seed=seed)
    a0, u0 = geometry_figures(l2_normalise(emb), pairs)
    results = []
    with torch_threads(1):
        for k, tau in enumerate(taus):
            if progress:
                progress(k / len(taus), f"training the head at τ = {tau:g} ({k + 1}/{len(taus)})")
            head, history = train_head(emb, labels, tau, positives, steps=steps, seed=seed)
            with torch.no_grad():
                z = head(torch.as_tensor(emb)).numpy().astype(np.float64)
            a, u = geometry_figures(z, pairs)
            views = dropout_views(head, emb, query.query, seed) if positives == "dropout" else None
            p = query_softmax(z, query, tau, views)
            tail = max(1, len(history) // 10)
            results.append(TauResult(
                tau=tau, loss=float(np.mean(history[-tail:])), alignment=a, uniformity=u,
                **label_figures(z, labels), coords=pca_2d(z),
                probabilities=p, entropy=entropy(p), history=history,
            ))
    if progress:
        progress(1.0, "done")
    return SweepResult(model_id=model_id, positives=positives, texts=texts, labels=list(labels), query=query,
                       frozen={"alignment": a0, "uniformity": u0}, taus=results)
