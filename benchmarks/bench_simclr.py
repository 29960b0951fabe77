"""Speed and quality of the simclr lab.

    python benchmarks/bench_simclr.py            # the default run only (about 90 s)
    python benchmarks/bench_simclr.py --write    # + digits, the ViT and both experiments (about 11 minutes);
                                                 #   writes plugins/simclr/measured.json and the lab README's figures

Prints the default run's wall and CPU seconds and its held-out probe accuracy per
attribute against the untrained encoder and the raw pixels. No timing is asserted:
the figures are for people to read (and, with --write, for the lab's README).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def timed(label: str, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label}: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU", flush=True)
    return out


def main() -> None:
    from dataclasses import replace

    from plugins.simclr import format_result, report
    from plugins.simclr.compute import SimCLRSettings, augment_away, batch_size_sweep, train_simclr

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="also digits, the ViT and both experiments; write measured.json and the README")
    args = parser.parse_args()
    d = SimCLRSettings()
    default = timed("default run (includes measuring both baselines)", lambda: train_simclr(d)).summary()
    print(format_result(default), flush=True)
    if not args.write:
        return
    digits = timed("digits run", lambda: train_simclr(replace(d, data="digits"))).summary()
    print(format_result(digits), flush=True)
    vit = timed("tiny ViT run", lambda: train_simclr(replace(d, encoder="vit"))).summary()
    print(format_result(vit), flush=True)
    away = timed("experiment 1 (three runs)", lambda: augment_away(d)).summary()
    print(format_result(away), flush=True)
    batch = timed("experiment 2 (three runs)", lambda: batch_size_sweep(d)).summary()
    print(format_result(batch), flush=True)
    measured = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch on the CPU",
        "date": datetime.date.today().isoformat(),
        "default": default, "digits": digits, "vit": vit, "augment": away, "batch": batch,
    }
    with open(report.MEASURED, "w", encoding="utf-8") as f:
        json.dump(measured, f, indent=1, default=float)
        f.write("\n")
    report.write_readme(measured)
    print(f"wrote {report.MEASURED} and the figures in {report.README}")


if __name__ == "__main__":
    main()
