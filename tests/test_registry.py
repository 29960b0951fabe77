"""The shared model registry: load once under concurrency, LRU unloading under a budget,
unknown ids, offline availability with reasons, the embedding cache, session models."""
import threading
import time

import numpy as np
import pytest

from playground import ModelSpec, ModelUnavailableError, UnknownModelError, create_plugin_manager, create_registry
from playground.models.base import TextModel
from playground.models.registry import ModelRegistry, pick_device


class CountingModel(TextModel):
    def __init__(self, id, size_bytes, calls):
        super().__init__(id, "cpu")
        self.dim, self.size_bytes, self.calls = 4, size_bytes, calls

    def _encode(self, texts, batch_size):
        self.calls.extend(texts)
        return np.array([[len(t), 1.0, 0.0, 2.0] for t in texts])

    def memory_bytes(self):
        return self.size_bytes


def counting_spec(model_id, loads, size_gb=0.1, delay=0.0, calls=None):
    calls = calls if calls is not None else []

    def loader(spec, device):
        loads.append(spec.id)
        time.sleep(delay)
        return CountingModel(spec.id, int(size_gb * 1e9), calls)

    return ModelSpec(id=model_id, kind="text", loader=loader, size_gb=size_gb, aliases=(model_id.upper(),))


@pytest.fixture
def default_registry():
    return create_registry(create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False), device="cpu")


def test_model_loads_exactly_once_under_8_concurrent_threads():
    loads = []
    registry = ModelRegistry(device="cpu", max_gb=10)
    registry.register(counting_spec("slow", loads, delay=0.3))
    barrier = threading.Barrier(8)
    got = []

    def worker():
        barrier.wait()
        got.append(registry.get("slow"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["slow"]
    assert len(got) == 8 and all(m is got[0] for m in got)


def test_least_recently_used_model_is_unloaded_under_a_small_budget():
    loads = []
    registry = ModelRegistry(device="cpu", max_gb=0.25)
    for name in ("a", "b", "c"):
        registry.register(counting_spec(name, loads, size_gb=0.1))
    registry.get("a")
    registry.get("b")
    registry.get("a")  # a is now more recent than b
    registry.get("c")  # 0.3 GB > 0.25: b, the least recently used, goes
    assert registry.loaded_ids() == ["a", "c"]
    registry.get("b")
    assert registry.loaded_ids() == ["c", "b"]
    assert loads == ["a", "b", "c", "b"]


def test_unknown_id_lists_known_ids(default_registry):
    with pytest.raises(UnknownModelError) as info:
        default_registry.get("gpt-17")
    message = str(info.value)
    assert "gpt-17" in message
    for known in ("minilm", "glove", "bert-base-uncased", "clip-vit-b-32", "siglip-vit-b-16"):
        assert known in message


def test_aliases_resolve(default_registry):
    assert default_registry.resolve("all-MiniLM-L6-v2") == "minilm"
    assert default_registry.resolve("sentence-transformers/all-MiniLM-L6-v2") == "minilm"
    assert default_registry.resolve("CLIP") == "clip-vit-b-32"


def test_offline_availability_and_reasons(default_registry, monkeypatch):
    status = {row["id"]: row for row in default_registry.status()}
    assert status["minilm"]["available"] and "bundled" in status["minilm"]["reason"]
    assert status["glove"]["available"] and "bundled" in status["glove"]["reason"]
    for model_id in ("bert-base-uncased", "clip-vit-b-32", "siglip-vit-b-16"):
        assert not status[model_id]["available"]
        assert "Hugging Face Hub" in status[model_id]["reason"] and "PLAYGROUND_HUB" in status[model_id]["reason"]
    with pytest.raises(ModelUnavailableError, match="bert-base-uncased"):
        default_registry.get("bert")


def test_hub_policy_space_and_override(default_registry, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("SPACE_ID", "someone/playground")
    ok, reason = default_registry.availability("bert-base-uncased")
    assert ok and "downloads" in reason
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # always wins
    assert not default_registry.availability("bert-base-uncased")[0]


def test_an_unavailable_hub_model_names_the_setting_that_stops_it(default_registry, monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    cases = {  # (HF_HUB_OFFLINE, PLAYGROUND_HUB) -> what the reason must name
        ("1", "1"): "HF_HUB_OFFLINE=1 is set",  # offline wins, and the reason says so
        ("", "0"): "PLAYGROUND_HUB=0 turns downloads off",
        ("", ""): "downloads are off outside a Hugging Face Space unless PLAYGROUND_HUB=1",
    }
    for (offline, hub), named in cases.items():
        for name, value in (("HF_HUB_OFFLINE", offline), ("PLAYGROUND_HUB", hub)):
            if value:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        ok, reason = default_registry.availability("bert-base-uncased")
        assert not ok and named in reason and "does not reach" not in reason, reason
        with pytest.raises(ModelUnavailableError, match=named.split(" is ")[0]):
            default_registry.get("bert-base-uncased")


def test_embeddings_are_computed_once_per_text():
    calls = []
    registry = ModelRegistry(device="cpu", max_gb=10)
    registry.register(counting_spec("counter", [], calls=calls))
    model = registry.get("counter")
    first = model.encode_texts(["aa", "b", "aa"])
    second = model.encode_texts(["b", "ccc", "aa"])
    assert calls == ["b", "aa", "ccc"]  # each new text once, shortest first (batches pad least)
    assert np.allclose(first[0], second[2]) and np.allclose(np.linalg.norm(second, axis=1), 1)


def test_session_models_are_visible_only_to_their_session():
    registry = ModelRegistry(device="cpu", max_gb=10)
    mine = CountingModel("x", 0, [])
    registry.add_session_model("alice", "alice-tuned", mine)
    assert registry.get("alice-tuned", session="alice") is mine
    assert "alice-tuned" in registry.model_ids(kind="text", session="alice")
    assert "alice-tuned" not in registry.model_ids(kind="text", session="bob")
    with pytest.raises(UnknownModelError):
        registry.get("alice-tuned", session="bob")
    registry.drop_session("alice")
    with pytest.raises(UnknownModelError):
        registry.get("alice-tuned", session="alice")


def test_device_override(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DEVICE", "cpu")
    assert pick_device() == "cpu"
    monkeypatch.delenv("PLAYGROUND_DEVICE")
    assert pick_device() in ("cpu", "cuda", "mps")


def test_plugin_with_clashing_model_id_is_reported():
    import types

    from playground import hookimpl

    clash = types.ModuleType("clash")

    @hookimpl
    def register_models(register):
        register(ModelSpec(id="minilm", kind="text", family="glove"))

    clash.register_models = register_models
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False, extra=[clash])
    registry = create_registry(pm, device="cpu")
    assert registry.specs["minilm"].family == "sentence-transformers"
    assert [(e.plugin, e.stage) for e in pm.errors] == [("clash", "register_models")]


def test_session_models_never_share_cached_rows():
    registry = ModelRegistry(device="cpu", max_gb=10)

    class Fixed(CountingModel):
        def __init__(self, value):
            super().__init__("x", 0, [])
            self.value = value

        def _encode(self, texts, batch_size):
            return np.tile([self.value, 1.0, 0.0, 0.0], (len(texts), 1))

    registry.add_session_model("alice", "tuned", Fixed(1.0))
    registry.add_session_model("bob", "tuned", Fixed(-1.0))
    a = registry.get("tuned", session="alice").encode_texts(["same text"])
    b = registry.get("tuned", session="bob").encode_texts(["same text"])
    assert a[0, 0] > 0 > b[0, 0]
    registry.add_session_model("alice", "tuned", Fixed(-1.0))  # retrained under the same name
    assert registry.get("tuned", session="alice").encode_texts(["same text"])[0, 0] < 0
