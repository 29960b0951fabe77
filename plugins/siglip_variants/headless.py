"""``playground run siglip_variants [--part scaling|multilingual|resolution|detail|real|all] [--json]``."""
from __future__ import annotations

import argparse

from playground.contract.lab import LabContext

PARTS = ("scaling", "multilingual", "resolution", "detail", "real")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", choices=PARTS + ("all",), default="all",
                        help="which part to run (default %(default)s: every part; 'real' needs the real "
                             "checkpoints and is not in 'all')")
    parser.add_argument("--image", default="bundled:chelsea",
                        help="real: the photo (a file, or bundled:NAME; default %(default)s)")
    parser.add_argument("--batches", default=None,
                        help="scaling: comma-separated batch sizes for the per-device figures (default 1024,4096,16384)")
    parser.add_argument("--devices", default=None, help="scaling: comma-separated device counts (default 1,2,4,8)")
    parser.add_argument("--steps", type=int, default=None, help="multilingual: training steps per run (default 600)")
    parser.add_argument("--seed", type=int, default=0, help="multilingual and detail: seed (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=1, help="resolution: timed passes per tower (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="resolution: CPU threads (default %(default)s)")
    parser.add_argument("--depth", type=int, default=None,
                        help="resolution: cut each tower to this many layers (a quick check; default: the real 12)")


def _numbers(text, default, what: str) -> tuple[int, ...]:
    if not text:
        return default
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--{what} must be whole numbers separated by commas, like 1,2,4; got {text!r}.") from None
    if not values or min(values) < 1:
        raise ValueError(f"--{what} must be whole numbers ≥ 1, got {text!r}.")
    return values


def run(args: argparse.Namespace, ctx: LabContext) -> dict:
    result = {}
    if args.part in ("scaling", "all"):
        from .scaling import BATCHES, DEVICES, agreement, device_costs, summary

        batches = _numbers(args.batches, BATCHES, "batches")
        devices = _numbers(args.devices, DEVICES, "devices")
        for b in batches:
            for k in devices:
                if b % k:
                    raise ValueError(f"batch {b} does not split evenly over {k} devices; pick multiples.")
        result["scaling"] = summary(device_costs(batches, devices), agreement())
    if args.part in ("multilingual", "all"):
        from dataclasses import replace

        from .multilingual import ToySettings, reveal_multilingual, summary, train_and_score

        settings = ToySettings(seed=args.seed)
        if args.steps is not None:
            settings = replace(settings, steps=args.steps)
        runs = train_and_score(settings)
        result["multilingual"] = {**summary(runs, settings), "reveal": reveal_multilingual(runs)}
    if args.part in ("resolution", "all"):
        from .resolution import summary, tower_costs

        if args.repeats < 1 or args.threads < 1 or (args.depth is not None and args.depth < 1):
            raise ValueError("--repeats, --threads and --depth must be whole numbers ≥ 1.")
        result["resolution"] = summary(tower_costs(repeats=args.repeats, threads=args.threads, depth=args.depth),
                                       args.depth)
    if args.part in ("detail", "all"):
        from .detail_toy import DetailSettings, compare_sizes, summary

        settings = DetailSettings(seed=args.seed)
        result["detail"] = summary(compare_sizes(settings), settings)
    if args.part == "real":
        from playground.data.images import read_image

        from .real_models import RETRIEVAL_SOURCE, five_language_scores, published_table

        image, name = read_image(args.image)
        result["real"] = five_language_scores(ctx.registry, image, name)
        result["real_published"] = {"source": RETRIEVAL_SOURCE, "rows": published_table()}
    return result


def format_result(result: dict) -> str:
    lines = []
    if "scaling" in result:
        s = result["scaling"]
        a = s["agreement"]
        lines.append(f"Why the sigmoid loss scales (d = {s['embed_dim']}, float32)")
        lines.append(f"  chunked vs unchunked sigmoid loss: largest difference {a['max_abs_difference']:.2e} "
                     f"({'within' if a['within_1e-5'] else 'NOT within'} 1e-5) over {len(a['runs'])} runs")
        lines.append(f"  {'loss':<22}{'B':>7}{'k':>4}{'peak MB':>10}{'received MB':>13}  largest logits")
        for r in s["per_device"]:
            lines.append(f"  {r['loss']:<22}{r['batch']:>7}{r['devices']:>4}{r['peak_mb']:>10.2f}"
                         f"{r['received_mb']:>13.2f}  {r['largest_logits'][0]}×{r['largest_logits'][1]}")
        lines.append(f"  {s['question']}")
        lines.append(f"  -> {s['answer']} (sigmoid/softmax = {s['sigmoid_over_softmax_at_question']:.1%})")
    if "multilingual" in result:
        m = result["multilingual"]
        languages = list(m["runs"][0]["accuracy"])
        lines.append(f"Multilingual toy: zero-shot accuracy per label language (chance {m['chance']:.1%}, "
                     f"{m['settings']['steps']} steps per run)")
        lines.append(f"  {'tokenizer':<12}{'captions':<10}" + "".join(f"{lang:>7}" for lang in languages))
        for r in m["runs"]:
            lines.append(f"  {r['tokenizer']:<12}{r['captions']:<10}"
                         + "".join(f"{r['accuracy'][lang]:>7.1%}" for lang in languages))
        for row in m["label_pieces"]:
            lines.append(f"  {row['language']} {row['label']}: wordpiece {' '.join(row['wordpiece'])} | "
                         f"characters {' '.join(row['characters'])}")
        lines.append("  " + m["reveal"])
    if "resolution" in result:
        r = result["resolution"]
        lines.append(f"Resolution: one image through each image tower (patch {r['patch']})"
                     + (f" [{r['note']}]" if r["note"] else ""))
        lines.append(f"  {'id':<22}{'side':>5}{'tokens':>8}{'latency s':>11}{'peak act. MB':>14}{'ImageNet (published)':>22}")
        for t in r["towers"]:
            published = t["published"]["imagenet_zero_shot"] if t["published"] else None
            lines.append(f"  {t['model_id']:<22}{t['side']:>5}{t['tokens']:>8}{t['latency_s']:>11.3f}"
                         f"{t['peak_activation_mb']:>14.2f}{'' if published is None else f'{published:.1%}':>22}")
        lines.append(f"  published figures: {r['published_source']}")
    if "detail" in result:
        d = result["detail"]
        lines.append(f"Detail toy: a two-pixel mark decides the label (chance {d['chance']:.0%}, "
                     f"{d['settings']['steps']} steps per size)")
        lines.append(f"  {'side':>5}{'tokens':>8}{'accuracy':>10}{'ceiling':>9}{'train s':>9}")
        for r in d["runs"]:
            lines.append(f"  {r['side']:>5}{r['tokens']:>8}{r['accuracy']:>10.1%}{r['ceiling']:>9.1%}"
                         f"{r['train_seconds']:>9.2f}")
        lines.append("  " + d["reveal"])
    for row in result.get("real", []):
        if "unavailable" in row:
            lines.append(f"{row['model']}: unavailable here: {row['unavailable']}")
            continue
        lines.append(f"{row['model']} ({row['scoring']}) on {row['image']}:")
        for lang, scores in row["languages"].items():
            lines.append(f"  {lang}: " + ", ".join(f"{label} {p:.3f}" for label, p in scores.items()))
    if "real_published" in result:
        published = result["real_published"]
        lines.append(f"Published, for reference: {published['source']}")
        for row in published["rows"]:
            lines.append("  " + ", ".join(f"{key} {value:.1%}" if isinstance(value, float) else str(value)
                                          for key, value in row.items()))
    return "\n".join(lines)
