"""Plotly figures of a run: similarity snapshots, loss curve, accuracy, batch-size comparison.

Every number drawn comes from a ``TrainResult`` or ``CompareResult``; nothing is hard-coded.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .compute import LOSS_NAMES, LOSSES, CompareResult, TrainResult

LOSS_COLOURS = {"softmax": "#1f77b4", "sigmoid": "#d62728"}


def _short(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def diagonal_hits(matrix: np.ndarray) -> int:
    """Rows (captions) whose most similar image is their own (the diagonal)."""
    return int(np.sum(matrix.argmax(axis=1) == np.arange(len(matrix))))


def snapshot_figure(result: TrainResult) -> go.Figure:
    """One heatmap per snapshot: cosine of each display caption (row) with each
    display image (column). Training should turn it diagonal."""
    n = len(result.snapshots)
    if n == 0:
        return go.Figure().update_layout(title="No snapshots were taken (snapshots = 0)")
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    titles = [
        f"step {step}: {diagonal_hits(m)}/{len(m)} on the diagonal"
        for step, m in zip(result.snapshot_steps, result.snapshots)
    ]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.04, vertical_spacing=0.12)
    captions = [f"{i + 1}. {_short(c)}" for i, c in enumerate(result.display_captions)]
    images = [f"img {i + 1}" for i in range(len(result.display_captions))]
    for k, matrix in enumerate(result.snapshots):
        r, c = k // cols + 1, k % cols + 1
        fig.add_trace(
            go.Heatmap(
                z=matrix, x=images, y=captions, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                showscale=k == 0, colorbar=dict(title="cosine", len=0.8),
                hovertemplate="%{y}<br>%{x}<br>cosine %{z:.2f}<extra></extra>",
            ),
            row=r, col=c,
        )
        fig.update_yaxes(autorange="reversed", showticklabels=c == 1, row=r, col=c)
    fig.update_layout(
        title=f"Caption x image cosine similarity as training goes ({LOSS_NAMES[result.settings.loss]} loss)",
        height=330 * rows + 80, margin=dict(l=10, r=10, t=90, b=10),
    )
    return fig


def loss_figure(result: TrainResult) -> go.Figure:
    """The loss at every step and its running mean."""
    steps = np.arange(1, len(result.losses) + 1)
    losses = np.asarray(result.losses)
    window = min(len(losses), max(5, len(losses) // 40))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=losses, mode="lines", name="loss per step",
                             line=dict(color="lightgray", width=1)))
    fig.add_trace(go.Scatter(x=steps[window - 1:], y=smooth, mode="lines", name=f"mean of {window} steps",
                             line=dict(color=LOSS_COLOURS[result.settings.loss], width=3)))
    fig.update_layout(
        title=f"Training loss ({LOSS_NAMES[result.settings.loss]}, batch {result.settings.batch_size})",
        xaxis_title="step", yaxis_title="loss", height=380, legend=dict(orientation="h", y=-0.2),
    )
    return fig


def accuracy_figure(result: TrainResult) -> go.Figure:
    """Zero-shot accuracy on held-out and seen combinations, against chance."""
    names = ["held-out pairs", "seen pairs", "seen, new colour words"]
    values = [result.heldout_accuracy, result.seen_accuracy, result.unseen_words_accuracy]
    fig = go.Figure(go.Bar(
        x=names, y=values, text=[f"{v:.0%}" for v in values], textposition="outside",
        marker_color=["#2ca02c", "#1f77b4", "#9467bd"],
    ))
    fig.add_hline(y=result.chance, line_dash="dash", line_color="black",
                  annotation_text=f"chance 1/{round(1 / result.chance)}", annotation_position="top left")
    fig.update_layout(
        title="Zero-shot accuracy among 36 prompts",
        yaxis=dict(range=[0, 1.1], tickformat=".0%", title="accuracy"), height=380,
    )
    return fig


def compare_figure(compare) -> go.Figure:
    """Held-out accuracy against batch size, one line per loss, same examples seen.
    ``compare``: one ``CompareResult`` or one per seed (then the mean, with the
    sample standard deviation as error bars)."""
    import statistics

    compares = [compare] if isinstance(compare, CompareResult) else list(compare)
    first = compares[0]
    sizes = sorted({r.batch_size for r in first.rows})
    fig = go.Figure()
    for loss in LOSSES:
        xs = [b for b in sizes if any(r.loss == loss and r.batch_size == b for r in first.rows)]
        if not xs:
            continue
        values = [[c.accuracy(loss, b) for c in compares] for b in xs]
        means = [statistics.mean(v) for v in values]
        sds = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
        fig.add_trace(go.Scatter(
            x=xs, y=means, mode="lines+markers+text", name=LOSS_NAMES[loss],
            text=[f"{m:.0%}" for m in means], textposition="top center",
            error_y=dict(type="data", array=sds, visible=len(compares) > 1),
            line=dict(color=LOSS_COLOURS[loss], width=3), marker=dict(size=10),
            hovertemplate="batch %{x}<br>held-out %{y:.1%}<extra></extra>",
        ))
    fig.add_hline(y=first.chance, line_dash="dash", line_color="black", annotation_text="chance")
    seeds = f", mean ± sd over {len(compares)} seeds" if len(compares) > 1 else ", one seed"
    fig.update_layout(
        title=f"Held-out zero-shot accuracy vs batch size ({first.examples} examples seen per run{seeds})",
        xaxis=dict(type="log", tickvals=sizes, ticktext=[str(s) for s in sizes], title="batch size"),
        yaxis=dict(range=[0, 1.05], tickformat=".0%", title="held-out accuracy"), height=420,
    )
    return fig
