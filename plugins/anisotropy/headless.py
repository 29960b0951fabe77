"""``playground run anisotropy``: the experiment without a browser.

    playground run anisotropy --models glove,minilm [--data FILE.csv] [--seed N]
        [--noise-scale matched|total|coordinate] [--sigma S] [--noise after|before]
        [--postprocess none|center|whiten[,...]] [--json]

prints, for each model, every figure of ``compute.FIGURES`` (intra_mean, inter_mean,
gap, separation_auc, mean_cosine, alignment, uniformity, probe_accuracy,
probe_accuracy_noisy on the chosen scale, and the noisy probe on each of the three
scales: probe_noisy_matched, probe_noisy_total, probe_noisy_coordinate), then what
the three scales show. With ``--json``: one JSON object keyed by model id (the raw
vectors' figures), plus ``"settings"`` (noise scale, σ, where the noise goes, σ per
coordinate for each model, each model's dimension and the matched dimension) and,
when ``--postprocess`` names centering or whitening,
``"postprocess": {method: {model_id: figures}}``.
"""
from __future__ import annotations

import argparse

from typing import Optional

from playground.contract.lab import LabContext, LabView, Prediction

from .compute import (
    DEFAULT_NOISE_SCALE, DEFAULT_SIGMAS, FIGURES, MAX_ROWS, NOISE_AFTER, NOISE_MODES, NOISE_SCALES, PREDICT_CHOICES,
    PREDICT_QUESTION, analyse, default_models, load_texts, reveal,
)
from .isotropy import POSTPROCESS, parse_postprocess, postprocess_figures
from .noise import noise_reading, sigma_on_largest

META_KEYS = ("settings", "postprocess")


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
    parser.add_argument("--noise-scale", choices=list(NOISE_SCALES), default=DEFAULT_NOISE_SCALE,
                        help="matched (default): every model embedded isometrically in the largest dimension D "
                             "of the run (cosines unchanged), σ the noise vector's expected length there: the same "
                             "noise along every direction; total: σ the noise vector's length in each model's own "
                             "dimension (more noise per direction for a smaller model: favours the larger); "
                             "coordinate: σ on every coordinate of each model's own dimension (favours the smaller)")
    parser.add_argument("--sigma", type=float, default=None,
                        help="noise σ for probe_accuracy_noisy (default "
                             + ", ".join(f"{v:g} for {k}" for k, v in DEFAULT_SIGMAS.items()) + ")")
    parser.add_argument("--noise", choices=list(NOISE_MODES), default=NOISE_AFTER,
                        help="add the noise after L2 normalisation (default) or before it")
    parser.add_argument("--postprocess", default="none", metavar="|".join(POSTPROCESS),
                        help="also re-measure after centering and/or PCA whitening (comma-separated, e.g. "
                             "center,whiten; default none)")


PREDICTION = Prediction(PREDICT_QUESTION, tuple(PREDICT_CHOICES.values()))


def _analyse(args: argparse.Namespace, ctx: LabContext):
    """The run (an ``AnisotropyResult``) and its JSON: ``{model_id: {figure: value}, "settings": {...}}``
    (and ``"postprocess"`` when asked)."""
    methods = parse_postprocess(args.postprocess)
    models = args.models or ",".join(default_models(ctx.registry)[:2])
    frame = load_texts(args.data)
    result = analyse(ctx.registry, models, frame, sigma=args.sigma, noise=args.noise, seed=args.seed,
                     noise_scale=args.noise_scale)
    out = result.figures()
    out["settings"] = {
        "noise_scale": result.noise_scale, "sigma": result.sigma, "noise": result.noise, "seed": result.seed,
        "sigma_per_coordinate": result.sigma_per_coordinate(), "texts": len(frame),
        "dimensions": result.dims(), "matched_dimension": result.common_dim(),
    }
    shifted = [m for m in methods if m != "none"]
    if shifted:
        out["postprocess"] = postprocess_figures(result, shifted)
    return result, out


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    """``{model_id: {figure: value}, "settings": {...}}`` (and ``"postprocess"`` when asked)."""
    return _analyse(args, ctx)[1]


def show(args: argparse.Namespace, ctx: LabContext, prediction: Optional[str]) -> LabView:
    """``run``'s JSON, the tab's plots of the same run, and the reveal of ``prediction``."""
    from .figures import all_figures  # plotly only when drawing

    result, out = _analyse(args, ctx)
    return LabView(out, list(all_figures(result).values()), reveal(result, prediction))


def _table(figures: dict) -> list[str]:
    models = list(figures)
    width = max(12, *(len(m) + 2 for m in models))
    lines = [f"{'figure':<22}" + "".join(f"{m:>{width}}" for m in models)]
    for key in FIGURES:
        lines.append(f"{key:<22}" + "".join(f"{figures[m][key]:>{width}.4f}" for m in models))
    return lines


def format_result(result: dict) -> str:
    """A table per set of vectors: one row per figure, one column per model."""
    raw = {k: v for k, v in result.items() if k not in META_KEYS}
    lines = _table(raw)
    settings = result.get("settings")
    if settings:
        lines.append(f"noise: σ = {settings['sigma']:g} ({settings['noise_scale']}), added {settings['noise']} "
                     "L2 normalisation")
        if "dimensions" in settings:
            largest = sigma_on_largest(settings["sigma"], settings["noise_scale"], settings["matched_dimension"])
            lines += ["", noise_reading(raw, settings["dimensions"], largest)]
    for method, figures in result.get("postprocess", {}).items():
        lines += ["", f"after {method}:", *_table(figures)]
    return "\n".join(lines)
