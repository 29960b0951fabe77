"""``playground run fine_tune``: the experiment without a browser.

    playground run fine_tune [--data FILE.csv] [--epochs N] [--seed N] [--json]

prints ``before`` and ``after`` objects with recall@1, recall@5, recall@10, mrr@10
and ndcg@10 on the held-out queries, their ``change``, and the run's size, loss and
data hash. ``--save DIR`` also writes the fine-tuned model where
``SentenceTransformer(DIR)`` loads it; ``--provenance FILE.json`` writes the
settings, data hash, library versions and loss curve.
"""
from __future__ import annotations

import argparse
import json
from typing import Optional

from playground.contract.lab import LabContext, LabView, Prediction

from .compute import (
    DEFAULT_MAX_HELDOUT, DEFAULT_MAX_TRAIN, PREDICT_CHOICES, PREDICT_QUESTION, load_pairs, reveal, run_fine_tune,
)
from .metrics import METRIC_NAMES
from .train import LIMITS, TrainSettings

DEFAULTS = TrainSettings()


def _range(name: str) -> str:
    low, high = LIMITS[name]
    return f"{low:g} to {high:g}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, metavar="FILE.csv",
                        help="a UTF-8 CSV with columns query,positive (unique texts); 20%% of its rows are held out. "
                             "Default: the bundled code-search set from the Python standard library")
    parser.add_argument("--model", default="minilm", help="a sentence-transformers model id (default minilm)")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help=f"passes over the training pairs ({_range('epochs')}; default {DEFAULTS.epochs})")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help=f"fixes the batch order (default {DEFAULTS.seed})")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help=f"pairs per batch ({_range('batch_size')}; default {DEFAULTS.batch_size})")
    parser.add_argument("--lr", type=float, default=DEFAULTS.learning_rate, help=f"peak learning rate ({_range('learning_rate')}; default {DEFAULTS.learning_rate:g})")
    parser.add_argument("--scale", type=float, default=DEFAULTS.scale, help=f"1/τ applied to cosines ({_range('scale')}; default {DEFAULTS.scale:g})")
    parser.add_argument("--max-steps", type=int, default=DEFAULTS.max_steps, help=f"cap on optimizer steps ({_range('max_steps')}; default {DEFAULTS.max_steps})")
    parser.add_argument("--layers", type=int, default=DEFAULTS.trainable_layers, help=f"top transformer layers that learn (default {DEFAULTS.trainable_layers})")
    parser.add_argument("--max-train", type=int, default=DEFAULT_MAX_TRAIN, help=f"bundled data: training pairs used (default {DEFAULT_MAX_TRAIN})")
    parser.add_argument("--max-heldout", type=int, default=DEFAULT_MAX_HELDOUT, help=f"bundled data: held-out pairs used (default {DEFAULT_MAX_HELDOUT})")
    parser.add_argument("--save", default=None, metavar="DIR", help="save the fine-tuned model to DIR")
    parser.add_argument("--provenance", default=None, metavar="FILE.json", help="write settings, data hash, versions and the loss curve")


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    return TrainSettings(
        seed=args.seed, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        scale=args.scale, max_steps=args.max_steps, trainable_layers=args.layers,
    ).validate()


def _fine_tune(args: argparse.Namespace, ctx: LabContext):
    """The run (a ``FineTuneResult``), with the model and provenance saved where asked."""
    settings = settings_from_args(args)
    if args.max_train < 2 or args.max_heldout < 2:
        raise ValueError("--max-train and --max-heldout must be at least 2.")
    pairs = load_pairs(args.data, max_train=args.max_train, max_heldout=args.max_heldout)
    result = run_fine_tune(ctx.registry.get(args.model), pairs, settings)
    if args.save:
        result.student.save(args.save)
    if args.provenance:
        with open(args.provenance, "w") as f:
            json.dump(result.provenance(), f, indent=2)
    return result


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    """The run's summary: ``before``, ``after`` and ``change`` metrics, sizes, loss, data hash."""
    return _fine_tune(args, ctx).summary()


PREDICTION = Prediction(PREDICT_QUESTION, tuple(PREDICT_CHOICES.values()))


def show(args: argparse.Namespace, ctx: LabContext, prediction: Optional[str]) -> LabView:
    """``run``'s summary, the tab's plots of the same run and the reveal of ``prediction``."""
    from .figures import result_figures  # plotly only when drawing

    result = _fine_tune(args, ctx)
    return LabView(result.summary(), list(result_figures(result).values()), reveal(result, prediction))


def format_result(result: dict) -> str:
    """A table of the metrics before, after and the change, then the run's facts."""
    lines = [f"{'metric':<12}{'before':>10}{'after':>10}{'change':>10}"]
    for name in METRIC_NAMES:
        lines.append(f"{name:<12}{result['before'][name]:>10.4f}{result['after'][name]:>10.4f}{result['change'][name]:>+10.4f}")
    lines.append(
        f"\n{result['train_pairs']} training pairs, {result['heldout_pairs']} held-out pairs ({result['data_source']}); "
        f"{result['steps']} steps in {result['train_seconds']} s; loss {result['loss_first']} -> {result['loss_last']}"
        + (" (stopped early)" if result["stopped"] else "")
    )
    q = result["queries"]
    lines.append(f"held-out queries whose passage moved up: {q['better']}, down: {q['worse']}, same rank: {q['same']}")
    lines.append(f"data sha256 {result['data_hash']}")
    return "\n".join(lines)
