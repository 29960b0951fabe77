"""A class hitting one app at once: about 30 concurrent requests through gradio_client,
mixed across labs, bounded in count and time. Every one must succeed, none be lost,
and each model must load exactly once. p50/p95 latency are reported (not asserted)."""
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client, handle_file

from conftest import ARTIFACTS
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.data.images import photo_file

TOTAL_SECONDS = 300


def requests_mix():
    """(api_name, args, check) for 30 requests across four labs and the Models panel."""
    photo = handle_file(photo_file("chelsea"))
    rocket = handle_file(photo_file("rocket"))
    mix = []
    for i in range(9):
        mix.append(("/clip_zero_shot", (photo if i % 2 else rocket, "cat, rocket, coffee cup"),
                    lambda out: abs(sum(c["confidence"] for c in out["confidences"]) - 1) < 1e-3))
    for i in range(6):
        mix.append(("/siglip_compare", (photo, f"cat, dog, label{i}"), lambda out: len(out) == 2))
    for i in range(9):
        model = "glove" if i % 2 else "minilm"
        mix.append(("/temperature_live", (model, [0.05, 0.1, 0.5][i % 3], 10, 0),
                    lambda out: "the positive gets" in out[0]))
    for _ in range(6):
        mix.append(("/models_status", (), lambda out: "minilm" in json.dumps(out)))
    return mix


@pytest.mark.slow
def test_thirty_concurrent_requests_all_succeed_and_models_load_once(serve, tiny_plugin):
    pm = create_plugin_manager(entry_points=False, extra=[tiny_plugin])
    demo = build_app(pm, create_registry(pm, device="cpu"))
    registry = demo.playground_registry
    url = serve(demo)
    clients = [Client(url, verbose=False) for _ in range(5)]  # five students' browser tabs
    mix = requests_mix()
    assert len(mix) == 30

    def call(i):
        api_name, args, check = mix[i]
        started = time.perf_counter()
        out = clients[i % len(clients)].predict(*args, api_name=api_name)
        return api_name, time.perf_counter() - started, check(out)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=30) as pool:
        futures = [pool.submit(call, i) for i in range(len(mix))]
        results = [f.result(timeout=TOTAL_SECONDS) for f in futures]
    wall = time.perf_counter() - started

    assert len(results) == 30 and all(ok for _, _, ok in results), [r for r in results if not r[2]]
    assert all(count == 1 for count in registry.load_counts.values()), registry.load_counts
    assert {"minilm", "glove", "tiny-clip", "tiny-siglip"} <= set(registry.load_counts)

    latencies = sorted(seconds for _, seconds, _ in results)
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    report = {"requests": 30, "wall_s": round(wall, 2), "p50_s": round(p50, 3), "p95_s": round(p95, 3),
              "load_counts": registry.load_counts}
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "load.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(f"\nload: 30 requests in {wall:.1f} s, p50 {p50:.2f} s, p95 {p95:.2f} s")
