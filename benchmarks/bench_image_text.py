"""Speed of the image tabs' models: single-image latency and images per second.

For every image-text model that can be loaded here (the real CLIP and SigLIP where
the Hub or the local cache has them, and the tiny test models, always), it prints:

- load time;
- single-image latency: one photo scored against a few labels, the way the
  zero-shot tab does it (label embeddings already cached), median of several runs;
- the first call with new labels (the prompts embedded too);
- images per second when a batch of photos is embedded at once, and the ratio of
  batched to one-at-a-time throughput.

    python benchmarks/bench_image_text.py [--models tiny-clip,clip-vit-b-32] [--batch 32] [--repeats 10]
                                          [--threads 1] [--device cuda]

On a CPU shared with other busy processes, try --threads 1: torch's default of one
thread per core can then be many times slower than a single thread (the threads
wait for each other), most visibly on small models.

No timing is asserted anywhere: these are figures to read, not tests.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

LABELS = ["cat", "coffee cup", "rocket", "astronaut", "flower", "temple"]


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_model(registry, model_id: str, photos: list, batch: int, repeats: int) -> dict:
    from playground.science.zero_shot import DEFAULT_TEMPLATE, classify

    started = time.perf_counter()
    model = registry.get(model_id)
    load_s = time.perf_counter() - started
    one = photos[:1]
    started = time.perf_counter()
    classify(model, one, [f"{label} {time.time_ns()}" for label in LABELS], [DEFAULT_TEMPLATE])  # unseen prompts
    cold_s = time.perf_counter() - started
    classify(model, one, LABELS)  # warm: prompts cached from here on
    latency_s = median_seconds(lambda: classify(model, one, LABELS), repeats)
    images = (photos * (batch // len(photos) + 1))[:batch]
    model.encode_images(images[:2])  # warm the batched path
    batch_s = median_seconds(lambda: model.encode_images(images, batch_size=batch), max(2, repeats // 3))
    single_s = median_seconds(lambda: model.encode_images(one), repeats)
    return {
        "model": model_id, "scoring": model.scoring, "device": model.device, "input": model.image_size,
        "load_s": load_s, "cold_s": cold_s, "latency_ms": latency_s * 1000,
        "images_per_s_single": 1.0 / single_s, "images_per_s_batched": batch / batch_s,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="", help="comma-separated ids (default: every available image-text model)")
    parser.add_argument("--batch", type=int, default=32, help="images per batch for the throughput figure")
    parser.add_argument("--repeats", type=int, default=10, help="runs per timing (the median is printed)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the registry's choice)")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from playground.data.images import bundled_photos
    from playground.models.catalog import DEFAULT_MODELS
    from playground.models.registry import ModelRegistry
    from playground.contract.testing import tiny_model_specs

    registry = ModelRegistry(device=args.device)
    for spec in DEFAULT_MODELS:
        registry.register(spec)
    for spec in tiny_model_specs(tempfile.mkdtemp(prefix="bench-tiny-")):
        registry.register(spec)
    wanted = [m.strip() for m in args.models.split(",") if m.strip()]
    ids = wanted or registry.model_ids(kind="image-text")
    photos = [p.image() for p in bundled_photos()]

    rows = []
    for model_id in ids:
        ok, reason = registry.availability(model_id)
        if not ok:
            print(f"skip {model_id}: {reason}")
            continue
        rows.append(bench_model(registry, model_id, photos, args.batch, args.repeats))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s), batch {args.batch}, "
          f"median of {args.repeats} runs")
    header = (f"{'model':<18} {'scoring':<8} {'device':<6} {'input':>5} {'load s':>7} {'cold ms':>8} "
              f"{'latency ms':>10} {'img/s 1x1':>10} {f'img/s {args.batch}':>10} {'batch gain':>10}")
    print(header)
    for r in rows:
        print(
            f"{r['model']:<18} {r['scoring']:<8} {r['device']:<6} {r['input']:>5} {r['load_s']:>7.2f} "
            f"{r['cold_s'] * 1000:>8.1f} {r['latency_ms']:>10.2f} {r['images_per_s_single']:>10.1f} "
            f"{r['images_per_s_batched']:>10.1f} {r['images_per_s_batched'] / r['images_per_s_single']:>9.2f}x"
        )


if __name__ == "__main__":
    main()
