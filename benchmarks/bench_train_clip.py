"""Speed and quality of the train_clip lab.

    python benchmarks/bench_train_clip.py [--steps-only] [--compare]

Prints:
- the time of one training step (forward, backward, AdamW) of each image tower at
  several batch sizes, with one torch thread and with torch's default, and the ratio;
- a default run of each loss (CNN + frozen MiniLM, batch 64, 1000 steps, seed 0):
  seconds, held-out and seen zero-shot accuracy against chance, and the CPU seconds
  the process spent (wall time on a shared machine overstates the cost);
- with ``--compare``: the batch-size comparison (both losses at 8, 32, 128 for the
  same number of examples seen).
No timing is asserted: the figures are for people to read.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def step_times(repeats: int = 20) -> None:
    import torch

    from plugins.train_clip.model import SmallCNN, TinyViT

    default_threads = torch.get_num_threads()
    print(f"one training step of the image tower (ms), 1 thread vs {default_threads} (torch's default):")
    for name, make in (("cnn", SmallCNN), ("vit", TinyViT)):
        for batch in (8, 32, 64, 128):
            row = []
            for threads in (1, default_threads):
                torch.set_num_threads(threads)
                model = make()
                optimiser = torch.optim.AdamW(model.parameters())
                x = torch.randn(batch, 3, 32, 32)
                for i in range(repeats + 3):
                    if i == 3:
                        start = time.perf_counter()
                    loss = model(x).pow(2).mean()
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                row.append((time.perf_counter() - start) / repeats * 1000)
            torch.set_num_threads(default_threads)
            print(f"  {name} batch {batch:>3}: {row[0]:7.1f}  vs {row[1]:7.1f}   ratio {row[1] / row[0]:.2f}")


def default_runs() -> None:
    from playground import create_registry
    from plugins.train_clip.compute import TrainSettings, train_clip

    registry = create_registry()
    embed = lambda texts: registry.get("minilm").encode_texts(texts)  # noqa: E731
    for loss in ("softmax", "sigmoid"):
        cpu = time.process_time()
        r = train_clip(TrainSettings(loss=loss), embed)
        print(f"default run, {loss}: {r.seconds:.1f} s wall, {time.process_time() - cpu:.1f} s CPU; held-out "
              f"{r.heldout_accuracy:.1%} ({r.heldout_accuracy / r.chance:.1f}x chance), seen {r.seen_accuracy:.1%}, "
              f"final loss {r.final_loss:.3f}")


def comparison() -> None:
    from playground import create_registry
    from plugins.train_clip import format_result
    from plugins.train_clip.compute import COMPARE_BATCH_SIZES, COMPARE_EXAMPLES, TrainSettings, compare_batch_sizes

    registry = create_registry()
    embed = lambda texts: registry.get("minilm").encode_texts(texts)  # noqa: E731
    started = time.perf_counter()
    result = compare_batch_sizes(TrainSettings(batch_size=max(COMPARE_BATCH_SIZES)), COMPARE_BATCH_SIZES, COMPARE_EXAMPLES, embed)
    print(format_result(result.summary()))
    print(f"comparison: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-only", action="store_true", help="only the per-step timings")
    parser.add_argument("--compare", action="store_true", help="also run the batch-size comparison")
    args = parser.parse_args()
    step_times()
    if not args.steps_only:
        default_runs()
    if args.compare:
        comparison()


if __name__ == "__main__":
    main()
