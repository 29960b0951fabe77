"""Plotly figures for the SigLIP-vs-CLIP tab (no gradio)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.science.zero_shot import ZeroShotResult
from playground.science.zero_shot_figures import SIGMOID_COLOUR, SOFTMAX_COLOUR

from .compute import BatchLosses


def _colour(scoring: str) -> str:
    return SOFTMAX_COLOUR if scoring == "softmax" else SIGMOID_COLOUR


def side_by_side_scores(clip: ZeroShotResult, siglip: ZeroShotResult, image: int = 0) -> go.Figure:
    """Both models' probabilities for one image, labels in the order typed, with each panel's sum."""
    titles = [
        f"{r.model_id}: {r.scoring}, sum = {float(r.probabilities[image].sum()):.3f}" for r in (clip, siglip)
    ]
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.08)
    for col, result in enumerate((clip, siglip), start=1):
        probs = [float(p) for p in result.probabilities[image]]
        fig.add_trace(
            go.Bar(
                x=probs, y=result.labels, orientation="h", marker_color=_colour(result.scoring),
                text=[f"{p:.1%}" for p in probs], textposition="outside", cliponaxis=False,
                customdata=[[float(result.logits[image, j]), float(result.cosines[image, j])]
                            for j in range(len(result.labels))],
                hovertemplate="%{y}: p=%{x:.4f}<br>logit=%{customdata[0]:.3f}<br>cos=%{customdata[1]:.4f}"
                              "<extra>" + result.model_id + "</extra>",
                showlegend=False,
            ),
            row=1, col=col,
        )
        fig.update_xaxes(range=[0, 1.15], tickformat=".0%", title_text="probability", row=1, col=col)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(
        title="Same photo, same labels: a softmax shares out 1; a sigmoid scores each label alone",
        height=max(300, 90 + 34 * len(clip.labels)), margin=dict(l=10, r=30, t=100, b=40), title_font_size=14,
    )
    return fig


def losses_figure(clip: BatchLosses, siglip: BatchLosses) -> go.Figure:
    """Each model's own loss against batch size, with the loss of a model that cannot
    tell the pairs apart (dashed), side by side."""
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.1,
        subplot_titles=[f"{b.model_id}: {b.loss_name}" for b in (clip, siglip)],
    )
    for col, losses in enumerate((clip, siglip), start=1):
        colour = _colour(losses.scoring)
        fig.add_trace(
            go.Scatter(
                x=losses.sizes, y=losses.loss, mode="lines+markers", name=f"{losses.model_id}: {losses.loss_name}",
                line=dict(color=colour), customdata=losses.accuracy,
                hovertemplate="N=%{x}: loss %{y:.3f}<br>image→caption accuracy %{customdata:.0%}<extra></extra>",
            ),
            row=1, col=col,
        )
        chance = "log N" if losses.scoring == "softmax" else "all cosines equal"
        fig.add_trace(
            go.Scatter(
                x=losses.sizes, y=losses.chance, mode="lines", name=f"{losses.model_id}: chance ({chance})",
                line=dict(color=colour, dash="dash"),
                hovertemplate="N=%{x}: chance %{y:.3f}<extra></extra>",
            ),
            row=1, col=col,
        )
        fig.update_xaxes(title_text="batch size N (photo–caption pairs)", dtick=1, row=1, col=col)
        fig.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=col)
    fig.update_layout(
        title="Each model's own loss on the bundled photos and captions as the batch grows",
        height=420, margin=dict(l=10, r=10, t=90, b=40), legend=dict(orientation="h", y=-0.25),
    )
    return fig
