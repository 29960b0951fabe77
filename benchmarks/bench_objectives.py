"""Speed and the acceptance figures of the objectives lab: the default
``playground run objectives --json``, timed as a user runs it (a fresh process).

    python benchmarks/bench_objectives.py             # the default run
    python benchmarks/bench_objectives.py --nll causal

Prints wall seconds and the child's CPU seconds (on a shared machine the wall time
grows with the load; CPU seconds are what the run would take on two free cores, since
it trains on one thread), the NLL arm's token accuracy against the most-frequent-piece
baseline (the acceptance asks for at least twice), and each arm's geometry. Nothing is
asserted: the issue's goals (≤ 3 minutes, accuracy ≥ 2 x baseline) are read here.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extra", nargs="*", help="more arguments for playground run objectives (after --)")
    parser.add_argument("--nll", default="mlm")
    opts = parser.parse_args()
    command = [sys.executable, "-m", "playground", "run", "objectives", "--json", "--nll", opts.nll, *opts.extra]
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return done.returncode
    result = json.loads(done.stdout)
    nll = result["final"]["nll"]
    base = result["baseline_accuracy"]
    print(f"playground run objectives --json --nll {opts.nll} {' '.join(opts.extra)}".rstrip())
    print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  {result['token_metric']}: NLL arm {nll['token_accuracy']:.3f}, baseline {base:.3f}, "
          f"ratio {nll['token_accuracy'] / base:.2f} (goal ≥ 2)")
    for arm, f in result["final"].items():
        print(f"  {arm:<12} mean cos {f['mean_cosine']:.3f}  intra/inter {f['intra_mean']:.3f}/{f['inter_mean']:.3f}  "
              f"AUC {f['separation_auc']:.3f}  uniformity {f['uniformity']:.2f}  probe {f['probe_accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
