"""Lab ``simclr``: SimCLR on real digits or generated shapes, with a small CNN or a tiny
ViT. The augmentations make the positives, the batch makes the negatives; linear probes
on held-out images, per attribute, against the untrained encoder and the raw pixels;
what you augment away is forgotten; probe accuracy against batch size.
"""
from __future__ import annotations

import argparse

from playground import Lab, hookimpl
from playground.contract.lab import Prediction

LAB_ID = "simclr"
EXPERIMENTS = ("augment", "batch")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .compute import MAX_STEPS, SWEEP_BATCH_SIZES, SWEEP_IMAGES, SimCLRSettings
    from .data import DATASETS
    from .options import AUGMENTATIONS, ENCODERS

    d = SimCLRSettings()
    parser.add_argument("--data", choices=DATASETS, default=d.data, help="default %(default)s")
    parser.add_argument("--encoder", choices=ENCODERS, default=d.encoder, help="default %(default)s")
    parser.add_argument("--augment", default=",".join(d.augment),
                        help=f"comma-separated, from {','.join(AUGMENTATIONS)} (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="images per step (default %(default)s)")
    parser.add_argument("--steps", type=int, default=d.steps, help=f"optimiser steps, at most {MAX_STEPS} (default %(default)s)")
    parser.add_argument("--tau", type=float, default=d.tau, help="NT-Xent temperature (default %(default)s)")
    parser.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d.seed, help="seeds data split, weights, batches, augmentations (default %(default)s)")
    parser.add_argument("--experiment", choices=EXPERIMENTS,
                        help="augment: all vs without colour vs without crop (on shapes); "
                             "batch: each of --batch-sizes for the same --images")
    parser.add_argument("--batch-sizes", default=",".join(map(str, SWEEP_BATCH_SIZES)),
                        help="for --experiment batch (default %(default)s)")
    parser.add_argument("--images", type=int, default=SWEEP_IMAGES, help="for --experiment batch: images seen per run (default %(default)s)")


def _batch_sizes(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--batch-sizes must be whole numbers separated by commas, like 16,64,256; got {text!r}.") from None


def _settings(args: argparse.Namespace):
    from .compute import SimCLRSettings

    return SimCLRSettings(data=args.data, encoder=args.encoder, augment=tuple(args.augment.split(",")),
                          batch_size=args.batch_size, steps=args.steps, tau=args.tau, lr=args.lr, seed=args.seed)


def _experiment(args: argparse.Namespace):
    """The run (a ``SimCLRResult``, or an ``ExperimentResult`` for ``--experiment``)."""
    from dataclasses import replace

    from .compute import augment_away, batch_size_sweep, train_simclr

    settings = _settings(args)
    if args.experiment == "augment":
        return augment_away(replace(settings, data="shapes"))
    if args.experiment == "batch":
        return batch_size_sweep(settings, _batch_sizes(args.batch_sizes), args.images)
    return train_simclr(settings)


def run(args: argparse.Namespace, ctx=None) -> dict:
    return _experiment(args).summary()


def show(args: argparse.Namespace, ctx, prediction):
    """``run``'s JSON with the tab's plots of the same run. The lab's notebook question is the
    augment experiment's, so only ``--experiment augment`` reveals the prediction."""
    from playground.contract.lab import LabView

    from . import lesson
    from .figures import augment_figure, batch_figure, loss_figure, probe_figure, projection_figure

    result = _experiment(args)
    if args.experiment == "augment":
        return LabView(result.summary(), [augment_figure(result)], lesson.reveal_augment(prediction, result))
    if args.experiment == "batch":
        return LabView(result.summary(), [batch_figure(result)])
    return LabView(result.summary(), [loss_figure(result), probe_figure(result), projection_figure(result)])


def format_result(result: dict) -> str:
    if "runs" in result:
        attrs = list(result["chance"])
        lines = [f"{'run':<16} {'batch':>5} {'steps':>5} " + " ".join(f"{a:>9}" for a in attrs) + f" {'loss':>6} {'seconds':>7}"]
        for r in result["runs"]:
            lines.append(f"{r['label']:<16} {r['batch_size']:>5} {r['steps']:>5} "
                         + " ".join(f"{r['probes'][a]:>9.1%}" for a in attrs) + f" {r['final_loss']:>6.3f} {r['seconds']:>7.1f}")
        for name in ("random_init", "pixels", "chance"):
            lines.append(f"{name:<28} " + " ".join(f"{result[name][a]:>9.1%}" for a in attrs))
        return "\n".join(lines)
    s = result["settings"]
    lines = [
        f"{s['encoder']} on {s['data']}, augment {','.join(s['augment'])}, batch {s['batch_size']}, "
        f"{result['steps_done']} steps, tau {s['tau']}, seed {s['seed']}",
        f"{'attribute':<10} {'probe_accuracy':>15} {'random_init_accuracy':>21} {'pixel_accuracy':>15} {'chance':>7}",
    ]
    for name, a in result["attributes"].items():
        lines.append(f"{name:<10} {a['probe_accuracy']:>15.4f} {a['random_init_accuracy']:>21.4f} "
                     f"{a['pixel_accuracy']:>15.4f} {a['chance']:>7.4f}")
    lines += [f"final_loss: {result['final_loss']:.4f}  (a guess: {result['loss_floor']:.4f})",
              f"seconds:    {result['seconds']:.2f}"]
    return "\n".join(lines)


def build(ctx) -> None:
    from .ui import build as build_ui

    build_ui(ctx)


@hookimpl
def register_labs(register):
    from .lesson import AUGMENT_CHOICES, AUGMENT_QUESTION

    register(Lab(
        id=LAB_ID,
        title="SimCLR",
        build=build,
        order=90,
        description="SimCLR with a small CNN or a tiny ViT on digits or shapes: augmentations make the positives, "
                    "the batch the negatives; linear probes against an untrained encoder and raw pixels.",
        add_arguments=add_arguments,
        run=run,
        format_result=format_result,
        prediction=Prediction(AUGMENT_QUESTION + " (`experiment=\"augment\"`)", tuple(AUGMENT_CHOICES)),
        show=show,
    ))
