"""Figures and speed of the triplet margin and temperature labs on the bundled corpus.

    python benchmarks/bench_triplet_temperature.py [--models glove,minilm] [--skip-temperature]

Prints:
- the fraction of active triplets against the margin α for each model (cosine and
  Euclidean distance, random and hard negatives), 300 triplets over 50 texts per label;
- the held-out satisfied-triplet fraction and probe accuracy before and after the
  triplet-loss projection (α = 0.2, 300 steps), with its wall time;
- per τ, the trained head's loss, alignment and uniformity (dropout and same-label
  positives), with the sweep's wall time;
- the speed-up of training a small head on one torch thread against torch's
  default thread count (on a busy machine the second thread spin-waits).
No timing is asserted: the figures are for people to read.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def triplet(registry, models: list[str]) -> None:
    from plugins.triplet_margin import compute as T

    frame = T.load_texts()
    print(f"## triplet_margin: {len(frame)} texts, 300 triplets")
    for metric in ("cosine", "euclidean"):
        for mining in ("random", "hard"):
            secs, res = _timed(lambda: T.run_sweep(registry, frame, models, metric=metric, mining=mining))
            for model_id, s in res.models.items():
                cells = " ".join(f"{r['margin']:.1f}:{r['fraction_active']:.2f}" for r in s.sweep[::2])
                print(f"  active  {metric:9} {mining:6} {model_id:8} {cells}   ({secs:.1f}s for the sweep)")
    for model_id in models:
        emb = T.embed(registry, model_id, frame["text"].tolist())
        for metric in ("cosine", "euclidean"):
            for mining in ("random", "hard"):
                secs, tr = _timed(lambda: T.train_projection(emb, frame["label"].tolist(), margin=0.2,
                                                             metric=metric, mining=mining))
                print(f"  train   {model_id:8} {metric:9} {mining:6} satisfied {tr.before['satisfied']:.3f} -> "
                      f"{tr.after['satisfied']:.3f}, probe {tr.before['probe_accuracy']:.2f} -> "
                      f"{tr.after['probe_accuracy']:.2f}  ({secs:.1f}s)")


def temperature(registry, models: list[str]) -> None:
    from plugins.temperature import compute as M

    frame = M.load_texts()
    print(f"## temperature: {len(frame)} texts, {M.DEFAULT_STEPS} steps per τ")
    for model_id in models:
        for positives in M.POSITIVES:
            secs, res = _timed(lambda: M.run_sweep(registry, frame, model_id, positives=positives))
            print(f"  {model_id} / {positives} ({secs:.1f}s): frozen alignment {res.frozen['alignment']:.3f}, "
                  f"uniformity {res.frozen['uniformity']:.3f}")
            for t in res.taus:
                print(f"    τ {t.tau:<5g} loss {t.loss:7.3f}  alignment {t.alignment:6.3f}  "
                      f"uniformity {t.uniformity:7.3f}  entropy {t.entropy:5.2f}")


def threads(registry) -> None:
    import torch

    from plugins.temperature import compute as M

    frame = M.load_texts()
    emb = M.embed(registry, "glove", frame["text"].tolist())
    labels = frame["label"].tolist()
    M.train_head(emb, labels, 0.1, steps=5)  # imports and first-call costs out of the way
    default = torch.get_num_threads()
    slow, _ = _timed(lambda: M.train_head(emb, labels, 0.1, steps=100))
    with M.one_torch_thread():
        fast, _ = _timed(lambda: M.train_head(emb, labels, 0.1, steps=100))
    print(f"## 100 head steps: {default} threads {slow:.2f}s, 1 thread {fast:.2f}s, ratio {slow / fast:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="glove,minilm")
    parser.add_argument("--skip-temperature", action="store_true")
    args = parser.parse_args()
    from playground import create_plugin_manager, create_registry

    registry = create_registry(create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False))
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    triplet(registry, models)
    if not args.skip_temperature:
        temperature(registry, models)
    threads(registry)


if __name__ == "__main__":
    main()
