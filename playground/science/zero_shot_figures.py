"""Plotly figures of zero-shot scores, drawn from a ``ZeroShotResult`` (no gradio)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from playground.science.zero_shot import ZeroShotResult

SOFTMAX_COLOUR = "#4c72b0"
SIGMOID_COLOUR = "#dd8452"


def scoring_note(result: ZeroShotResult) -> str:
    if result.scoring == "softmax":
        return "softmax over the labels: they sum to 1"
    return "a sigmoid per label: each is independent, no sum to 1"


def scores_figure(result: ZeroShotResult, image: int = 0, title: str | None = None) -> go.Figure:
    """Horizontal bars of one image's probabilities, the highest on top."""
    ranked = result.ranked(image)[::-1]  # plotly draws the first bar at the bottom
    labels = [label for label, _ in ranked]
    probs = [p for _, p in ranked]
    colour = SOFTMAX_COLOUR if result.scoring == "softmax" else SIGMOID_COLOUR
    index = {label: j for j, label in enumerate(result.labels)}
    logits = [float(result.logits[image, index[label]]) for label in labels]
    cosines = [float(result.cosines[image, index[label]]) for label in labels]
    fig = go.Figure(
        go.Bar(
            x=probs, y=labels, orientation="h", marker_color=colour,
            text=[f"{p:.1%}" for p in probs], textposition="outside", cliponaxis=False,
            customdata=np.stack([logits, cosines], axis=1),
            hovertemplate="%{y}: p=%{x:.4f}<br>logit=%{customdata[0]:.3f}<br>cos=%{customdata[1]:.4f}<extra></extra>",
        )
    )
    total = float(result.probabilities[image].sum())
    fig.update_layout(
        # Two lines: in a half-width column one line of model, note and sum was cut off.
        title=title or f"{result.model_id} (sum = {total:.3f})<br><sup>{scoring_note(result)}</sup>",
        xaxis=dict(title="probability", range=[0, 1.12], tickformat=".0%"),
        yaxis=dict(title=None, automargin=True),
        height=max(260, 70 + 32 * len(labels)), margin=dict(l=10, r=30, t=70, b=40),
    )
    return fig


def matrix_figure(result: ZeroShotResult, title: str | None = None) -> go.Figure:
    """The image × label heatmap of probabilities, the cosine similarity in each
    cell's hover and each row's sum beside the photo's name (1 for softmax, free for sigmoid)."""
    probs = result.probabilities
    sums = probs.sum(axis=1)
    text = [[f"{p:.2f}" for p in row] for row in probs]
    fig = go.Figure(
        go.Heatmap(
            z=probs, x=result.labels, y=result.image_names, zmin=0, zmax=1, colorscale="Viridis",
            text=text, texttemplate="%{text}", customdata=result.cosines,
            hovertemplate="%{y} × %{x}<br>p=%{z:.4f}<br>cos=%{customdata:.4f}<extra></extra>",
            colorbar=dict(title="p"),
        )
    )
    # each row's sum goes beside its name: on the right it would sit under the colour bar
    names_with_sums = [f"{name}  Σ={total:.2f}" for name, total in zip(result.image_names, sums)]
    fig.update_layout(
        title=title or f"{result.model_id}: image × label probabilities ({scoring_note(result)})",
        xaxis=dict(title="label", side="bottom"),
        yaxis=dict(title=None, autorange="reversed", automargin=True, tickmode="array",
                   tickvals=list(result.image_names), ticktext=names_with_sums),
        height=max(320, 120 + 40 * len(result.image_names)), margin=dict(l=10, r=30, t=60, b=60),
    )
    return fig
