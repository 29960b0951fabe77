"""What ``@gpu`` costs off ZeroGPU: nothing measurable.

    python benchmarks/bench_gpu_overhead.py

Off ZeroGPU the decorator returns the function itself, so a decorated call is a plain
call. What remains is the check ``encode_texts`` makes when it has new texts to
encode (are we on ZeroGPU, outside a worker?); a fully cached call skips it. This
prints that check's cost against the cheapest work it guards (one fresh text through
MiniLM), both measured in this process. Nothing here is asserted by the tests.
"""
from __future__ import annotations

import os
import sys
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.pop("SPACES_ZERO_GPU", None)


def main() -> int:
    from playground.models.gpu import dispatch_to_gpu, gpu
    from playground import create_registry

    def plain(x):
        return x

    returns_itself = gpu(plain) is plain
    model = create_registry(device="cpu").get("minilm")
    locator = model.locator
    n = 200_000
    check_us = timeit.timeit(lambda: dispatch_to_gpu(locator), number=n) / n * 1e6
    model.encode_texts(["warm-up"])
    fresh = [f"a fresh text number {i}" for i in range(50)]
    started = time.perf_counter()
    for text in fresh:
        model.encode_texts([text])
    one_text_us = (time.perf_counter() - started) / len(fresh) * 1e6
    cached_us = timeit.timeit(lambda: model.encode_texts(fresh[:1]), number=2000) / 2000 * 1e6
    print(f"@gpu off ZeroGPU returns the function itself:      {'yes' if returns_itself else 'NO'}")
    print(f"ZeroGPU check per encode_texts call:              {check_us:.2f} µs")
    print(f"one fresh text through MiniLM:                     {one_text_us:.0f} µs  (check = {check_us / one_text_us:.4%})")
    print(f"one cached text (no model call, so no check):     {cached_us:.1f} µs")
    return 0 if returns_itself else 1


if __name__ == "__main__":
    sys.exit(main())
