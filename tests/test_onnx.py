"""The ONNX Runtime path: the same vectors as torch, an explicit int8, and the
torch path whenever ONNX cannot serve."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import registry_of
from playground.models.onnx_runtime import onnx_available

needs_onnxruntime = pytest.mark.skipif(not onnx_available(), reason="onnxruntime is not installed: the torch path serves")


@pytest.fixture(scope="module")
def corpus_texts():
    from playground.data.corpus import load_corpus

    return load_corpus()["text"].tolist()


def minilm_registry(monkeypatch=None, onnx=True):
    from playground.models.catalog import DEFAULT_MODELS

    if monkeypatch is not None:
        monkeypatch.setenv("PLAYGROUND_ONNX", "1" if onnx else "0")
    return registry_of(*DEFAULT_MODELS)


@needs_onnxruntime
def test_minilm_on_onnx_matches_torch_on_the_corpus(monkeypatch, corpus_texts):
    onnx_model = minilm_registry(monkeypatch, onnx=True).get("minilm")
    torch_model = minilm_registry(monkeypatch, onnx=False).get("minilm")
    assert (onnx_model.backend, torch_model.backend) == ("onnxruntime", "torch")
    a, b = onnx_model.encode_texts(corpus_texts), torch_model.encode_texts(corpus_texts)
    assert (a * b).sum(axis=1).min() >= 0.9999


@needs_onnxruntime
def test_bert_family_cls_and_mean_on_onnx_match_torch(monkeypatch, tiny_specs, corpus_texts):
    from dataclasses import replace

    tiny = next(s for s in tiny_specs if s.id == "tiny-bert")
    specs = [tiny, replace(tiny, id="tiny-bert-mean", options={"pooling": "mean"})]
    for spec in specs:
        monkeypatch.setenv("PLAYGROUND_ONNX", "1")
        fast = registry_of(spec).get(spec.id)
        monkeypatch.setenv("PLAYGROUND_ONNX", "0")
        slow = registry_of(spec).get(spec.id)
        assert fast.backend == "onnxruntime" and slow.backend == "torch"
        a, b = fast.encode_texts(corpus_texts[:64]), slow.encode_texts(corpus_texts[:64])
        assert (a * b).sum(axis=1).min() >= 0.9999, spec.id


@needs_onnxruntime
def test_int8_is_an_explicit_id_with_its_fidelity_measured(monkeypatch):
    registry = minilm_registry(monkeypatch)
    int8 = registry.get("minilm-int8")
    assert int8.backend == "onnxruntime" and int8.onnx.path.name == "model-int8.onnx"
    fidelity = int8.fidelity
    assert 0.5 < fidelity["min_cosine"] <= fidelity["mean_cosine"] < 0.9999  # close, not the same: hence opt-in
    assert fidelity["texts"] > 300  # the whole bundled corpus, all four domains
    assert 0.5 < fidelity["alone_vs_batch_min_cosine"] < 0.9999  # int8 vectors depend a little on their batch
    row = next(r for r in registry.status() if r["id"] == "minilm-int8")
    assert row["fidelity"] == fidelity and row["backend"] == "onnxruntime"
    from playground.web.app import models_table

    shown = models_table(registry).set_index("id").loc["minilm-int8"]  # the Models tab's table
    assert shown["backend"] == "onnxruntime"
    assert f"min {fidelity['min_cosine']:.3f}, mean {fidelity['mean_cosine']:.3f}" in shown["fidelity"]
    assert not hasattr(registry.get("minilm"), "fidelity")  # the default is the exact fp32 graph


@needs_onnxruntime
def test_a_failed_export_falls_back_to_torch_and_says_so(monkeypatch, tmp_path, caplog):
    from playground.models import onnx_runtime

    monkeypatch.setenv("PLAYGROUND_ONNX_DIR", str(tmp_path))  # nothing cached: the export must run

    def broken_export(*args, **kwargs):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_runtime, "_export", broken_export)
    with caplog.at_level(logging.WARNING):
        model = minilm_registry(monkeypatch).get("minilm")
    assert model.backend == "torch"
    assert "exporter exploded" in caplog.text and "using torch" in caplog.text
    assert model.encode_texts(["still works"]).shape == (1, 384)


def test_without_onnxruntime_the_torch_path_serves(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    from playground.models.onnx_runtime import onnx_available

    assert not onnx_available()
    assert minilm_registry(monkeypatch).get("minilm").backend == "torch"


@needs_onnxruntime
def test_lab_figures_are_the_same_on_both_paths(monkeypatch):
    from playground.data.corpus import load_corpus
    from plugins.anisotropy.compute import analyse

    frame = load_corpus()
    fast = analyse(minilm_registry(monkeypatch, onnx=True), "glove,minilm", frame).figures()
    slow = analyse(minilm_registry(monkeypatch, onnx=False), "glove,minilm", frame).figures()
    for figure, value in slow["minilm"].items():
        assert fast["minilm"][figure] == pytest.approx(value, abs=1e-4), figure


@needs_onnxruntime
def test_the_disk_cache_stays_bounded(monkeypatch, tmp_path):
    from playground.models import onnx_runtime

    monkeypatch.setenv("PLAYGROUND_ONNX_DIR", str(tmp_path))
    for i in range(5):  # five exports of one model (say, five weight versions), then others
        (tmp_path / f"minilm-{i:016x}").mkdir()
    for i in range(20):
        (tmp_path / f"other{i}-{i:016x}").mkdir()
    onnx_runtime.prune("minilm", keep=tmp_path / "minilm-0000000000000000")
    left = {f.name for f in tmp_path.iterdir()}
    assert "minilm-0000000000000000" in left  # the one in use stays
    assert len([n for n in left if n.startswith("minilm-")]) <= onnx_runtime.KEEP_GRAPHS
    assert len(left) <= onnx_runtime.KEEP_ALL


def test_length_batches_cover_every_row_once_and_pad_little():
    from playground.models.onnx_runtime import length_batches

    lengths = [30, 8, 9, 31, 8, 60, 12, 9, 29, 8] * 10
    batches = length_batches(lengths, max_batch=16, max_padding=0.1)
    assert sorted(r for rows in batches for r in rows) == list(range(len(lengths)))
    for rows in batches:
        real = sum(lengths[r] for r in rows)
        assert len(rows) <= 16 and max(lengths[r] for r in rows) * len(rows) <= 1.1 * real
    assert length_batches([]) == []


@needs_onnxruntime
def test_texts_come_back_in_their_order_whatever_the_batches(monkeypatch, corpus_texts):
    model = minilm_registry(monkeypatch, onnx=True).get("minilm")
    texts = corpus_texts[:40][::-1]  # longest first, mixed lengths: batches reorder them
    together = model.onnx.encode(texts)
    one_by_one = np.concatenate([model.onnx.encode([t]) for t in texts])
    assert np.abs(together - one_by_one).max() < 1e-4


def test_the_graph_cache_falls_back_to_the_temp_dir_when_home_cannot_be_written(monkeypatch, tmp_path):
    import tempfile

    from playground.models.onnx_runtime import ONNX_DIR_ENV, cache_root

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.delenv(ONNX_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # playground-onnx cannot be made under a file
    assert cache_root() == Path(tempfile.gettempdir()) / "playground-onnx"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "playground-onnx"
