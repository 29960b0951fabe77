"""``playground run siglip_variants [--part scaling] [--json]``."""
from __future__ import annotations

import argparse

from playground.contract.lab import LabContext

PARTS = ("scaling",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", choices=PARTS + ("all",), default="all",
                        help="which part to run (default %(default)s: every part)")
    parser.add_argument("--batches", default=None,
                        help="scaling: comma-separated batch sizes for the per-device figures (default 1024,4096,16384)")
    parser.add_argument("--devices", default=None, help="scaling: comma-separated device counts (default 1,2,4,8)")


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
    return "\n".join(lines)
