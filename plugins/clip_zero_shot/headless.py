"""``playground run clip_zero_shot --image PATH --labels "a,b,c" [--model ID] [--json]``."""
from __future__ import annotations

import argparse

from playground.data.images import BUNDLED_PREFIX, bundled_photos, read_image
from playground.contract.lab import LabContext
from playground.models.registry import ModelUnavailableError
from playground.science.zero_shot import plain

from playground.science.zero_shot import (
    DEFAULT_MODEL, DEFAULT_TEMPLATE, ENSEMBLE, classify, get_image_text_model, parse_labels, pick_default_model,
    resolve_templates,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(p.name for p in bundled_photos())
    parser.add_argument(
        "--image", required=True,
        help=f"an image file (PNG, JPEG, ...), or {BUNDLED_PREFIX}NAME for a bundled photo ({names})",
    )
    parser.add_argument("--labels", required=True, help='comma-separated labels, e.g. "cat,dog,rocket"')
    parser.add_argument(
        "--model", default=None,
        help=f"an image-text model id (default: {DEFAULT_MODEL}, else the first image-text model available here)",
    )
    parser.add_argument(
        "--template", default=DEFAULT_TEMPLATE,
        help=f"prompt template with {{}} for the label (default {DEFAULT_TEMPLATE!r}), or 'ensemble'",
    )


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    labels = parse_labels(args.labels)
    templates = resolve_templates(ENSEMBLE if args.template.strip().lower() == "ensemble" else args.template)
    image, name = read_image(args.image)
    note = None
    model_id = args.model
    if not model_id:
        model_id, note = pick_default_model(ctx.registry)
        if model_id is None:
            raise ModelUnavailableError(plain(note))
        if model_id == DEFAULT_MODEL:
            note = None
    model = get_image_text_model(ctx.registry, model_id)
    result = classify(model, [image], labels, templates, [name]).to_dict()
    if note:
        result["note"] = plain(note)
    return result


def format_result(result: dict) -> str:
    bias = "" if result["logit_bias"] is None else f", bias {result['logit_bias']:.3f}"
    lines = []
    if result.get("note"):
        lines.append(f"note: {result['note']}")
    lines += [
        f"model: {result['model']} ({result['scoring']}, scale {result['logit_scale']:.3f}{bias})",
        f"image: {result['image']}",
        f"templates: {', '.join(result['templates'])}",
    ]
    width = max(len(label) for label in result["scores"])
    for label, p in result["scores"].items():
        lines.append(f"  {label:<{width}}  {p:.4f}  {'#' * round(p * 40)}")
    lines.append(f"sum of scores: {result['sum']:.4f}  ({result['seconds']:.3f} s)")
    return "\n".join(lines)
