"""A mixed class at once (bounded, loopback only): thirty students, each with their own
gradio_client, run one of four labs with a prediction and send their vote. Every
request must be answered and every vote be in the database."""
from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client, handle_file

from conftest import launch
from playground import create_plugin_manager, create_registry
from playground.app import build_app
from playground.classroom import VoteStore
from playground.images import photo_file

TOTAL_SECONDS = 600


def call(client: Client, api_name: str, **overrides):
    """``api_name`` with its default inputs, some overridden by parameter name."""
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]["parameters"]
    unknown = set(overrides) - {p["parameter_name"] for p in params} - {"prediction"}  # /clip_zero_shot has none
    assert not unknown, f"{api_name} has no parameter(s) {sorted(unknown)}"
    return client.predict(*[overrides.get(p["parameter_name"], p.get("parameter_default")) for p in params],
                          api_name=api_name)


@pytest.mark.slow
def test_a_mixed_class_is_answered_and_no_vote_is_lost(tiny_plugin, tmp_path):
    pm = create_plugin_manager(entry_points=False, extra=[tiny_plugin])
    votes = VoteStore(str(tmp_path / "votes.sqlite3"))
    demo = build_app(pm, create_registry(pm, device="cpu"), votes=votes)
    url = launch(demo)
    try:
        photo = handle_file(photo_file("chelsea"))
        q = votes.questions
        plan = (  # (lab run, its inputs, the question the student votes on)
            [("/anisotropy_run", {"a": "glove", "b": "minilm"}, ("anisotropy", "run"))] * 10
            + [("/triplet_margin_run", {"a": "glove", "b": "minilm"}, ("triplet_margin", "run"))] * 8
            + [("/temperature_run", {"model_id": "glove"}, ("temperature", "run"))] * 6
            + [("/clip_zero_shot", {"photo": photo, "labels_text": "cat, rocket", "model_id": "tiny-clip"},
                ("clip_zero_shot", "run"))] * 6
        )
        assert len(plan) == 30

        def one_student(i):
            api_name, inputs, (lab, question) = plan[i]
            client = Client(url, verbose=False)
            choice = q[(lab, question)].choices[i % len(q[(lab, question)].choices)]
            started = time.perf_counter()
            call(client, api_name, prediction=choice, **inputs)
            text, _ = client.predict(choice, None, api_name=f"/{lab}_class_{question}")
            return time.perf_counter() - started, "← you" in text

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=30) as pool:
            results = list(pool.map(one_student, range(30), timeout=TOTAL_SECONDS))
        wall = time.perf_counter() - started
    finally:
        demo.close()
    assert all(shown for _, shown in results)
    assert votes.count() == 30
    for lab, question, n in (("anisotropy", "run", 10), ("triplet_margin", "run", 8), ("temperature", "run", 6),
                             ("clip_zero_shot", "run", 6)):
        assert sum(votes.distribution(lab, question).values()) == n
    latencies = sorted(seconds for seconds, _ in results)
    print(f"\nmixed class: 30 students in {wall:.1f} s, p50 {statistics.median(latencies):.2f} s, "
          f"p95 {latencies[int(0.95 * 29)]:.2f} s")
