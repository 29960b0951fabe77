"""``playground run triplet_margin [--models A,B] [--json]``: the margin sweep, headless.

With ``--json`` it prints one object keyed by model id, each a list of
``{"margin", "loss", "fraction_active"}`` in increasing margin.
"""
from __future__ import annotations

import argparse

from typing import Optional

from playground.contract.lab import LabContext, LabView, Prediction

from . import compute
from .lesson import PREDICT_CHOICES, PREDICT_QUESTION, sweep_reveal

PREDICTION = Prediction(PREDICT_QUESTION, tuple(PREDICT_CHOICES))


def _margins(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--margins must be comma-separated numbers, e.g. 0,0.1,0.2; got {text!r}.") from None
    if not values:
        raise ValueError("--margins is empty; give at least one margin, e.g. 0,0.1,0.2.")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", default=",".join(compute.DEFAULT_MODELS),
                        help="comma-separated text model ids (default: glove,minilm)")
    parser.add_argument("--metric", choices=compute.METRICS, default="cosine", help="distance (default cosine)")
    parser.add_argument("--mining", choices=compute.MININGS, default="random",
                        help="random negatives, or hard (the nearest text with another label)")
    parser.add_argument("--triplets", type=int, default=compute.DEFAULT_TRIPLETS, help="number of triplets (default 300)")
    parser.add_argument("--per-label", type=int, default=compute.DEFAULT_PER_LABEL,
                        help="texts sampled per label (default 50)")
    parser.add_argument("--margins", default=None,
                        help="comma-separated margins (default 0, 0.05, …, 1.0)")
    parser.add_argument("--csv", default=None, help="a text,label CSV to use instead of the bundled corpus")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling texts and triplets (default 0)")


def _sweep(args: argparse.Namespace, ctx: LabContext) -> compute.SweepResult:
    frame = compute.load_texts(args.csv, per_label=args.per_label, seed=args.seed)
    margins = _margins(args.margins) if args.margins else compute.DEFAULT_MARGINS
    return compute.run_sweep(
        ctx.registry, frame, compute.parse_models(args.models), metric=args.metric, mining=args.mining,
        n_triplets=args.triplets, margins=margins, seed=args.seed,
    )


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    return _sweep(args, ctx).sweep_json()


def show(args: argparse.Namespace, ctx: LabContext, prediction: Optional[str]) -> LabView:
    """``run``'s JSON, the tab's sweep and distance plots (at the tab's default α), and the reveal."""
    from .figures import distances_figure, sweep_figure  # plotly only when drawing

    result = _sweep(args, ctx)
    figures = [sweep_figure(result, compute.DEFAULT_MARGIN), distances_figure(result, compute.DEFAULT_MARGIN)]
    return LabView(result.sweep_json(), figures, sweep_reveal(result, prediction))


def format_result(result: dict) -> str:
    lines = []
    for model_id, rows in result.items():
        lines.append(f"{model_id}:")
        lines.append(f"  {'margin':>8}  {'loss':>8}  {'active':>8}")
        for row in rows:
            lines.append(f"  {row['margin']:>8.2f}  {row['loss']:>8.4f}  {row['fraction_active']:>8.1%}")
    return "\n".join(lines)
