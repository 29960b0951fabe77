"""A class pressing Run at once: 30 simultaneous default anisotropy runs, each from
its own gradio_client session, against an app served on loopback in a child process.

    python benchmarks/bench_classroom.py [--students 30] [--no-cache | --compare] [--write-readme]

Prints the wall time and the p50/p95 of the per-student latency (goal: p95 <= 3 s on
the 2-core development machine). One warm-up run first loads the models, as the
instructor's own demo run does before the class presses Run. ``--no-cache`` turns the
shell's result cache off (``PLAYGROUND_RESULT_CACHE=0``) to measure without it;
``--compare`` measures both, each against a fresh server.
``--write-readme`` puts the printed block between the README's classroom-bench markers.
No timing is asserted.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PLAYGROUND_UMAP_WARMUP", "0")
os.environ.setdefault("PLAYGROUND_DATA_DIR", tempfile.mkdtemp(prefix="playground-bench-votes-"))

DEFAULT_RUN = ("glove", "minilm", None, 0, 0.1, "after", "pca", "high", "total")
MARK_BEGIN, MARK_END = "<!-- classroom-bench:begin -->", "<!-- classroom-bench:end -->"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def serve_forever(port: int) -> None:
    """The server process: the anisotropy lab with the offline models, on loopback."""
    from playground import create_plugin_manager, create_registry
    from playground.app import build_app, launch_kwargs

    pm = create_plugin_manager(builtins=("playground.models.defaults", "plugins.anisotropy"), entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    demo.launch(server_name="127.0.0.1", server_port=port, quiet=True, **launch_kwargs())


def serve_app(cache: bool) -> tuple[subprocess.Popen, str]:
    """Start the server in its own process (the students' clients must not share its GIL); wait until it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PLAYGROUND_RESULT_CACHE": "1" if cache else "0"}
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2):
                return server, url
        except OSError:
            if server.poll() is not None:
                raise SystemExit("The benchmark's server process exited; run it alone to see why.")
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("The benchmark's server did not answer within 180 s.")


def bench(students: int, cache: bool) -> dict:
    from gradio_client import Client

    server, url = serve_app(cache)
    try:
        warm = time.perf_counter()
        Client(url, verbose=False).predict(*DEFAULT_RUN, api_name="/anisotropy_run")
        warm = time.perf_counter() - warm
        clients = [Client(url, verbose=False) for _ in range(students)]

        def press_run(client) -> float:
            start = time.perf_counter()
            client.predict(*DEFAULT_RUN, api_name="/anisotropy_run")
            return time.perf_counter() - start

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=students) as pool:
            latencies = list(pool.map(press_run, clients, timeout=600))
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"students": students, "warm": warm, "wall": wall, "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95), "max": max(latencies)}


def report(figures: dict, cache: bool) -> str:
    return (
        f"{figures['students']} simultaneous default anisotropy runs (glove vs minilm), one gradio_client each, "
        f"result cache {'on' if cache else 'off'}, {os.cpu_count()} CPU cores:\n"
        f"warm-up run {figures['warm']:.1f} s; all answered; wall {figures['wall']:.1f} s; "
        f"p50 {figures['p50']:.2f} s; p95 {figures['p95']:.2f} s; max {figures['max']:.2f} s "
        f"(goal p95 <= 3 s: {'met' if figures['p95'] <= 3 else 'missed'})"
    )


def write_readme(text: str) -> None:
    path = os.path.join(ROOT, "README.md")
    readme = open(path, encoding="utf-8").read()
    block = f"{MARK_BEGIN}\n```\n{text}\n```\n{MARK_END}"
    pattern = re.compile(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {MARK_BEGIN} ... {MARK_END} block to fill.")
    open(path, "w", encoding="utf-8").write(pattern.sub(lambda _: block, readme))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--no-cache", action="store_true", help="turn the shell's result cache off")
    parser.add_argument("--compare", action="store_true", help="measure without the cache, then with it")
    parser.add_argument("--write-readme", action="store_true", help="write the result into README.md's marked block")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)  # the server process itself
    args = parser.parse_args()
    if args.serve:
        return serve_forever(args.serve)
    students = max(1, min(args.students, 100))
    modes = [False, True] if args.compare else [not args.no_cache]
    text = "\n".join(report(bench(students, cache), cache) for cache in modes)
    print(text)
    if args.write_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
