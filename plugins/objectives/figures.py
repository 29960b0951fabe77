"""Plotly figures of an ``ObjectivesResult`` (no gradio): the intra/inter histograms of
every arm on one axis, the arms' 2-D projections side by side on shared axes, and the
figures over training. Colours are per arm (histograms) and per label (projections)."""
from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .compute import ObjectivesResult
from .options import ARM_NAMES, INIT

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")
ARM_COLOURS = {INIT: "#9c9c9c", "nll": "#e76f51", "contrastive": "#2a6fdb", "scratch": "#8e44ad"}
NAMES = {INIT: "random init", **ARM_NAMES}
FONT = dict(family="Inter, system-ui, sans-serif", size=13)


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=15)), height=height, font=FONT,
                      margin=dict(l=10, r=10, t=56, b=40), template="plotly_white")
    return fig


def _geometries(result: ObjectivesResult) -> dict:
    return {INIT: result.init.geometry, **{k: arm.final.geometry for k, arm in result.arms.items()}}


def histogram_figure(result: ObjectivesResult, with_init: bool = False) -> go.Figure:
    """Intra (solid) and inter (dotted) cosine densities of each arm, on one axis."""
    fig = go.Figure()
    bins = np.linspace(-1, 1, 81)
    centres = (bins[:-1] + bins[1:]) / 2
    for key, g in _geometries(result).items():
        if key == INIT and not with_init:
            continue
        for part, values, dash in (("intra", g.intra, "solid"), ("inter", g.inter, "dot")):
            density, _ = np.histogram(values, bins=bins, density=True)
            fig.add_trace(go.Scatter(x=centres, y=density, mode="lines", name=f"{NAMES[key]}: {part}",
                                     line=dict(color=ARM_COLOURS[key], dash=dash, width=2.5 if part == "intra" else 2)))
    fig.update_xaxes(title="cosine similarity of two texts", range=[-0.3, 1.0])
    fig.update_yaxes(title="density")
    return _layout(fig, "Same domain (solid) vs different domains (dotted), every arm on one axis", 380)


def projection_figure(result: ObjectivesResult) -> go.Figure:
    """PCA of each arm's unit vectors, side by side, points coloured by label."""
    geometries = {k: g for k, g in _geometries(result).items() if k != INIT}
    fig = make_subplots(rows=1, cols=len(geometries), subplot_titles=[NAMES[k] for k in geometries])
    labels = np.asarray(result.labels)
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(result.labels))}
    hover = ["<br>".join(textwrap.wrap(t, 60)[:3]) for t in result.texts]
    for col, g in enumerate(geometries.values(), start=1):
        for label, colour in colours.items():
            rows = np.flatnonzero(labels == label)
            fig.add_trace(go.Scatter(
                x=g.projection[rows, 0], y=g.projection[rows, 1], mode="markers", name=label,
                marker=dict(color=colour, size=6, opacity=0.8), legendgroup=label, showlegend=col == 1,
                text=[hover[i] for i in rows], hovertemplate="%{text}<extra>" + label + "</extra>"), row=1, col=col)
    return _layout(fig, "2-D projection (PCA of the unit vectors), coloured by domain", 420)


def training_figure(result: ObjectivesResult) -> go.Figure:
    """Mean cosine, separation AUC and the LM head's accuracy of each arm at each snapshot."""
    shown = (("mean_cosine", "mean cosine"), ("separation_auc", "separation AUC"), ("token_accuracy", result.token_metric))
    fig = make_subplots(rows=1, cols=3, subplot_titles=[title for _, title in shown])
    for key, arm in result.arms.items():
        snaps = [result.init] + arm.snapshots
        steps = [s.step for s in snaps]
        for col, (figure, _) in enumerate(shown, start=1):
            values = [s.token_accuracy if figure == "token_accuracy" else s.geometry.figures[figure] for s in snaps]
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", name=NAMES[key], legendgroup=key,
                                     showlegend=col == 1, line=dict(color=ARM_COLOURS[key])), row=1, col=col)
    fig.add_hline(y=result.baseline_accuracy, line=dict(color="#999", dash="dash"), row=1, col=3,
                  annotation_text="most frequent piece", annotation_position="bottom right")
    fig.add_vline(x=result.settings.steps, line=dict(color="#bbb", dash="dot"))
    fig.update_xaxes(title="step")
    return _layout(fig, "Over training (the dotted line: where the arms fork)", 360)
