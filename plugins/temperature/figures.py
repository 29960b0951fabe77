"""Temperature lab, the figures: plotly figures computed from compute's results."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .compute import LiveView, SweepResult

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
POSITIVE, NEGATIVE = "#2ca02c", "#9e9e9e"


def _short(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def summary_figure(result: SweepResult) -> go.Figure:
    """Final loss, alignment and uniformity against τ (log axis); dashed: the frozen embeddings."""
    taus = [t.tau for t in result.taus]
    fig = make_subplots(rows=1, cols=3, subplot_titles=(
        "final training loss", "alignment (lower: positives closer)", "uniformity (lower: more spread)"))
    series = (("loss", [t.loss for t in result.taus]), ("alignment", [t.alignment for t in result.taus]),
              ("uniformity", [t.uniformity for t in result.taus]))
    for col, (name, ys) in enumerate(series, start=1):
        fig.add_trace(go.Scatter(x=taus, y=ys, mode="lines+markers", name=name, showlegend=False,
                                 line=dict(color=PALETTE[col - 1])), row=1, col=col)
        if name in result.frozen:
            fig.add_hline(y=result.frozen[name], line_dash="dash", line_color="gray", row=1, col=col,
                          annotation_text="frozen, no head", annotation_position="bottom right")
        fig.update_xaxes(type="log", title_text="τ", row=1, col=col)
    fig.update_layout(height=360, margin=dict(t=70),
                      title=f"{result.model_id}, positives: {result.positives} — the trained head at each τ")
    return fig


def projections_figure(result: SweepResult) -> go.Figure:
    """One 2-D PCA view of the head's outputs per τ, coloured by label."""
    labels = np.asarray(result.labels)
    names = sorted(set(result.labels))
    fig = make_subplots(rows=1, cols=len(result.taus), subplot_titles=[f"τ = {t.tau:g}" for t in result.taus],
                        horizontal_spacing=0.03)
    hover = np.array([_short(t) for t in result.texts])
    for col, t in enumerate(result.taus, start=1):
        for k, name in enumerate(names):
            mask = labels == name
            fig.add_trace(go.Scatter(
                x=t.coords[mask, 0], y=t.coords[mask, 1], mode="markers", name=name, legendgroup=name,
                showlegend=col == 1, marker=dict(size=5, color=PALETTE[k % len(PALETTE)], opacity=0.75),
                text=hover[mask], hovertemplate="%{text}<extra>" + name + "</extra>",
            ), row=1, col=col)
        # one fixed scale for every τ (outputs are unit vectors), so a shrunken cloud reads as crowding
        fig.update_xaxes(showticklabels=False, range=[-1.1, 1.1], row=1, col=col)
        fig.update_yaxes(showticklabels=False, range=[-1.1, 1.1], scaleanchor=f"x{col if col > 1 else ''}",
                         row=1, col=col)
    fig.update_layout(height=360, margin=dict(t=70),
                      title="The head's outputs in 2-D (PCA, same scale for every τ): "
                            "a shrunken cloud is crowding (a collapse only if the labels mix), an even spread is dispersion")
    return fig


# What the green bar of the per-τ softmax is: the positive the loss trained on.
POSITIVE_SHOWN = {"dropout": "another dropout view of the query (the pair the loss trained on)",
                  "label": "another text with its label (the kind of pair the loss trained on)"}


def softmax_figure(result: SweepResult) -> go.Figure:
    """Per τ, the query's softmax over its batch (its positive first, in green)."""
    fig = make_subplots(rows=1, cols=len(result.taus), shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=[f"τ = {t.tau:g}: H = {t.entropy:.2f}" for t in result.taus])
    keys = result.query.keys
    hover = [f"{result.labels[i]}: {_short(result.texts[i], 70)}" for i in keys]
    if result.positives == "dropout":  # the pair the loss trained on, not a same-label text
        hover[0] = f"the query's other dropout view: {_short(result.texts[result.query.query], 70)}"
    colors = [POSITIVE] + [NEGATIVE] * (len(keys) - 1)
    for col, t in enumerate(result.taus, start=1):
        fig.add_trace(go.Bar(x=list(range(len(keys))), y=t.probabilities, marker_color=colors, showlegend=False,
                             text=hover, hovertemplate="%{text}<br>p = %{y:.3f}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(showticklabels=False, title_text="keys (green: positive)", row=1, col=col)
    positive = POSITIVE_SHOWN[result.positives]
    fig.update_yaxes(range=[0, 1], title_text="softmax probability", row=1, col=1)
    fig.update_layout(height=320, margin=dict(t=90), title=(
        f"One query's softmax over its batch (H: entropy in nats; flat = log {len(keys)} = {np.log(len(keys)):.2f})<br>"
        f"<sup>query ({result.labels[result.query.query]}): {_short(result.texts[result.query.query], 100)}; "
        f"green, its positive: {positive}</sup>"))
    return fig


def live_figure(view: LiveView) -> go.Figure:
    """The query's softmax at τ over frozen embeddings, and how the InfoNCE loss and
    the softmax's entropy move with τ (the marker is the slider's τ)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], specs=[[{}, {"secondary_y": True}]],
                        subplot_titles=(f"softmax at τ = {view.tau:g} (entropy {view.entropy:.2f} nats)",
                                        "InfoNCE loss and entropy against τ"))
    colors = [POSITIVE] + [NEGATIVE] * (len(view.probabilities) - 1)
    hover = [f"{lab}: {_short(t, 70)}" for lab, t in zip(view.key_labels, view.key_texts)]
    fig.add_trace(go.Bar(x=list(range(len(colors))), y=view.probabilities, marker_color=colors, showlegend=False,
                         text=hover, hovertemplate="%{text}<br>p = %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.update_yaxes(range=[0, 1], title_text="probability", row=1, col=1)
    fig.update_xaxes(showticklabels=False, title_text="keys (green: positive)", row=1, col=1)
    fig.add_trace(go.Scatter(x=view.grid, y=view.grid_loss, name="InfoNCE loss", line=dict(color="#1f77b4")),
                  row=1, col=2)
    fig.add_trace(go.Scatter(x=view.grid, y=view.grid_entropy, name="entropy of the softmax",
                             line=dict(color="#ff7f0e", dash="dot")), row=1, col=2, secondary_y=True)
    fig.add_trace(go.Scatter(x=[view.tau], y=[view.loss], mode="markers", name=f"τ = {view.tau:g}",
                             marker=dict(size=12, color="#1f77b4", symbol="diamond")), row=1, col=2)
    fig.add_vline(x=view.tau, line_dash="dash", line_color="gray", row=1, col=2)
    fig.update_xaxes(type="log", title_text="τ", row=1, col=2)
    fig.update_yaxes(title_text="loss", row=1, col=2, secondary_y=False)
    fig.update_yaxes(title_text="entropy (nats)", row=1, col=2, secondary_y=True)
    fig.update_layout(height=360, margin=dict(t=70), legend=dict(orientation="h", y=-0.25))
    return fig
