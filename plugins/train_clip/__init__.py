"""Lab ``train_clip``: train a tiny CLIP (softmax loss) or SigLIP (sigmoid loss) from scratch
on generated captioned shapes, watch the similarity matrix turn diagonal, measure zero-shot
accuracy on colour x shape pairs never seen in training, and compare the two losses across
batch sizes. The trained model joins the registry (for the session) as an image-text model.
"""
from __future__ import annotations

import argparse

from playground import Lab, hookimpl
from playground.contract.lab import Prediction

LAB_ID = "train_clip"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .compute import COMPARE_BATCH_SIZES, COMPARE_EXAMPLES, IMAGE_TOWERS, LOSSES, TEXT_TOWERS, TrainSettings

    d = TrainSettings()
    parser.add_argument("--loss", choices=LOSSES, default=d.loss, help="softmax (CLIP) or sigmoid (SigLIP); default %(default)s")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="pairs per step (default %(default)s)")
    parser.add_argument("--steps", type=int, default=d.steps, help="optimiser steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d.seed, help="seeds the data and the weights (default %(default)s)")
    parser.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (default %(default)s)")
    parser.add_argument("--image-tower", choices=IMAGE_TOWERS, default=d.image_tower, help="default %(default)s")
    parser.add_argument("--text-tower", choices=TEXT_TOWERS, default=d.text_tower,
                        help="minilm (frozen, bundled) or bow (trainable bag of words); default %(default)s")
    parser.add_argument("--bias-init", type=float, default=d.bias_init,
                        help="the SigLIP bias at step 0 (default %(default)s, the SigLIP paper's)")
    parser.add_argument("--compare", action="store_true",
                        help="train both losses at each of --batch-sizes for the same --examples each")
    parser.add_argument("--batch-sizes", default=",".join(map(str, COMPARE_BATCH_SIZES)), help="for --compare: comma-separated (default %(default)s)")
    parser.add_argument("--examples", type=int, default=COMPARE_EXAMPLES, help="for --compare: examples seen per run (default %(default)s)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="for --compare: repeat with this many seeds (--seed, --seed+1, ...) and report "
                             "mean, sample standard deviation, min and max per loss and batch size (default 1)")


def seeds_summary(compares, seeds) -> dict:
    """Every run of every seed, and per (loss, batch size) the mean, sample standard
    deviation, min and max of held-out accuracy over the seeds."""
    from .lesson import accuracies, spread

    runs = [{**row, "seed": seed} for c, seed in zip(compares, seeds) for row in c.summary()["runs"]]
    cells = sorted({(r["loss"], r["batch_size"]) for r in runs})
    stats = []
    for loss, b in cells:
        acc = accuracies(compares, loss, b)
        mean, sd = spread(acc)
        stats.append({"loss": loss, "batch_size": b, "mean": round(mean, 4), "sd": round(sd, 4),
                      "min": round(min(acc), 4), "max": round(max(acc), 4)})
    return {"chance": round(compares[0].chance, 4), "examples_per_run": compares[0].examples, "seeds": list(seeds),
            "runs": runs, "spread": stats}


def _batch_sizes(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--batch-sizes must be whole numbers separated by commas, like 8,32,128; got {text!r}.") from None


def _settings(args: argparse.Namespace, ctx):
    """The run's ``TrainSettings`` and the frozen text tower's ``embed`` (None for bow)."""
    from .compute import TrainSettings

    settings = TrainSettings(
        loss=args.loss, batch_size=args.batch_size, steps=args.steps, seed=args.seed, lr=args.lr,
        image_tower=args.image_tower, text_tower=args.text_tower, bias_init=args.bias_init,
    )
    embed = (lambda texts: ctx.registry.get("minilm").encode_texts(texts)) if settings.text_tower == "minilm" else None
    return settings, embed


def _compare(args: argparse.Namespace, settings, embed):
    """``--compare``: each seed's comparison of the two losses across batch sizes, and the JSON."""
    from .compute import TrainSettings, compare_batch_sizes

    sizes = _batch_sizes(args.batch_sizes)
    if not 1 <= args.seeds <= 20:
        raise ValueError(f"--seeds must be between 1 and 20, got {args.seeds}.")
    compares = []
    for k in range(args.seeds):
        base = TrainSettings(**{**settings.__dict__, "batch_size": max(sizes, default=2), "seed": args.seed + k})
        base.validate()
        compares.append(compare_batch_sizes(base, sizes, args.examples, embed))
    if args.seeds == 1:
        return compares, compares[0].summary()
    return compares, seeds_summary(compares, [args.seed + k for k in range(args.seeds)])


def run(args: argparse.Namespace, ctx) -> dict:
    from .compute import train_clip

    settings, embed = _settings(args, ctx)
    if args.compare:
        return _compare(args, settings, embed)[1]
    return train_clip(settings, embed).summary()


def show(args: argparse.Namespace, ctx, prediction):
    """``run``'s JSON with the tab's plots of the same run; a single run also reveals the
    held-out prediction (``--compare`` answers another question, asked in the tab)."""
    from playground.contract.lab import LabView

    from . import lesson
    from .compute import train_clip
    from .figures import accuracy_figure, compare_figure, loss_figure, snapshot_figure

    settings, embed = _settings(args, ctx)
    if args.compare:
        compares, summary = _compare(args, settings, embed)
        return LabView(summary, [compare_figure(compare) for compare in compares])
    result = train_clip(settings, embed)
    return LabView(result.summary(), [snapshot_figure(result), loss_figure(result), accuracy_figure(result)],
                   lesson.reveal_heldout(prediction, result))


def format_result(result: dict) -> str:
    if "runs" in result:
        lines = [f"{'loss':<8} {'batch':>5} {'steps':>6} {'held-out':>9} {'seen':>6} {'final loss':>10} {'seconds':>8}"]
        for r in result["runs"]:
            lines.append(f"{r['loss']:<8} {r['batch_size']:>5} {r['steps']:>6} {r['heldout_accuracy']:>9.1%} "
                         f"{r['seen_accuracy']:>6.1%} {r['final_loss']:>10.3f} {r['seconds']:>8.1f}")
        lines.append(f"chance {result['chance']:.1%}; {result['examples_per_run']} examples seen per run")
        for row in result.get("spread", []):
            lines.append(f"{row['loss']:<8} {row['batch_size']:>5}  held-out over seeds {result['seeds']}: "
                         f"{row['mean']:.1%} ± {row['sd']:.1%} (range {row['min']:.1%}–{row['max']:.1%})")
        return "\n".join(lines)
    s = result["settings"]
    return "\n".join([
        f"{s['loss']} loss, {s['image_tower']} + {s['text_tower']}, batch {s['batch_size']}, {s['steps']} steps, seed {s['seed']}",
        f"heldout_accuracy: {result['heldout_accuracy']:.4f}   ({', '.join(result['heldout_combinations'])})",
        f"seen_accuracy:    {result['seen_accuracy']:.4f}",
        f"chance:           {result['chance']:.4f}",
        f"final_loss:       {result['final_loss']:.4f}",
        f"seconds:          {result['seconds']:.2f}",
        f"held-out colour / shape right: {result['heldout_colour_accuracy']:.3f} / {result['heldout_shape_accuracy']:.3f}; "
        f"unseen colour words: {result['unseen_words_accuracy']:.3f}",
    ])


def build(ctx) -> None:
    from .ui import build as build_ui

    build_ui(ctx)


@hookimpl
def register_labs(register):
    from .lesson import HELDOUT_CHOICES, HELDOUT_QUESTION

    register(Lab(
        id=LAB_ID,
        title="Train a CLIP",
        build=build,
        order=80,
        description="Train a tiny CLIP (softmax) or SigLIP (sigmoid) from scratch on generated shapes, "
                    "and test zero-shot on pairs it never saw.",
        add_arguments=add_arguments,
        run=run,
        format_result=format_result,
        prediction=Prediction(HELDOUT_QUESTION, tuple(HELDOUT_CHOICES)),
        show=show,
    ))
