"""Plotly figures of an ``AnisotropyResult`` (no gradio): the sorted cosine heatmap,
intra/inter histograms on axes shared by every model, the 2-D projection and the
noise sweep. Colours and axis ranges are shared across models, so two side-by-side
plots compare by eye."""
from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .compute import NOISE_MODES, AnisotropyResult
from .noise import SCALE_NAMES

# Tableau-10: distinguishable, and readable for the common colour-vision deficiencies.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
INTRA_COLOUR, INTER_COLOUR = "#2a9d8f", "#e76f51"
MODEL_COLOURS = ("#e76f51", "#2a6fdb", "#8e44ad", "#27ae60")
BINS = 48
FONT = dict(family="Inter, system-ui, sans-serif", size=13)


def label_colours(labels: Sequence[str]) -> dict[str, str]:
    """A colour per label, in order of first appearance (stable across plots)."""
    return {label: PALETTE[k % len(PALETTE)] for k, label in enumerate(dict.fromkeys(labels))}


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=15)), height=height, font=FONT,
        margin=dict(l=10, r=10, t=56, b=40), template="plotly_white",
    )
    return fig


def _blocks(labels: np.ndarray) -> list[tuple[str, int, int]]:
    """(label, start, end) of each run of equal labels (the frame is sorted by label)."""
    out, start = [], 0
    for k in range(1, len(labels) + 1):
        if k == len(labels) or labels[k] != labels[start]:
            out.append((str(labels[start]), start, k))
            start = k
    return out


def similarity_range(result: AnisotropyResult) -> tuple[float, float]:
    """The lowest off-diagonal cosine over every model (rounded down to 0.1), and 1."""
    low = min(float(min(r.intra.min(), r.inter.min())) for r in result.reports.values())
    return float(np.floor(low * 10) / 10), 1.0


def heatmap_figure(result: AnisotropyResult, model_id: str) -> go.Figure:
    """The N×N cosine matrix, rows and columns sorted by label, lines between labels.
    The colour scale is the same for every model of the run."""
    report = result.reports[model_id]
    labels = result.frame["label"].to_numpy()
    zmin, zmax = similarity_range(result)
    blocks = _blocks(labels)
    # Category names ("poetry #12") make the hover say which texts a cell compares.
    names = [f"{label} #{k - start + 1}" for label, start, end in blocks for k in range(start, end)]
    fig = go.Figure(
        go.Heatmap(
            z=report.sims.astype(np.float32), x=names, y=names, zmin=zmin, zmax=zmax, colorscale="Viridis",
            colorbar=dict(title=dict(text="cosine"), thickness=12),
            hovertemplate="%{y} × %{x}<br>cosine %{z:.3f}<extra></extra>",
        )
    )
    n = len(labels)
    for _, start, _ in blocks[1:]:
        edge = start - 0.5
        for kw in (dict(x0=edge, x1=edge, y0=-0.5, y1=n - 0.5), dict(y0=edge, y1=edge, x0=-0.5, x1=n - 0.5)):
            fig.add_shape(type="line", line=dict(color="white", width=1.5), **kw)
    ticks = dict(tickvals=[names[(s + e - 1) // 2] for _, s, e in blocks], ticktext=[b[0] for b in blocks],
                 showgrid=False, constrain="domain")
    fig.update_xaxes(**ticks)
    fig.update_yaxes(**ticks, autorange="reversed", scaleanchor="x")
    return _layout(fig, f"{model_id}: cosine of every pair, sorted by label", 470)


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(values, bins=edges)
    return counts / max(len(values), 1) / np.diff(edges)  # a density: each curve has area 1


def histogram_figure(result: AnisotropyResult, model_id: str) -> go.Figure:
    """Densities of intra- and inter-label cosines, means dashed. The x range,
    bins and y range are shared by every model of the run."""
    low, high = similarity_range(result)
    edges = np.linspace(low, high, BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    y_max = 1.08 * max(
        float(_histogram(values, edges).max()) for r in result.reports.values() for values in (r.intra, r.inter)
    )
    report = result.reports[model_id]
    fig = go.Figure()
    for name, values, colour in (("intra-label pairs", report.intra, INTRA_COLOUR),
                                 ("inter-label pairs", report.inter, INTER_COLOUR)):
        fig.add_trace(go.Bar(
            x=centres, y=_histogram(values, edges), width=float(edges[1] - edges[0]), name=f"{name} ({len(values):,})",
            marker=dict(color=colour, line=dict(width=0)), opacity=0.62,
            hovertemplate="cosine %{x:.2f}<br>density %{y:.2f}<extra>" + name + "</extra>",
        ))
        mean = float(values.mean())
        fig.add_vline(x=mean, line=dict(color=colour, dash="dash", width=2))
        fig.add_annotation(x=mean, y=y_max, yanchor="top", showarrow=False, text=f"{mean:.2f}",
                           font=dict(color=colour, size=12), bgcolor="rgba(255,255,255,0.8)")
    fig.update_layout(barmode="overlay", bargap=0,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, bgcolor="rgba(0,0,0,0)"))
    fig.update_xaxes(title="cosine similarity", range=[low, high])
    fig.update_yaxes(title="density", range=[0, y_max])
    f = report.figures
    return _layout(fig, f"{model_id}: gap {f['gap']:.2f}, separation AUC {f['separation_auc']:.2f}", 340)


def _hover_text(frame) -> list[str]:
    out = []
    for text, label, module in zip(frame["text"], frame["label"], frame["module"]):
        wrapped = "<br>".join(textwrap.wrap(textwrap.shorten(str(text), 220, placeholder=" …"), 60))
        source = f" · {module}" if module else ""
        out.append(f"<b>{label}</b>{source}<br>{wrapped}")
    return out


PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def projection_figure(result: AnisotropyResult, model_id: str) -> go.Figure:
    """The texts in 2-D (the run's projection), coloured by label, the text on hover."""
    points = result.projections[model_id]
    frame = result.frame
    labels = frame["label"].to_numpy()
    hover = np.asarray(_hover_text(frame), dtype=object)
    fig = go.Figure()
    for label, colour in label_colours(labels).items():
        mask = labels == label
        fig.add_trace(go.Scatter(
            x=points[mask, 0], y=points[mask, 1], mode="markers", name=str(label),
            marker=dict(color=colour, size=7, opacity=0.85, line=dict(width=0.5, color="white")),
            text=hover[mask], hovertemplate="%{text}<extra></extra>",
        ))
    method = PROJECTION_NAMES.get(result.projection_method, result.projection_method)
    fig.update_xaxes(title=f"{method} 1", zeroline=False, showticklabels=result.projection_method == "pca")
    fig.update_yaxes(title=f"{method} 2", zeroline=False, showticklabels=result.projection_method == "pca")
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), hoverlabel=dict(align="left"))
    return _layout(fig, f"{model_id}: {method} of the vectors, coloured by label", 440)


SWEEP_AXES = {
    "matched": "noise σ: expected length of the noise vector, every model embedded in {d} dimensions",
    "total": "noise σ: expected length of the noise vector in each model's own dimension",
    "coordinate": "noise σ added to every coordinate of each model's own dimension",
}


def sweep_figure(result: AnisotropyResult) -> go.Figure:
    """Linear-probe accuracy against the noise σ, one line per model; chance dashed."""
    fig = go.Figure()
    sigmas = list(result.sweep_sigmas)
    for k, (model_id, report) in enumerate(result.reports.items()):
        fig.add_trace(go.Scatter(
            x=sigmas, y=report.sweep, mode="lines+markers", name=model_id,
            line=dict(color=MODEL_COLOURS[k % len(MODEL_COLOURS)], width=3), marker=dict(size=8),
            hovertemplate=f"{model_id}<br>σ = %{{x}}<br>accuracy %{{y:.3f}}<extra></extra>",
        ))
    chance = float(result.frame["label"].value_counts(normalize=True).max())
    fig.add_hline(y=chance, line=dict(color="grey", dash="dot"),
                  annotation_text=f"majority-label baseline {chance:.2f}", annotation_position="bottom right")
    fig.add_vline(x=result.sigma, line=dict(color="grey", dash="dash"),
                  annotation_text=f"σ = {result.sigma:g}", annotation_position="top right")
    fig.update_xaxes(title=SWEEP_AXES[result.noise_scale].format(d=result.common_dim()))
    fig.update_yaxes(title="probe accuracy on the held-out 80%", range=[0, 1.02])
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    scale = SCALE_NAMES[result.noise_scale]
    return _layout(fig, f"Linear probe under noise ({scale}, added {result.noise} L2 normalisation)", 380)


def all_figures(result: AnisotropyResult) -> dict[str, go.Figure]:
    """Every plot of the run by name (for the PNG downloads)."""
    plots = {}
    for model_id in result.reports:
        plots[f"{model_id}-heatmap"] = heatmap_figure(result, model_id)
        plots[f"{model_id}-histogram"] = histogram_figure(result, model_id)
        if model_id in result.projections:
            plots[f"{model_id}-{result.projection_method}"] = projection_figure(result, model_id)
    plots["noise-sweep"] = sweep_figure(result)
    return plots


def noise_note(noise: str) -> str:
    return NOISE_MODES[noise]
