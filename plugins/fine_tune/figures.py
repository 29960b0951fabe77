"""Plotly figures of a fine-tune run: metrics before/after, the loss curve, and the
similarity histograms of positive vs random pairs. Everything is computed from a
``FineTuneResult``; nothing is drawn by hand."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .metrics import METRIC_NAMES

BEFORE_COLOUR = "#9aa5b1"
AFTER_COLOUR = "#2a6fdb"
POSITIVE_COLOUR = "#2ca02c"
RANDOM_COLOUR = "#d62728"


def metrics_figure(before: dict[str, float], after: dict[str, float]) -> go.Figure:
    """Grouped bars: each retrieval metric before and after fine-tuning."""
    fig = go.Figure()
    for label, values, colour in (("before", before, BEFORE_COLOUR), ("after", after, AFTER_COLOUR)):
        fig.add_bar(
            name=label, x=list(METRIC_NAMES), y=[values[m] for m in METRIC_NAMES], marker_color=colour,
            text=[f"{values[m]:.3f}" for m in METRIC_NAMES], textposition="outside",
        )
    fig.update_layout(
        title="Retrieval on held-out queries", barmode="group", yaxis=dict(range=[0, 1.08], title="score"),
        legend=dict(orientation="h", y=-0.15), margin=dict(t=50, b=40),
    )
    return fig


def loss_figure(losses: list[float], window: int = 5) -> go.Figure:
    """The InfoNCE loss of every step, and its running mean over ``window`` steps."""
    steps = np.arange(1, len(losses) + 1)
    fig = go.Figure()
    fig.add_scatter(x=steps, y=losses, mode="lines+markers", name="loss per batch", line=dict(color="#bbbbbb"),
                    marker=dict(size=4))
    if len(losses):
        kernel = min(window, len(losses))
        running = np.convolve(losses, np.ones(kernel) / kernel, mode="valid")
        fig.add_scatter(x=steps[kernel - 1:], y=running, mode="lines", name=f"running mean ({kernel} steps)",
                        line=dict(color=AFTER_COLOUR, width=3))
    fig.update_layout(title="Training loss (in-batch negatives)", xaxis_title="step", yaxis_title="loss",
                      legend=dict(orientation="h", y=-0.2), margin=dict(t=50, b=40))
    return fig


def similarity_figure(before_pos, before_rand, after_pos, after_rand) -> go.Figure:
    """Histograms of cos(query, its passage) and cos(query, a random passage), before
    and after, on one shared axis so the gap between the two can be compared."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("before", "after"))
    bins = dict(start=-0.3, end=1.0, size=0.04)
    for col, (pos, rand) in enumerate(((before_pos, before_rand), (after_pos, after_rand)), start=1):
        for values, name, colour in ((pos, "query · its passage", POSITIVE_COLOUR),
                                     (rand, "query · random passage", RANDOM_COLOUR)):
            fig.add_histogram(x=np.asarray(values), xbins=bins, name=name, marker_color=colour, opacity=0.6,
                              legendgroup=name, showlegend=col == 1, row=1, col=col)
    fig.update_layout(title="Cosine similarity of positive vs random pairs (held-out)", barmode="overlay",
                      legend=dict(orientation="h", y=-0.2), margin=dict(t=70, b=40))
    fig.update_xaxes(title_text="cosine", range=[-0.3, 1.0])
    fig.update_yaxes(title_text="pairs", row=1, col=1)
    return fig


def result_figures(result) -> dict[str, go.Figure]:
    """All figures of a ``FineTuneResult``, by name."""
    return {
        "metrics": metrics_figure(result.before.metrics, result.after.metrics),
        "loss": loss_figure(result.log.losses),
        "similarity": similarity_figure(result.before.positive, result.before.random,
                                        result.after.positive, result.after.random),
    }
