"""Lab ``objectives``: one encoder, two objectives. One small BERT-style encoder, one
seeded initialisation, the same batches: trained with an NLL objective (masked-token or
next-token prediction), then continued either with more of the same or with unsupervised
SimCSE, and the geometry of each arm measured side by side on the labelled four-domain
corpus (or a CSV). Only the loss differs. The trained encoders join the registry for the
session as ``my-nll`` and ``my-contrastive``.
"""
from __future__ import annotations

import argparse

from playground import Lab, hookimpl

LAB_ID = "objectives"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .compute import ObjectiveSettings
    from .options import NLL_OBJECTIVES

    d = ObjectiveSettings()
    parser.add_argument("--nll", choices=NLL_OBJECTIVES, default=d.nll,
                        help="the NLL objective: masked-token (mlm) or next-token (causal); default %(default)s")
    parser.add_argument("--steps", type=int, default=d.steps, help="NLL pre-training steps (default %(default)s)")
    parser.add_argument("--more-steps", type=int, default=d.more_steps,
                        help="each arm's continuation: more NLL, or SimCSE (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d.seed, help="seeds weights, batches, masks, dropout (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="default %(default)s")
    parser.add_argument("--lr", type=float, default=d.lr, help="peak learning rate of each phase (default %(default)s)")
    parser.add_argument("--hidden", type=int, default=d.hidden, help="encoder width (default %(default)s)")
    parser.add_argument("--layers", type=int, default=d.layers, help="transformer layers (default %(default)s)")
    parser.add_argument("--max-words", type=int, default=d.max_words, help="words of training text (default %(default)s)")
    parser.add_argument("--vocab-size", type=int, default=d.vocab_size, help="WordPiece pieces kept (default %(default)s)")
    parser.add_argument("--scratch", action="store_true", help="also train SimCSE from scratch (same init, same batches)")
    parser.add_argument("--data", metavar="F.csv",
                        help="also measure every arm on this text,label CSV (texts the encoders never saw)")


def run(args: argparse.Namespace, ctx=None) -> dict:
    from .compute import ObjectiveSettings, load_labelled, measure_file, train_objectives

    settings = ObjectiveSettings(nll=args.nll, steps=args.steps, more_steps=args.more_steps, seed=args.seed,
                                 batch_size=args.batch_size, lr=args.lr, hidden=args.hidden, layers=args.layers,
                                 max_words=args.max_words, vocab_size=args.vocab_size, scratch=args.scratch).validate()
    extra = load_labelled(args.data) if args.data else None  # a bad file fails before training, not after
    result = train_objectives(settings)
    if extra is not None:
        result.data = {"file": str(args.data), "texts": len(extra), "labels": sorted(set(extra["label"])),
                       "figures": measure_file(result, extra)}
    return result.summary()


COLUMNS = ("token_accuracy", "mean_cosine", "intra_mean", "inter_mean", "separation_auc", "alignment", "uniformity",
           "probe_accuracy")


def _table(figures: dict) -> list[str]:
    head = f"{'arm':<12}" + "".join(f"{c.replace('_accuracy', '').replace('separation_', ''):>11}" for c in COLUMNS)
    rows = [f"{arm:<12}" + "".join(f"{f[c]:>11.3f}" if c in f else f"{'-':>11}" for c in COLUMNS)
            for arm, f in figures.items()]
    return [head, *rows]


def format_result(result: dict) -> str:
    s = result["settings"]
    lines = [
        f"{s['nll']} then SimCSE vs more {s['nll']}: {s['steps']} + {s['more_steps']} steps, batch {s['batch_size']}, "
        f"h{s['hidden']} x {s['layers']} layers, vocabulary {result['vocabulary_size']}, seed {s['seed']}"
        + (" (stopped)" if result["stopped"] else ""),
        f"{result['token_metric']}: most-frequent-piece baseline {result['baseline_accuracy']:.3f}",
        *_table(result["final"]),
        f"geometry on {result['texts']} texts ({', '.join(result['labels'])}); {result['seconds']:.0f} s",
    ]
    if "data" in result:
        d = result["data"]
        lines += [f"on {d['file']} ({d['texts']} texts, {len(d['labels'])} labels):", *_table(d["figures"])]
    return "\n".join(lines)


def build(ctx) -> None:
    from .ui import build as build_ui

    build_ui(ctx)


@hookimpl
def register_labs(register):
    register(Lab(
        id=LAB_ID,
        title="One encoder, two objectives",
        build=build,
        order=95,
        description="One small transformer, one initialisation, the same batches: masked-token (or next-token) "
                    "prediction against unsupervised SimCSE, and the geometry each loss leaves.",
        add_arguments=add_arguments,
        run=run,
        format_result=format_result,
    ))
