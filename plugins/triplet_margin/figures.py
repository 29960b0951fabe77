"""Triplet margin lab, the figures: plotly figures computed from compute's results."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .compute import SweepResult, TrainResult

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
POS, NEG = "#2b8cbe", "#e34a33"


def sweep_figure(result: SweepResult, margin: float) -> go.Figure:
    """Loss and share of active triplets against the margin α, one line per model."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("triplet loss", "fraction of active triplets"))
    for k, (model_id, s) in enumerate(result.models.items()):
        xs = [r["margin"] for r in s.sweep]
        color = COLORS[k % len(COLORS)]
        fig.add_trace(go.Scatter(x=xs, y=[r["loss"] for r in s.sweep], name=model_id, mode="lines+markers",
                                 line=dict(color=color), legendgroup=model_id), row=1, col=1)
        fig.add_trace(go.Scatter(x=xs, y=[r["fraction_active"] for r in s.sweep], name=model_id,
                                 mode="lines+markers", line=dict(color=color), legendgroup=model_id,
                                 showlegend=False), row=1, col=2)
    for col in (1, 2):
        fig.add_vline(x=margin, line_dash="dash", line_color="gray", row=1, col=col)
        fig.update_xaxes(title_text="margin α", row=1, col=col)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(title=f"Margin sweep ({result.metric} distance, {result.mining} negatives; dashed: α = {margin:g})",
                      height=380, margin=dict(t=70, b=40))
    return fig


def distances_figure(result: SweepResult, margin: float) -> go.Figure:
    """Per model: d(a,p) and d(a,n) histograms (top) and d(a,n) − d(a,p) with the
    margin marked (bottom): triplets left of the line are active."""
    ids = list(result.models)
    titles = [f"{m}: d(a,p) and d(a,n)" for m in ids] + [f"{m}: d(a,n) − d(a,p)" for m in ids]
    fig = make_subplots(rows=2, cols=len(ids), subplot_titles=titles, vertical_spacing=0.16)
    for col, model_id in enumerate(ids, start=1):
        s = result.models[model_id]
        first = col == 1
        fig.add_trace(go.Histogram(x=s.d_ap, name="d(a,p)", marker_color=POS, opacity=0.6, nbinsx=40,
                                   legendgroup="ap", showlegend=first), row=1, col=col)
        fig.add_trace(go.Histogram(x=s.d_an, name="d(a,n)", marker_color=NEG, opacity=0.6, nbinsx=40,
                                   legendgroup="an", showlegend=first), row=1, col=col)
        gap = s.d_an - s.d_ap
        active = float(np.mean(gap < margin))
        fig.add_trace(go.Histogram(x=gap, name="d(a,n) − d(a,p)", marker_color="#636363", opacity=0.8,
                                   nbinsx=40, showlegend=first), row=2, col=col)
        fig.add_vline(x=margin, line_dash="dash", line_color="black", row=2, col=col,
                      annotation_text=f"α = {margin:g}: {active:.0%} active", annotation_position="top right")
        fig.update_xaxes(title_text=f"{result.metric} distance", row=1, col=col)
        fig.update_xaxes(title_text="gap (active where gap < α)", row=2, col=col)
    fig.update_layout(barmode="overlay", height=620, title="Distances on the triplets", margin=dict(t=80))
    return fig


def training_figure(result: TrainResult) -> go.Figure:
    """Training loss per step, and the held-out distances before and after."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=(
        "training loss", "held-out, before", "held-out, after"))
    steps = np.arange(1, len(result.losses) + 1)
    fig.add_trace(go.Scatter(x=steps, y=result.losses, mode="lines", name="loss (batch)",
                             line=dict(color="#555555")), row=1, col=1)
    for col, part in ((2, result.before), (3, result.after)):
        first = col == 2
        fig.add_trace(go.Histogram(x=part["d_ap"], name="d(a,p)", marker_color=POS, opacity=0.6, nbinsx=40,
                                   legendgroup="ap", showlegend=first), row=1, col=col)
        fig.add_trace(go.Histogram(x=part["d_an"], name="d(a,n)", marker_color=NEG, opacity=0.6, nbinsx=40,
                                   legendgroup="an", showlegend=first), row=1, col=col)
        fig.update_xaxes(title_text=f"{result.metric} distance", row=1, col=col)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_layout(
        barmode="overlay", height=380, margin=dict(t=70),
        title=(f"{result.model_id}: linear projection trained with the triplet loss at α = {result.margin:g} "
               f"(satisfied held-out triplets {result.before['satisfied']:.0%} → {result.after['satisfied']:.0%})"),
    )
    return fig
