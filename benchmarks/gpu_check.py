"""One short check of the registry's CUDA path and half precision, for a machine with a GPU.

    pip install -e . && python benchmarks/gpu_check.py          # about 3 minutes

Needs no Hub access: it builds the rehearsal repos of bert-base-uncased, OpenAI
CLIP ViT-B/32 and SigLIP ViT-B/16 (real shapes, random weights) into a Hugging
Face cache, then, with ``PLAYGROUND_DEVICE=cuda``, loads every model through the
registry (half precision where the model allows), checks dtype and device, and
runs each lab that uses them headless, printing the latency of each step and any
failure. Exit status 0 only when every step passed.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("PLAYGROUND_UMAP_WARMUP", "0")

RESULTS: list[tuple[str, str, float, str]] = []


def step(name: str, fn):
    started = time.perf_counter()
    try:
        detail = fn() or ""
        RESULTS.append((name, "ok", time.perf_counter() - started, str(detail)))
    except Exception as exc:
        RESULTS.append((name, "FAIL", time.perf_counter() - started, f"{type(exc).__name__}: {exc}"))
        traceback.print_exc()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    os.environ["PLAYGROUND_DEVICE"] = args.device

    import torch

    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}", flush=True)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    print(torch.cuda.get_device_name(0), flush=True)

    from playground.models.rehearsal.build import make_hf_cache, rehearsal_repos

    cache = tempfile.mkdtemp(prefix="hf-rehearsal-")
    step("build rehearsal repos and cache", lambda: make_hf_cache(cache, rehearsal_repos(), layout="download"))
    os.environ["HF_HUB_CACHE"] = cache

    import argparse as ap

    from PIL import Image
    from skimage import data

    from playground.contract.lab import LabContext
    from playground.contract.plugins import collect_labs, create_plugin_manager
    from playground import create_registry

    registry = create_registry()
    photo = os.path.join(cache, "chelsea.png")
    Image.fromarray(data.chelsea()).save(photo)

    def load(model_id):
        model = registry.get(model_id)
        weights = getattr(model, "model", None) or getattr(model, "st", None)
        param = next(weights.parameters())
        rows = model.encode_texts(["a photo of a cat", "a legal clause"])
        assert rows.shape[0] == 2 and abs(float((rows**2).sum(1).mean()) - 1) < 1e-2, "rows not unit length"
        if model.kind == "image-text":
            images = model.encode_images([Image.open(photo)])
            assert images.shape == (1, rows.shape[1])
        return f"{param.device} {param.dtype} dim={rows.shape[1]}"

    for model_id in ("minilm", "bert-base-uncased", "bert-base-uncased-mean", "clip-vit-b-32", "siglip-vit-b-16"):
        step(f"load + encode {model_id}", lambda m=model_id: load(m))

    labs = {lab.id: lab for lab in collect_labs(create_plugin_manager())}
    ctx = LabContext(registry=registry)
    runs = {
        "anisotropy": ["--models", "bert-base-uncased,minilm"],
        "triplet_margin": ["--models", "bert-base-uncased,minilm"],
        "temperature": ["--model", "bert-base-uncased"],
        "clip_zero_shot (clip)": ["--image", photo, "--labels", "cat,dog,car", "--model", "clip-vit-b-32"],
        "clip_zero_shot (siglip)": ["--image", photo, "--labels", "cat,dog,car", "--model", "siglip-vit-b-16"],
        "siglip_compare": ["--image", photo, "--labels", "cat,dog,car"],
        "fine_tune": ["--max-train", "128", "--max-heldout", "64"],
        "train_clip": [],
    }
    for name, argv in runs.items():
        lab = labs[name.split(" ")[0]]
        parser = ap.ArgumentParser()
        lab.add_arguments(parser)
        step(f"lab {name}", lambda lab=lab, p=parser, argv=argv: bool(lab.run(p.parse_args(argv), ctx)) and "")

    width = max(len(r[0]) for r in RESULTS)
    print()
    for name, status, seconds, detail in RESULTS:
        print(f"{name:<{width}}  {status:<4}  {seconds:7.2f} s  {detail}")
    failed = [r for r in RESULTS if r[1] != "ok"]
    print(f"\n{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
