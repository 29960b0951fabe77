"""What each ``@gpu`` call asks ZeroGPU for, beside how long it takes: the per-call estimates.

    python benchmarks/bench_zero_gpu.py                  # about 8 minutes on 2 shared cores
    python benchmarks/bench_zero_gpu.py --defaults       # and the default training runs (much longer)
    python benchmarks/bench_zero_gpu.py --write-readme   # also rewrite the README's table
    python benchmarks/bench_zero_gpu.py --only "simclr, 60 steps of 128 (vit)" --write-readme
                                   # re-run the rows whose label holds that text; the others stay

Runs every kind of ``@gpu`` call the labs make, at the sizes they make them, under the
ZeroGPU stand-in (``SPACES_ZERO_GPU=1``; a forked worker with one torch thread, the
arguments and result pickled) with the Hub rehearsal's real-shape BERT, CLIP ViT-B/32
and SigLIP ViT-B/16, and ``PLAYGROUND_GPU_CPU_SERVES_S=0`` so that every call that can go
to the GPU does. For each call it prints the measured time (fork, pickling and compute)
and the duration the call requested (``playground.models.gpu_policy``), and checks the
acceptance bound: requested <= 2 x measured + the fixed margin. It also prints the rate
per item each call implies, the figures ``gpu_policy``'s tables hold.

The worker computes on the CPU: on a Space's GPU the same calls take less, so these
requests are upper bounds there. Nothing here is asserted by the tests.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readme_block import merge_rows, publish  # noqa: E402  (found through the path above)

# The decorator is chosen when playground is imported: set the stand-in up first.
os.environ.update(SPACES_ZERO_GPU="1", PLAYGROUND_DEVICE="cpu", PLAYGROUND_ONNX="0", HF_HUB_OFFLINE="1",
                  PLAYGROUND_GPU_CPU_SERVES_S="0", PLAYGROUND_UMAP_WARMUP="0")
for name in ("PLAYGROUND_ZERO_GPU_QUOTA_S", "SPACE_ID", "PLAYGROUND_HUB"):
    os.environ.pop(name, None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the training runs")
    parser.add_argument("--only-training", action="store_true", help="only the training runs")
    parser.add_argument("--defaults", action="store_true",
                        help="also the default fine-tune and SimCLR runs (several minutes each with one thread)")
    parser.add_argument("--write-readme", action="store_true",
                        help="also rewrite the README's block between <!-- bench:zero-gpu --> markers with this table")
    parser.add_argument("--only", default=None,
                        help="run only the calls whose label contains this text; with --write-readme, replace "
                             "only their rows (marked as re-run alone) and recompute the largest ratio")
    args = parser.parse_args(argv)

    from playground.models.rehearsal.build import make_hf_cache, rehearsal_repos

    cache = tempfile.mkdtemp(prefix="hf-rehearsal-")
    make_hf_cache(cache, rehearsal_repos(), layout="download")
    os.environ["HF_HUB_CACHE"] = cache  # read by huggingface_hub when it is first imported, below

    from PIL import Image
    from skimage import data

    from playground import create_registry
    from playground.data.corpus import load_corpus
    from playground.models import gpu_policy, zero_gpu
    from playground.models.gpu import collect_notices

    registry = create_registry(max_gb=100)
    corpus = load_corpus()["text"].tolist()
    photo = Image.fromarray(data.chelsea())
    fresh = iter(range(10**6))  # a new suffix per call, so no cache answers

    def texts(n):
        k = next(fresh)
        return [f"{t} ({k})" for t in (corpus * (n // len(corpus) + 1))[:n]]

    def images(n):
        k = next(fresh)
        return [photo.rotate(k + i) for i in range(n)]

    calls: list[tuple[str, int, object]] = []  # (label, items, thunk)
    for model_id in ("bert-base-uncased", "clip-vit-b-32", "siglip-vit-b-16"):
        if args.only and model_id not in args.only:  # no row of it to re-run: do not load it
            continue
        model = registry.get(model_id)
        model.encode_texts(["warm-up"])  # the first call pays one-off set-up
        sizes = (32, 328) if model_id.startswith("bert") else (8, 64)
        for n in sizes:
            calls.append((f"{model_id}: encode {n} texts", n, lambda m=model, n=n: m.encode_texts(texts(n))))
        if model.kind == "image-text":
            model.encode_images([photo])
            for n in (1, 8):
                calls.append((f"{model_id}: encode {n} image{'s' * (n > 1)}", n, lambda m=model, n=n: m.encode_images(images(n))))
    if args.only_training:
        calls = []
    if not args.quick:
        from plugins.fine_tune.compute import TrainSettings, load_pairs, run_fine_tune
        from plugins.simclr.compute import SimCLRSettings, train_simclr

        base = registry.get("minilm")
        calls.append(("fine_tune, 4 steps of 32 pairs, 50 held-out", 128,
                      lambda: run_fine_tune(base, load_pairs(max_train=128, max_heldout=50), TrainSettings(max_steps=4))))
        calls.append(("simclr, 60 steps of 128 (cnn)", 60, lambda: train_simclr(SimCLRSettings(steps=60))))
        calls.append(("simclr, 60 steps of 128 (vit)", 60, lambda: train_simclr(SimCLRSettings(steps=60, encoder="vit"))))
        if args.defaults:
            calls.append(("fine_tune default (512 pairs, 16 steps of 32; 200 held-out)", 512,
                          lambda: run_fine_tune(base, load_pairs())))
            calls.append(("simclr default (300 steps of 128, cnn)", 300, lambda: train_simclr(SimCLRSettings())))

    if args.only:
        calls = [call for call in calls if args.only in call[0]]
        if not calls:
            parser.error(f"no call's label contains {args.only!r}")
    rows: list[tuple[str, str]] = []
    worst = 0.0
    for label, items, thunk in calls:
        before = len(zero_gpu.CALLS)
        started = time.perf_counter()
        with collect_notices() as notices:
            thunk()
        if notices:  # stopped past its request (or refused): it ran again on the CPU
            rows.append((label, f"SHORT: {' '.join(notices)}"))
            worst = float("inf")
            continue
        wall = time.perf_counter() - started
        made = zero_gpu.CALLS[before:]
        if not made:
            rows.append((label, f"no @gpu call (stayed on the CPU), {wall:.2f} s"))
            continue
        measured = sum(c["seconds"] for c in made)
        requested = sum(c["requested"] for c in made)
        bound = 2 * measured + gpu_policy.MARGIN_S
        worst = max(worst, requested / bound)
        verdict = "within" if requested <= bound else "OVER"
        short = " (SHORT: ran past it)" if requested < measured else ""
        rows.append((label, f"measured {measured:.2f} s, requested {requested:.0f} s{short}; bound 2×measured + "
                            f"{gpu_policy.MARGIN_S:.0f} = {bound:.1f} s: {verdict}; {measured / items * 1000:.1f} ms per item"))
    if args.only:
        merged = merge_rows("zero-gpu", rows, f"python benchmarks/bench_zero_gpu.py --only {args.only!r}")
        rows = [r for r in merged if r[0] != WORST]
        worst = max([ratio(value) for _, value in rows] + [worst])
        rows.append((WORST, f"{worst:.2f}"))
        publish_merged(rows, args.write_readme)
        return 0
    rows.append((WORST, f"{worst:.2f}"))
    publish("zero-gpu", rows, "python benchmarks/bench_zero_gpu.py --write-readme", args.write_readme,
            where="the ZeroGPU stand-in, one torch thread in the worker; ")
    return 0


WORST = "largest requested / bound (at most 1 passes)"


def ratio(value: str) -> float:
    """requested / bound, read back from a row's text (0 for a row without both)."""
    import re

    found = re.search(r"requested (\d+) s.*?= ([\d.]+) s", value)
    if "SHORT" in value:
        return float("inf")
    return int(found.group(1)) / float(found.group(2)) if found else 0.0


def publish_merged(rows: list[tuple[str, str]], write_readme: bool) -> None:
    """Write the merged table under the block's existing "Measured by" line."""
    from readme_block import block_header, markdown_table, write_readme_block

    print(markdown_table(rows))
    if write_readme:
        write_readme_block("zero-gpu", rows, block_header("zero-gpu"))


if __name__ == "__main__":
    sys.exit(main())
