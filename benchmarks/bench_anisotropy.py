"""Speed of the anisotropy lab and of the registry's MiniLM encoding.

    python benchmarks/bench_anisotropy.py [--repeats 3] [--skip-umap]

Prints:
- the lab's end-to-end time over the bundled corpus with glove and minilm (every
  figure, one PCA projection and the plotly figures): cold (a fresh registry:
  models load, nothing cached) and warm (the same again in the same process);
- the first and a repeated UMAP projection in this process (numba's compiled
  code comes from the on-disk cache after the very first run on a machine);
- the registry's ``minilm`` embedding throughput against sentence-transformers'
  own ``encode`` on the same texts with the same loaded model, as a ratio (target:
  at least 1.0), and a cached repeat's ratio.
No timing is asserted: the figures are for people to read.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PLAYGROUND_UMAP_WARMUP", "0")  # timed explicitly below


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def lab_end_to_end(models=("glove", "minilm")) -> None:
    from playground import create_plugin_manager, create_registry
    from plugins.anisotropy.compute import analyse, load_texts
    from plugins.anisotropy.figures import all_figures

    frame = load_texts()
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False)
    registry = create_registry(pm, device="cpu")

    def once():
        result = analyse(registry, list(models), frame, projection="pca")
        all_figures(result)
        return result

    cold, result = _timed(once)
    warm = min(_timed(once)[0] for _ in range(2))
    print(f"lab end-to-end, {len(frame)} texts, {' vs '.join(models)}, all figures + PCA + plots")
    print(f"  cold (models load, nothing cached): {cold:7.2f} s   "
          f"(model loads: {', '.join(f'{m} {s:.2f} s' for m, s in registry.load_seconds.items())})")
    print(f"  warm (same process, cached):        {warm:7.2f} s")
    for model_id, report in result.reports.items():
        f = report.figures
        print(f"  {model_id:<8} separation_auc {f['separation_auc']:.3f}  mean_cosine {f['mean_cosine']:.3f}  "
              f"probe {f['probe_accuracy']:.3f} / noisy {f['probe_accuracy_noisy']:.3f}")
    return result


def umap_times(result) -> None:
    from plugins.anisotropy.compute import project
    from playground.science.geometry import enable_numba_disk_cache

    folder = enable_numba_disk_cache()
    first, _ = _timed(lambda: project(result, "umap"))
    again, _ = _timed(lambda: project(result, "umap"))
    tsne, _ = _timed(lambda: project(result, "tsne"))
    print(f"UMAP for both models: first in this process {first:.2f} s (imports umap; numba cache {folder}), "
          f"repeat {again:.2f} s; t-SNE for both {tsne:.2f} s")


def minilm_throughput(repeats: int) -> None:
    from playground import create_plugin_manager, create_registry
    from playground.data.corpus import load_corpus

    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False)
    registry = create_registry(pm, device="cpu")
    model = registry.get("minilm")
    st = model.st
    base = load_corpus()["text"].tolist()
    st.encode(base[:64])  # warm the kernels for both contenders
    ours, theirs, cached = [], [], []
    for k in range(repeats):
        texts = [f"{t} ({k})" for t in base]  # new texts each round: the registry's cache starts empty
        order = (("ours", "theirs") if k % 2 == 0 else ("theirs", "ours"))  # alternate who goes first
        for who in order:
            if who == "ours":
                ours.append(_timed(lambda: model.encode_texts(texts))[0])
            else:
                theirs.append(_timed(lambda: st.encode(texts))[0])
        cached.append(_timed(lambda: model.encode_texts(texts))[0])
    n = len(base)
    t_ours, t_theirs, t_cached = statistics.median(ours), statistics.median(theirs), statistics.median(cached)
    print(f"minilm throughput on {n} corpus texts (median of {repeats}, same loaded model, CPU):")
    print(f"  registry encode_texts:                {n / t_ours:8.1f} texts/s")
    print(f"  sentence-transformers encode:         {n / t_theirs:8.1f} texts/s")
    print(f"  ratio registry / sentence-transformers: {t_theirs / t_ours:.2f}  (target >= 1.0)")
    print(f"  cached repeat: {n / t_cached:,.0f} texts/s, ratio {t_theirs / t_cached:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the throughput comparison")
    parser.add_argument("--skip-umap", action="store_true", help="leave out the UMAP/t-SNE timings")
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}  load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    result = lab_end_to_end()
    if not args.skip_umap:
        umap_times(result)
    minilm_throughput(args.repeats)


if __name__ == "__main__":
    main()
