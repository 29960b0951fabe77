"""``playground run siglip_compare --image PATH --labels "a,b,c" [--clip-model ID] [--siglip-model ID] [--json]``."""
from __future__ import annotations

import argparse

from playground.contract.lab import LabContext
from playground.models.registry import ModelUnavailableError
from playground.science.zero_shot import (
    DEFAULT_TEMPLATE, ENSEMBLE, get_image_text_model, parse_labels, resolve_templates,
)
from playground.data.images import BUNDLED_PREFIX, read_image
from playground.science.zero_shot import plain

from .compute import DEFAULT_CLIP, DEFAULT_SIGLIP, compare, loss_comparison, pick_pair, sigmoid_threshold


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", required=True, help=f"an image file, or {BUNDLED_PREFIX}NAME for a bundled photo")
    parser.add_argument("--labels", required=True, help='comma-separated labels, e.g. "cat,dog,rocket"')
    parser.add_argument(
        "--clip-model", default=None, help=f"the softmax model (default {DEFAULT_CLIP}, else any other softmax model this machine can load; offline there is none, and the command says how to get one)"
    )
    parser.add_argument(
        "--siglip-model", default=None, help=f"the sigmoid model (default {DEFAULT_SIGLIP}, else any other sigmoid model this machine can load)"
    )
    parser.add_argument("--template", default=DEFAULT_TEMPLATE, help="prompt template with {}, or 'ensemble'")
    parser.add_argument("--no-losses", action="store_true", help="skip the losses on the bundled pairs")


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    labels = parse_labels(args.labels)
    templates = resolve_templates(ENSEMBLE if args.template.strip().lower() == "ensemble" else args.template)
    image, name = read_image(args.image)
    clip_id, siglip_id = args.clip_model, args.siglip_model
    if not clip_id or not siglip_id:
        default_clip, default_siglip, note = pick_pair(ctx.registry)
        clip_id, siglip_id = clip_id or default_clip, siglip_id or default_siglip
        if not clip_id or not siglip_id:
            raise ModelUnavailableError(plain(note))
    clip_model = get_image_text_model(ctx.registry, clip_id)
    siglip_model = get_image_text_model(ctx.registry, siglip_id)
    clip, siglip = compare(clip_model, siglip_model, [image], labels, templates, [name])
    result = {
        "clip": clip.to_dict(),
        "siglip": siglip.to_dict(),
        "siglip_threshold_cosine": sigmoid_threshold(siglip.logit_scale, siglip.logit_bias),
    }
    if not args.no_losses:
        clip_losses, siglip_losses = loss_comparison(clip_model, siglip_model)
        result["losses"] = clip_losses.rows() + siglip_losses.rows()
    return result


def format_result(result: dict) -> str:
    lines = []
    for side in ("clip", "siglip"):
        r = result[side]
        bias = "" if r["logit_bias"] is None else f", bias {r['logit_bias']:.3f}"
        lines.append(f"{r['model']} ({r['scoring']}, scale {r['logit_scale']:.3f}{bias}), sum = {r['sum']:.4f}")
        width = max(len(label) for label in r["scores"])
        for label, p in r["scores"].items():
            logit, cos = r["logits"][label], r["cosines"][label]
            lines.append(f"  {label:<{width}}  p={p:.4f}  logit={logit:8.3f}  cos={cos:.4f}")
    if result.get("siglip_threshold_cosine") is not None:
        lines.append(f"the sigmoid model says yes (p > 0.5) when cos > {result['siglip_threshold_cosine']:.4f}")
    if result.get("losses"):
        lines.append(f"{'model':<16} {'loss':<12} {'batch':>5} {'loss':>8} {'chance':>8} {'accuracy':>8}")
        for row in result["losses"]:
            lines.append(
                f"{row['model']:<16} {row['loss_name']:<12} {row['batch']:>5} {row['loss']:>8.4f} "
                f"{row['chance']:>8.4f} {row['accuracy']:>8.2f}"
            )
    return "\n".join(lines)
