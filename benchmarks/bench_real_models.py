"""The lesson's real models at their real sizes, on this machine, from the Hub rehearsal.

    python benchmarks/bench_real_models.py             # about 4 minutes on 2 cores
    python benchmarks/bench_real_models.py --device cuda   # the same on a GPU (half precision)

Builds (once per machine) the rehearsal repos of bert-base-uncased, OpenAI CLIP
ViT-B/32 and SigLIP ViT-B/16 (real shapes, random weights), lays them out as a
Hugging Face cache, and measures through the registry: load time of each model,
BERT and MiniLM texts/s, CLIP and SigLIP single-image latency and images/s, the
anisotropy lab with BERT vs MiniLM cold and warm, and peak memory with every model
loaded. Random weights compute exactly as fast as real ones; only what they know
differs. Nothing here is asserted by the tests.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readme_block import publish  # noqa: E402  (found through the path above)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("PLAYGROUND_UMAP_WARMUP", "0")


def rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def sentence_transformers_baseline(model_id, model, texts, registry_s) -> tuple[str, str]:
    """sentence-transformers' own ``encode`` of the same texts (mean pooling, normalised),
    in this process: the ratio is registry texts/s over sentence-transformers texts/s."""
    from sentence_transformers import SentenceTransformer, models

    if hasattr(model, "st"):
        st = model.st
    else:  # BERT: the same snapshot, with sentence-transformers' mean pooling
        from playground.models.hf_encoder import REPO_FILES
        from playground.models.hub import snapshot_folder

        from playground.models.hub import quiet_transformers

        with quiet_transformers():  # BERT's pre-training heads, unused here too
            word = models.Transformer(snapshot_folder("bert-base-uncased", REPO_FILES), max_seq_length=model.max_length)
        st = SentenceTransformer(modules=[word, models.Pooling(model.dim, "mean"), models.Normalize()], device="cpu")
    st.encode(["warm-up"])
    fresh = [t + " again" for t in texts]  # new strings, so no cache anywhere helps either side
    _, st_s = timed(lambda: st.encode(fresh, batch_size=32, normalize_embeddings=True, show_progress_bar=False))
    return (f"{model_id}: registry / sentence-transformers texts/s", f"{st_s / registry_s:.2f}× ({len(texts) / st_s:.0f} texts/s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, mps")
    parser.add_argument("--texts", type=int, default=256, help="texts for the throughput figures")
    parser.add_argument("--images", type=int, default=16, help="images for the images/s figures")
    parser.add_argument("--write-readme", action="store_true",
                        help="also rewrite the README's block between <!-- bench:real-models --> markers with this table")
    args = parser.parse_args(argv)

    from playground.models.rehearsal.build import make_hf_cache, rehearsal_repos

    repos, build_s = timed(rehearsal_repos)
    cache = tempfile.mkdtemp(prefix="hf-rehearsal-")
    make_hf_cache(cache, repos, layout="download")
    os.environ["HF_HUB_CACHE"] = cache  # read by huggingface_hub when it is first imported, below

    from PIL import Image
    from skimage import data

    from playground.data.corpus import load_corpus
    from playground import create_registry
    from plugins.anisotropy.compute import analyse

    registry = create_registry(device=args.device, max_gb=100)
    rows: list[tuple[str, str]] = [("rehearsal repos ready (built or found)", f"{build_s:.1f} s")]
    frame = load_corpus()
    texts = [f"{t} ({i})" for i, t in enumerate(frame["text"].tolist()[: args.texts])]  # fresh, uncached texts
    photo = Image.fromarray(data.chelsea())
    photos = [photo.rotate(i) for i in range(args.images)]
    for model_id in ("bert-base-uncased-mean", "minilm", "clip-vit-b-32", "siglip-vit-b-16"):
        model, load_s = timed(lambda: registry.get(model_id))
        rows.append((f"{model_id}: load", f"{load_s:.1f} s"))
        model.encode_texts(["warm-up"])  # the first call pays one-off set-up, not throughput
        _, encode_s = timed(lambda: model.encode_texts(texts, batch_size=32))
        backend = getattr(model, "backend", "torch")
        rows.append((f"{model_id}: texts/s ({len(texts)} fresh texts, {backend})", f"{len(texts) / encode_s:.0f}"))
        if model_id in ("minilm", "bert-base-uncased-mean"):
            rows.append(sentence_transformers_baseline(model_id, model, texts, encode_s))
        if model.kind == "image-text":
            model.encode_images([photo])  # warm
            _, one_s = timed(lambda: model.encode_images([photo]))
            _, many_s = timed(lambda: model.encode_images(photos))
            rows.append((f"{model_id}: one image", f"{one_s * 1000:.0f} ms"))
            rows.append((f"{model_id}: images/s (batches of 16)", f"{len(photos) / many_s:.1f}"))
    rows.append(("memory with all four loaded (RSS)", f"{rss_gb():.2f} GB"))

    fresh = create_registry(device=args.device, max_gb=100)
    for models in ("bert-base-uncased,minilm", "glove,minilm"):
        _, cold = timed(lambda: analyse(fresh, models, frame))
        _, warm = timed(lambda: analyse(fresh, models, frame))
        rows.append((f"anisotropy {models}: cold (load + embed + figures)", f"{cold:.1f} s"))
        rows.append((f"anisotropy {models}: warm (embeddings cached)", f"{warm:.1f} s"))
    rows.append(("peak memory of this process", f"{peak_gb():.2f} GB"))

    publish("real-models", rows, "benchmarks/bench_real_models.py --write-readme", args.write_readme, where=f"{registry.device}; ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
