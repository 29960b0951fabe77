"""Do CLIP's and SigLIP's towers pay on ONNX Runtime? torch against onnxruntime, same process.

    python benchmarks/bench_onnx_towers.py              # about 2 minutes on 2 cores
    python benchmarks/bench_onnx_towers.py --repeats 5

Loads OpenAI CLIP ViT-B/32 and SigLIP ViT-B/16 through the registry from the Hub
rehearsal (real shapes, random weights: they compute exactly as fast as real ones),
exports each model's image tower and text tower as the registry does
(``onnx_tower_for``) from the very loaded weights into a temporary folder, and
measures images/s and texts/s of the towers on torch and on onnxruntime (best of
``--repeats``, the two alternated), and the lowest cosine between their vectors.
Preprocessing and tokenisation are the same on both paths and are not timed.
Nothing here is asserted by the tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("PLAYGROUND_UMAP_WARMUP", "0")

PAYS = 1.3  # the speed-up (at cosine >= 0.9999) below which an ONNX path is not worth its export


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def compare(name: str, model, tower: str, x, weights: list[str], batch: int, repeats: int) -> dict:
    """Rows/s of one tower of ``model`` (an open_clip model) on torch and on ONNX
    Runtime (exported as the registry exports it), on the batches of ``x``; the
    lowest cosine between the two paths' rows, and the export's seconds."""
    import numpy as np
    import torch

    from playground.models.onnx_runtime import onnx_tower_for

    torch_fn = model.encode_image if tower == "image" else model.encode_text
    started = time.perf_counter()
    onnx = onnx_tower_for(name, model, tower, x[:2], weights)
    export_s = time.perf_counter() - started
    feed = x.numpy()
    chunks = range(0, len(x), batch)

    def on_torch():
        with torch.inference_mode():
            return np.concatenate([torch_fn(x[i : i + batch]).float().numpy() for i in chunks])

    def on_ort():
        return np.concatenate([onnx.run(feed[i : i + batch]) for i in chunks])

    a, b = on_torch(), on_ort()  # warm both, and the vectors to compare
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    torch_s = ort_s = float("inf")
    for _ in range(repeats):  # alternated, so a busy moment does not decide the ratio
        torch_s = min(torch_s, best_of(on_torch, 1))
        ort_s = min(ort_s, best_of(on_ort, 1))
    unit = "images/s" if tower == "image" else "texts/s"
    return {"name": f"{name} {tower} tower ({unit})", "torch_per_s": len(x) / torch_s, "ort_per_s": len(x) / ort_s,
            "ratio": torch_s / ort_s, "min_cosine": float((a * b).sum(axis=1).min()), "export_s": export_s}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=32, help="images per timing (batches of 16)")
    parser.add_argument("--texts", type=int, default=128, help="texts per timing (batches of 64)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per path; the best counts")
    args = parser.parse_args(argv)

    from playground.models.rehearsal.build import make_hf_cache, rehearsal_repos

    cache = tempfile.mkdtemp(prefix="hf-rehearsal-")
    make_hf_cache(cache, rehearsal_repos(), layout="download")
    os.environ["HF_HUB_CACHE"] = cache  # read by huggingface_hub when it is first imported, below

    import torch
    from PIL import Image
    from skimage import data

    from playground.data.corpus import load_corpus
    from playground.models.hub import snapshot_folder
    from playground.models.open_clip import WEIGHT_FILES, hub_repo, repo_files
    from playground import create_registry

    os.environ["PLAYGROUND_ONNX"] = "0"  # the registry's models on torch; the towers are exported below
    os.environ["PLAYGROUND_ONNX_DIR"] = tempfile.mkdtemp(prefix="onnx-towers-")  # fresh exports, timed
    registry = create_registry(device="cpu", max_gb=100)
    photo = Image.fromarray(data.chelsea())
    texts = [f"{t} ({i})" for i, t in enumerate(load_corpus()["text"].tolist()[: args.texts])]
    threads = torch.get_num_threads()
    results = []
    for model_id in ("clip-vit-b-32", "siglip-vit-b-16"):
        model = registry.get(model_id)
        pixels = torch.stack([model.preprocess(photo.rotate(i).convert("RGB")) for i in range(args.images)])
        tokens = model.tokenizer(texts)
        spec = registry.specs[model_id]
        folder = Path(snapshot_folder(hub_repo(spec), repo_files(spec)))
        weights = [str(folder / name) for name in WEIGHT_FILES if (folder / name).is_file()]  # what the loader read
        results.append(compare(model_id, model.model, "image", pixels, weights, 16, args.repeats))
        results.append(compare(model_id, model.model, "text", tokens, weights, 64, args.repeats))
        registry.unload(model_id)  # one at a time in memory

    print(f"cpu, {threads} threads, load average {os.getloadavg()[0]:.2f} at the end")
    width = max(len(r["name"]) for r in results)
    print(f"{'tower':<{width}}  {'torch':>7}  {'onnxrt':>7}  {'ratio':>6}  {'min cosine':>10}  export")
    for r in results:
        print(f"{r['name']:<{width}}  {r['torch_per_s']:7.1f}  {r['ort_per_s']:7.1f}  {r['ratio']:5.2f}×  "
              f"{r['min_cosine']:.7f}  {r['export_s']:.1f} s")
    shutil.rmtree(os.environ["PLAYGROUND_ONNX_DIR"], ignore_errors=True)
    paying = [r["name"] for r in results if r["ratio"] >= PAYS and r["min_cosine"] >= 0.9999]
    ratios = [r["ratio"] for r in results]
    lowest = min(r["min_cosine"] for r in results)
    if len(paying) == len(results):
        print(f"Measured here: the CLIP and SigLIP towers run {min(ratios):.1f}–{max(ratios):.1f}× faster on ONNX Runtime "
              f"than on torch (lowest cosine {lowest:.7f}), so the registry serves them on ONNX Runtime on the CPU.")
    elif paying:
        print(f"ONNX Runtime pays (≥ {PAYS}× at cosine ≥ 0.9999) only for: {', '.join(paying)}.")
    else:
        best = max(results, key=lambda r: r["ratio"])
        print(f"ONNX Runtime does not pay for the CLIP/SigLIP towers on this CPU: at most {best['ratio']:.2f}× "
              f"({best['name']}), under the {PAYS}× that would be worth an export; they stay on torch.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
