"""CLIP and SigLIP towers on ONNX Runtime: the same rows as torch, and torch
whenever ONNX cannot serve."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from conftest import registry_of
from playground.models.onnx_runtime import onnx_available

TEXTS = ["a photo of a cat", "a red car", "an astronaut on the moon", "a cup of coffee", "dog", "a small blue bird in a tree"]

needs_onnxruntime = pytest.mark.skipif(not onnx_available(), reason="onnxruntime is not installed: the torch path serves")


@pytest.fixture(scope="module")
def photos():
    from PIL import Image

    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40 + 3 * i, 48, 3), dtype=np.uint8)) for i in range(5)]


def both_paths(monkeypatch, spec):
    monkeypatch.setenv("PLAYGROUND_ONNX", "1")
    fast = registry_of(spec).get(spec.id)
    monkeypatch.setenv("PLAYGROUND_ONNX", "0")
    slow = registry_of(spec).get(spec.id)
    return fast, slow


@needs_onnxruntime
@pytest.mark.parametrize("model_id", ["tiny-clip", "tiny-siglip"])
def test_towers_on_onnx_match_torch(monkeypatch, tiny_specs, photos, model_id):
    spec = next(s for s in tiny_specs if s.id == model_id)
    fast, slow = both_paths(monkeypatch, spec)
    assert (fast.backend, slow.backend) == ("onnxruntime", "torch")
    assert fast.onnx_image is not None and fast.onnx_text is not None
    for a, b in ((fast.encode_images(photos), slow.encode_images(photos)), (fast.encode_texts(TEXTS), slow.encode_texts(TEXTS))):
        assert a.shape == b.shape and (a * b).sum(axis=1).min() >= 0.9999
    probs = fast.probabilities(fast.encode_images(photos), fast.encode_texts(TEXTS))
    assert probs == pytest.approx(slow.probabilities(slow.encode_images(photos), slow.encode_texts(TEXTS)), abs=1e-4)


@needs_onnxruntime
def test_a_second_load_reuses_the_exported_towers(monkeypatch, tiny_specs):
    spec = next(s for s in tiny_specs if s.id == "tiny-clip")
    monkeypatch.setenv("PLAYGROUND_ONNX", "1")
    first, second = registry_of(spec).get(spec.id), registry_of(spec).get(spec.id)
    assert first.onnx_image.path == second.onnx_image.path != first.onnx_text.path
    assert first.memory_bytes() > sum(t.file_bytes() for t in (first.onnx_image, first.onnx_text))


@needs_onnxruntime
def test_a_failed_tower_export_falls_back_to_torch_and_says_so(monkeypatch, tmp_path, tiny_specs, photos, caplog):
    from playground.models import onnx_runtime

    monkeypatch.setenv("PLAYGROUND_ONNX_DIR", str(tmp_path))  # nothing cached: the export must run
    real_export = onnx_runtime._export_tower

    def image_export_fails(model, method, sample, path):
        if method == "encode_image":
            raise RuntimeError("exporter exploded")
        real_export(model, method, sample, path)

    monkeypatch.setattr(onnx_runtime, "_export_tower", image_export_fails)
    spec = next(s for s in tiny_specs if s.id == "tiny-siglip")
    with caplog.at_level(logging.WARNING):
        fast, slow = both_paths(monkeypatch, spec)
    assert fast.onnx_image is None and fast.onnx_text is not None
    assert fast.backend == "torch (text tower on onnxruntime)"
    assert "exporter exploded" in caplog.text and "image tower" in caplog.text and "using torch" in caplog.text
    a, b = fast.encode_images(photos), slow.encode_images(photos)
    assert (a * b).sum(axis=1).min() >= 0.9999


def test_without_onnxruntime_the_towers_stay_on_torch(monkeypatch, tiny_specs):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    monkeypatch.setenv("PLAYGROUND_ONNX", "1")
    spec = next(s for s in tiny_specs if s.id == "tiny-clip")
    model = registry_of(spec).get(spec.id)
    assert model.backend == "torch" and model.encode_texts(["still works"]).shape == (1, model.dim)


def test_the_tower_key_changes_with_the_recipe(tmp_path):
    from playground.models.onnx_runtime import graph_key

    weights = tmp_path / "w.bin"
    weights.write_bytes(b"x")
    image = graph_key("m-image", [str(weights)], False, recipe={"method": "encode_image"})
    assert image != graph_key("m-image", [str(weights)], False, recipe={"method": "encode_text"})
    assert image != graph_key("m-image", [str(weights)], False)
