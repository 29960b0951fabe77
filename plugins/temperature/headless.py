"""``playground run temperature [--json]``: train a head at each τ and print its figures.

With ``--json`` it prints ``{"sweep": [{"tau", "loss", "alignment", "uniformity"}, ...]}``
in increasing τ.
"""
from __future__ import annotations

import argparse

from typing import Optional

from playground.contract.lab import LabContext, LabView, Prediction

from . import compute
from .lesson import PREDICT_CHOICES, PREDICT_QUESTION

PREDICTION = Prediction(PREDICT_QUESTION, tuple(PREDICT_CHOICES))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=compute.DEFAULT_MODEL, help=f"text model id (default {compute.DEFAULT_MODEL})")
    parser.add_argument("--taus", default=",".join(f"{t:g}" for t in compute.DEFAULT_TAUS),
                        help="comma-separated temperatures (default 0.01,0.05,0.1,0.5,1)")
    parser.add_argument("--positives", choices=compute.POSITIVES, default="dropout",
                        help="dropout: two dropout views of a text (SimCSE); label: two texts with one label")
    parser.add_argument("--steps", type=int, default=compute.DEFAULT_STEPS, help="training steps per τ (default 150)")
    parser.add_argument("--per-label", type=int, default=compute.DEFAULT_PER_LABEL,
                        help="texts sampled per label from the bundled corpus (default 40)")
    parser.add_argument("--csv", default=None, help="a text,label CSV to use instead of the bundled corpus")
    parser.add_argument("--seed", type=int, default=0, help="seed for the sample, the heads and the batches")


def _sweep(args: argparse.Namespace, ctx: LabContext) -> compute.SweepResult:
    frame = compute.load_texts(args.csv, per_label=args.per_label, seed=args.seed)
    return compute.run_sweep(ctx.registry, frame, args.model, taus=compute.parse_taus(args.taus),
                             positives=args.positives, steps=args.steps, seed=args.seed)


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    return _sweep(args, ctx).sweep_json()


def show(args: argparse.Namespace, ctx: LabContext, prediction: Optional[str]) -> LabView:
    """``run``'s JSON, the tab's three plots of the same sweep, and the reveal of ``prediction``."""
    from .figures import projections_figure, softmax_figure, summary_figure  # plotly only when drawing
    from .lesson import reveal

    result = _sweep(args, ctx)
    figures = [summary_figure(result), projections_figure(result), softmax_figure(result)]
    return LabView(result.sweep_json(), figures, reveal(result, prediction))


def format_result(result: dict) -> str:
    lines = [f"{'tau':>8}  {'loss':>8}  {'alignment':>10}  {'uniformity':>10}"]
    for row in result["sweep"]:
        lines.append(f"{row['tau']:>8g}  {row['loss']:>8.4f}  {row['alignment']:>10.4f}  {row['uniformity']:>10.4f}")
    return "\n".join(lines)
