"""Pictures and plots of a run: positive pairs, patch tokens, loss, probes, neighbours,
the 2-D projection, and the two experiments. Every number drawn comes from a run;
the image grids are built from the very arrays the encoder saw.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .compute import ExperimentResult, SimCLRResult

FEATURE_SETS = {"probe_accuracy": "trained encoder", "random_init_accuracy": "same encoder, untrained",
                "pixel_accuracy": "raw pixels"}
FEATURE_COLOURS = {"probe_accuracy": "#1f77b4", "random_init_accuracy": "#ff7f0e", "pixel_accuracy": "#7f7f7f"}
GAP = 2  # pixels of white between tiles


def _enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement: the pixels stay honest."""
    return np.kron(image, np.ones((scale, scale, 1), dtype=np.uint8))


def tile(rows: Sequence[Sequence[np.ndarray]], scale: int = 3, gap: int = 4) -> np.ndarray:
    """Images (uint8 h x w x 3, all one size) laid out row by row on white."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h * scale + gap) + gap, cols * (w * scale + gap) + gap, 3), 255, dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            y, x = gap + i * (h * scale + gap), gap + j * (w * scale + gap)
            out[y:y + h * scale, x:x + w * scale] = _enlarge(image, scale)
    return out


def pair_grid(originals: np.ndarray, view1: np.ndarray, view2: np.ndarray, scale: int = 3) -> np.ndarray:
    """One row per image: the image, then its two augmented views (a positive pair)."""
    return tile([[o, a, b] for o, a, b in zip(originals, view1, view2)], scale=scale)


def patch_tokens(image: np.ndarray, patch: int, scale: int = 6) -> np.ndarray:
    """The ViT's view of one image: above, the image cut along its patch grid; below,
    the same patches laid in a row, the token sequence the transformer reads
    (a class token joins them in front)."""
    h, w = image.shape[:2]
    big = _enlarge(image, scale)
    p = patch * scale
    n = h // patch
    grid = np.full((n * (p + GAP) + GAP, n * (p + GAP) + GAP, 3), 255, dtype=np.uint8)
    tokens = []
    for i in range(n):
        for j in range(n):
            piece = big[i * p:(i + 1) * p, j * p:(j + 1) * p]
            grid[GAP + i * (p + GAP):GAP + i * (p + GAP) + p, GAP + j * (p + GAP):GAP + j * (p + GAP) + p] = piece
            tokens.append(piece)
    small = [t[::2, ::2] for t in tokens]  # the row of tokens at half size, so it fits under the grid
    q = small[0].shape[0]
    row = np.full((q + 2 * GAP, len(small) * (q + GAP) + GAP, 3), 255, dtype=np.uint8)
    for k, t in enumerate(small):
        row[GAP:GAP + q, GAP + k * (q + GAP):GAP + k * (q + GAP) + q] = t
    width = max(grid.shape[1], row.shape[1])
    pad = lambda a: np.pad(a, ((0, 0), (0, width - a.shape[1]), (0, 0)), constant_values=255)  # noqa: E731
    return np.concatenate([pad(grid), np.full((3 * GAP, width, 3), 255, np.uint8), pad(row)])


def neighbours_grid(result: SimCLRResult, test_images: np.ndarray, scale: int = 3) -> np.ndarray:
    """One row per query: the query, a white gap, then its nearest held-out images
    by cosine of the trained features."""
    blank = np.full_like(test_images[0], 255)
    return tile([[test_images[q], blank, *test_images[nb]] for q, nb in zip(result.queries, result.neighbours)],
                scale=scale)


def loss_figure(result: SimCLRResult) -> go.Figure:
    """NT-Xent per step, its running mean, and log(2N - 1): the loss of an encoder
    that cannot tell the twin from the negatives."""
    losses = np.asarray(result.losses)
    steps = np.arange(1, len(losses) + 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=losses, mode="lines", name="loss per step", line=dict(color="lightgray")))
    if len(losses):
        window = min(len(losses), max(5, len(losses) // 30))
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        fig.add_trace(go.Scatter(x=steps[window - 1:], y=smooth, mode="lines", name=f"mean of {window} steps",
                                 line=dict(color="#1f77b4", width=3)))
    guess = math.log(2 * result.settings.batch_size - 1)
    fig.add_hline(y=guess, line_dash="dash", annotation_text=f"no better than a guess: log(2N-1) = {guess:.2f}")
    stopped = " (stopped early)" if result.stopped else ""
    fig.update_layout(title=f"NT-Xent loss, batch {result.settings.batch_size}, τ = {result.settings.tau:g}{stopped}",
                      xaxis_title="step", yaxis_title="loss", height=360, legend=dict(orientation="h", y=-0.25))
    return fig


# A grouped bar's percentage stands upright above it: side by side, "100%" over "99%" would
# collide with its neighbour's label (issue 30 item 6); the axis leaves room above 100% for it.
BAR_LABELS = dict(textposition="outside", textangle=-90, cliponaxis=False)
BAR_LABELS_TOP = 1.25


def probe_figure(result: SimCLRResult) -> go.Figure:
    """Held-out probe accuracy per attribute: trained, untrained, pixels, and chance."""
    attrs = [p.attribute for p in result.probes]
    fig = go.Figure()
    for key, name in FEATURE_SETS.items():
        values = [getattr(p, key) for p in result.probes]
        fig.add_trace(go.Bar(x=attrs, y=values, name=name, marker_color=FEATURE_COLOURS[key],
                             text=[f"{v:.0%}" for v in values], **BAR_LABELS))
    fig.add_trace(go.Scatter(x=attrs, y=[p.chance for p in result.probes], mode="markers", name="chance",
                             marker=dict(symbol="line-ew-open", size=40, color="black", line=dict(width=3))))
    fig.update_layout(barmode="group", title="Linear probe on held-out images, per attribute",
                      yaxis=dict(range=[0, BAR_LABELS_TOP], tickformat=".0%", title="accuracy"), height=380)
    return fig


def projection_figure(result: SimCLRResult, attribute: str | None = None) -> go.Figure:
    """The held-out images' trained features in 2-D (PCA), coloured by ``attribute``."""
    attribute = attribute or result.main_attribute
    if attribute not in result.test_labels:
        raise ValueError(f"colour by one of {', '.join(result.test_labels)}, got {attribute!r}.")
    labels, names = result.test_labels[attribute], result.class_names[attribute]
    fig = go.Figure()
    for k, name in enumerate(names):
        mask = labels == k
        fig.add_trace(go.Scattergl(x=result.projection[mask, 0], y=result.projection[mask, 1], mode="markers",
                                   name=name, marker=dict(size=6, opacity=0.75)))
    fig.update_layout(title=f"Held-out images in 2-D (PCA of the trained features), coloured by {attribute}",
                      height=460, xaxis_title="PC 1", yaxis_title="PC 2")
    return fig


def augment_figure(experiment: ExperimentResult) -> go.Figure:
    """Probe accuracy per attribute for each run (all augmentations, and without each)."""
    attrs = list(experiment.chance)
    fig = go.Figure()
    for run in experiment.runs:
        values = [run.probes[a] for a in attrs]
        fig.add_trace(go.Bar(x=attrs, y=values, name=run.label, text=[f"{v:.0%}" for v in values], **BAR_LABELS))
    fig.add_trace(go.Scatter(x=attrs, y=[experiment.chance[a] for a in attrs], mode="markers", name="chance",
                             marker=dict(symbol="line-ew-open", size=40, color="black", line=dict(width=3))))
    fig.update_layout(barmode="group", title="What survives: probe accuracy per attribute, by augmentations used",
                      yaxis=dict(range=[0, BAR_LABELS_TOP], tickformat=".0%", title="held-out probe accuracy"), height=400)
    return fig


def batch_figure(experiment: ExperimentResult) -> go.Figure:
    """Probe accuracy of the main attribute against batch size, same images seen per run."""
    main = experiment.main_attribute
    runs = sorted(experiment.runs, key=lambda r: r.batch_size)
    fig = go.Figure(go.Scatter(
        x=[r.batch_size for r in runs], y=[r.probes[main] for r in runs], mode="lines+markers+text",
        text=[f"{r.probes[main]:.1%}" for r in runs], textposition="top center", name="trained encoder",
        customdata=[[r.steps, r.final_loss] for r in runs], line=dict(width=3), marker=dict(size=10),
        hovertemplate="batch %{x}<br>probe %{y:.1%}<br>%{customdata[0]} steps<br>final loss %{customdata[1]:.2f}<extra></extra>",
    ))
    fig.add_hline(y=experiment.random_init[main], line_dash="dot", line_color="#ff7f0e", annotation_text="untrained")
    fig.add_hline(y=experiment.pixels[main], line_dash="dot", line_color="#7f7f7f", annotation_text="raw pixels",
                  annotation_position="bottom right")
    sizes = [r.batch_size for r in runs]
    images = runs[0].steps * runs[0].batch_size if runs else 0
    fig.update_layout(
        title=f"Held-out {main} probe vs batch size (about {images} images seen per run)",
        xaxis=dict(type="log", tickvals=sizes, ticktext=[str(s) for s in sizes], title="batch size (2N views, 2N-2 negatives each)"),
        yaxis=dict(tickformat=".0%", title=f"{main} probe accuracy"), height=400,
    )
    return fig
