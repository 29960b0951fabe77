"""Speed of the simclr lab.

    python benchmarks/bench_simclr.py          # the default run only (about 90 s)
    python benchmarks/bench_simclr.py --all    # + digits, the ViT and both experiments (about 8 minutes)

Prints each run's wall and CPU seconds and its held-out probe accuracy per attribute
against the untrained encoder and the raw pixels. No timing is asserted. The figures
the lab's README quotes are not written here: ``python docs/figures.py --only
simclr,simclr_more`` measures them, and ``tests/test_docs_figures.py`` re-runs them.
"""
from __future__ import annotations

import argparse
import os
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

    from plugins.simclr import format_result
    from plugins.simclr.compute import SimCLRSettings, augment_away, batch_size_sweep, train_simclr

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also digits, the ViT and both experiments")
    args = parser.parse_args()
    d = SimCLRSettings()
    runs = [("default run (includes measuring both baselines)", lambda: train_simclr(d))]
    if args.all:
        runs += [("digits run", lambda: train_simclr(replace(d, data="digits"))),
                 ("tiny ViT run", lambda: train_simclr(replace(d, encoder="vit"))),
                 ("experiment 1 (three runs)", lambda: augment_away(d)),
                 ("experiment 2 (three runs)", lambda: batch_size_sweep(d))]
    for label, fn in runs:
        print(format_result(timed(label, fn).summary()), flush=True)


if __name__ == "__main__":
    main()
