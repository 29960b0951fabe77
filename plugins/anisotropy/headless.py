"""``playground run anisotropy``: the experiment without a browser.

    playground run anisotropy --models glove,minilm [--data FILE.csv] [--seed N] [--json]

prints, for each model, every figure of ``compute.FIGURES`` (intra_mean, inter_mean,
gap, separation_auc, mean_cosine, alignment, uniformity, probe_accuracy,
probe_accuracy_noisy). With ``--json``: one JSON object keyed by model id.
"""
from __future__ import annotations

import argparse

from playground.lab import LabContext

from .compute import DEFAULT_SIGMA, FIGURES, MAX_ROWS, NOISE_AFTER, NOISE_MODES, analyse, default_models, load_texts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models", default=None,
        help="comma-separated model ids to compare (default: bert-base-uncased,minilm where BERT can be "
             "loaded, else glove,minilm; `playground models` lists them)",
    )
    parser.add_argument(
        "--data", default=None, metavar="FILE.csv",
        help=f"a UTF-8 CSV with columns text,label (at most {MAX_ROWS} rows, at least two labels); "
             "default: the bundled four-domain corpus",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the probe's split and of the noise (default 0)")
    parser.add_argument("--sigma", type=float, default=DEFAULT_SIGMA,
                        help=f"noise σ for probe_accuracy_noisy (default {DEFAULT_SIGMA})")
    parser.add_argument("--noise", choices=list(NOISE_MODES), default=NOISE_AFTER,
                        help="add the noise after L2 normalisation (default) or before it")


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    """``{model_id: {figure: value}}`` for the chosen models and texts."""
    models = args.models or ",".join(default_models(ctx.registry)[:2])
    frame = load_texts(args.data)
    result = analyse(ctx.registry, models, frame, sigma=args.sigma, noise=args.noise, seed=args.seed)
    return result.figures()


def format_result(result: dict) -> str:
    """A table: one row per figure, one column per model."""
    models = list(result)
    width = max(12, *(len(m) + 2 for m in models))
    lines = [f"{'figure':<22}" + "".join(f"{m:>{width}}" for m in models)]
    for key in FIGURES:
        lines.append(f"{key:<22}" + "".join(f"{result[m][key]:>{width}.4f}" for m in models))
    return "\n".join(lines)
