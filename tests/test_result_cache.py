"""The shell's result cache: bounded, shared, computes an identical run once."""
import threading
import time

import pytest

from playground.result_cache import ResultCache, run_key


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
