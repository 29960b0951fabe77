"""The shell's result cache: bounded, shared, computes an identical run once."""
import threading
import time

import pytest

from playground.web.result_cache import ResultCache, run_key


def test_hit_miss_and_bound():
    cache = ResultCache(max_items=2, enabled=True)
    calls = []
    for key in ("a", "b", "a", "c", "b"):
        cache.get_or_compute(key, lambda key=key: calls.append(key) or key.upper())
    assert calls == ["a", "b", "c", "b"]  # "b" was evicted by "c" ("a" had been used more recently)
    assert len(cache) == 2 and cache.hits == 1


def test_identical_runs_arriving_together_compute_once():
    cache = ResultCache(max_items=4, enabled=True)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1


def test_a_failed_run_is_not_stored_and_off_means_off():
    cache = ResultCache(max_items=4, enabled=True)
    with pytest.raises(ValueError):
        cache.get_or_compute("k", lambda: (_ for _ in ()).throw(ValueError("bad")))
    assert cache.get_or_compute("k", lambda: 1) == 1
    off = ResultCache(max_items=4, enabled=False)
    assert off.get_or_compute("k", lambda: 1) == 1 and off.get_or_compute("k", lambda: 2) == 2


def test_run_key_is_stable_and_tells_settings_apart():
    assert run_key("lab", ["a", "b"], 0.1, 0) == run_key("lab", ["a", "b"], 0.1, 0)
    assert run_key("lab", ["a", "b"], 0.1, 0) != run_key("lab", ["a", "b"], 0.1, 1)


def test_model_versions_keep_a_sessions_own_model_to_itself():
    from types import SimpleNamespace

    from playground.web.result_cache import model_versions

    trained = {"session-1": {"mine": SimpleNamespace(cache_key="session:1:mine:aaa")},
               "session-2": {"mine": SimpleNamespace(cache_key="session:2:mine:bbb")}}
    registry = SimpleNamespace(specs={"glove": "ModelSpec(id='glove', source='bundled')"},
                               session_models=lambda session: trained.get(session, {}))
    shared = model_versions(registry, ["glove"], "session-1")
    assert shared == model_versions(registry, ["glove"], "session-2")  # a registered model: one key for all
    first = model_versions(registry, ["mine"], "session-1")
    assert first != model_versions(registry, ["mine"], "session-2")
    trained["session-1"]["mine"] = SimpleNamespace(cache_key="session:1:mine:ccc")  # retrained, same name
    assert first != model_versions(registry, ["mine"], "session-1")


def test_data_hash_reads_frames_text_and_bytes():
    import pandas as pd

    from playground.web.result_cache import data_hash

    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    assert data_hash(frame) == data_hash(frame.copy()) != data_hash(frame.iloc[::-1].reset_index(drop=True))
    assert data_hash("\x00\x01") == data_hash(b"\x00\x01") != data_hash(b"\x00\x02")


def test_the_class_labs_share_identical_runs_and_keep_session_models_apart(serve, tiny_plugin, tmp_path):
    """Two students with the same settings: the second gets the first's run (a hit), with
    their own reveal; a model trained in one session is never shared with another."""
    from gradio_client import Client, handle_file

    from playground import create_plugin_manager, create_registry
    from playground.web.app import build_app
    from playground.data.images import photo_file

    pm = create_plugin_manager(
        builtins=("playground.contract.default_models", "plugins.triplet_margin", "plugins.temperature",
                  "plugins.clip_zero_shot"), entry_points=False, extra=[tiny_plugin])
    registry = create_registry(pm, device="cpu")
    demo = build_app(pm, registry)
    url = serve(demo)
    cache = demo.playground_results
    runs = {
        "/triplet_margin_run": lambda p: ("glove", None, "cosine", "random", None, 20, 100, 0, 0.2, p),
        "/temperature_run": lambda p: ("glove", "label", "0.05, 1", 10, 40, 0, p),
        "/clip_zero_shot": lambda p: (handle_file(photo_file("chelsea")), "cat, rocket", "a photo of a {}.",
                                      "tiny-clip"),
    }
    first, second = Client(url, verbose=False), Client(url, verbose=False)
    for api_name, inputs in runs.items():
        misses, hits = cache.misses, cache.hits
        one = first.predict(*inputs("it never falls" if "triplet" in api_name else None), api_name=api_name)
        two = second.predict(*inputs(None), api_name=api_name)
        assert (cache.misses, cache.hits) == (misses + 1, hits + 1), api_name
        if "triplet" in api_name:  # the same figures, each with its own student's reveal
            assert "Your prediction was right" in one[0] and "You did not predict" in two[0] and one[2] == two[2]
    # a model trained in each session under the same id: the same inputs are not the same run
    for client in (first, second):
        registry.add_session_model(client.session_hash, "my-clip", registry.get("tiny-clip"))
    misses, hits = cache.misses, cache.hits
    for client in (first, second):
        client.predict(*runs["/clip_zero_shot"](None)[:3], "my-clip", api_name="/clip_zero_shot")
    assert (cache.misses, cache.hits) == (misses + 2, hits)
