"""Plotly figures for the SigLIP-* tab (no gradio)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.science.zero_shot_figures import SIGMOID_COLOUR, SOFTMAX_COLOUR

from .scaling import MB, DeviceCost

_DASHES = ("solid", "dash", "dot", "dashdot")


def device_cost_figure(costs: list[DeviceCost]) -> go.Figure:
    """Per device, against the number of devices k (log axes): peak memory for the loss
    (left) and bytes received from other devices (right), one line per loss and batch size."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=["peak memory per device for the loss", "bytes crossing to each device"])
    batches = sorted({c.batch for c in costs})
    for loss, colour in (("softmax (all-gather)", SOFTMAX_COLOUR), ("sigmoid (ring)", SIGMOID_COLOUR)):
        for dash, batch in zip(_DASHES, batches):
            rows = sorted((c for c in costs if c.loss == loss and c.batch == batch), key=lambda c: c.devices)
            k = [c.devices for c in rows]
            for col, values in ((1, [c.peak_bytes / MB for c in rows]), (2, [c.received_bytes / MB for c in rows])):
                fig.add_trace(go.Scatter(
                    x=k, y=values, mode="lines+markers", line=dict(color=colour, dash=dash),
                    name=f"{loss}, B = {batch:,}", legendgroup=f"{loss}{batch}", showlegend=col == 1,
                    hovertemplate=f"{loss}, B = {batch:,}, " + "k = %{x}: %{y:.1f} MB<extra></extra>",
                ), row=1, col=col)
    fig.update_xaxes(type="log", title_text="devices k", tickvals=sorted({c.devices for c in costs}))
    fig.update_yaxes(type="log", title_text="MB (float32)", row=1, col=1)
    fig.update_yaxes(title_text="MB received (float32)", row=1, col=2)
    fig.update_layout(title="The batch split over k devices: what each device holds and receives",
                      height=460, margin=dict(l=10, r=10, t=90, b=40), legend=dict(orientation="h", y=-0.3))
    return fig


def multilingual_figure(runs) -> go.Figure:
    """Zero-shot accuracy per label language, one group of bars per tokenizer × caption mix."""
    from .languages import LANGUAGE_NAMES
    from .multilingual import chance

    fig = go.Figure()
    for run, colour in zip(runs, ("#9ecae1", "#3182bd", "#fdae6b", "#e6550d")):
        languages = list(run.accuracy)
        fig.add_trace(go.Bar(
            x=[LANGUAGE_NAMES[lang] for lang in languages], y=[run.accuracy[lang] for lang in languages],
            name=f"{run.tokenizer}, {run.captions} captions", marker_color=colour,
            hovertemplate="%{x}: %{y:.1%}<extra>" + f"{run.tokenizer}, {run.captions}" + "</extra>",
        ))
    fig.add_hline(y=chance(), line_dash="dash", annotation_text="chance")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", title_text="zero-shot accuracy")
    fig.update_layout(barmode="group", title="Labels in each language, after English-only or mixed captions",
                      height=420, margin=dict(l=10, r=10, t=70, b=40), legend=dict(orientation="h", y=-0.2))
    return fig


def resolution_figure(costs) -> go.Figure:
    """Tokens against latency and peak activation memory, one point per resolution."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=["image-tower latency (this machine)", "peak activation memory"])
    tokens = [c.tokens for c in costs]
    labels = [f"{c.side}px" for c in costs]
    for col, values, unit in ((1, [c.latency_s for c in costs], "s"), (2, [c.peak_activation_mb for c in costs], "MB")):
        fig.add_trace(go.Scatter(x=tokens, y=values, mode="lines+markers+text", text=labels, textposition="top left",
                                 showlegend=False, hovertemplate="%{x} tokens: %{y:.3f} " + unit + "<extra></extra>"),
                      row=1, col=col)
        fig.update_yaxes(title_text=unit, rangemode="tozero", row=1, col=col)
    fig.update_xaxes(title_text="tokens (patches of 16 px)")
    fig.update_layout(title="ViT-B-16-SigLIP at 224 → 512 px: 196 → 1024 tokens", height=400,
                      margin=dict(l=10, r=10, t=80, b=40))
    return fig


def detail_figure(runs) -> go.Figure:
    """The detail toy: held-out accuracy per input size (bars, tokens and training time in
    the labels) with the most any model can score at that size (a line; at a size where both
    versions of every picture look identical, what every model scores)."""
    names = [f"{r.side} px, {r.tokens} tokens<br>{r.train_seconds:.1f} s to train" for r in runs]
    fig = go.Figure(go.Bar(x=names, y=[r.accuracy for r in runs], name="held-out accuracy", marker_color="#3182bd",
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=names, y=[r.ceiling for r in runs], mode="markers",
                             name="the most any model can score (where the two versions of<br>every picture look "
                                  "identical, every model scores exactly this)",
                             marker=dict(symbol="line-ew-open", size=40, line=dict(width=3, color="#e6550d"))))
    fig.add_hline(y=0.5, line_dash="dash", annotation_text="chance")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", title_text="accuracy")
    fig.update_layout(title="A two-pixel mark decides the label: the same steps at two input sizes", height=380,
                      margin=dict(l=10, r=10, t=70, b=40), legend=dict(orientation="h", y=-0.25))
    return fig
