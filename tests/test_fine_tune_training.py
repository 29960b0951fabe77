"""Training for real, on the bundled data with the bundled MiniLM, kept small enough
for CI: held-out MRR@10 rises, the shared model is never touched, the same seed
gives the same figures, the stop flag stops, the zip loads, the CLI prints
before/after."""
from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np
import pytest

from playground import create_plugin_manager, create_registry
from playground.models.base import TextModel
from plugins.fine_tune.compute import load_pairs, remove_stale_zips, run_fine_tune, save_model_zip, wrap_model
from plugins.fine_tune.metrics import METRIC_NAMES
from plugins.fine_tune.train import TrainSettings

# A CI-sized version of the default run: fewer pairs and steps, same data source,
# same recipe, a fixed seed.
CI_TRAIN, CI_HELDOUT = 192, 120
CI_SETTINGS = dict(seed=0, epochs=1, batch_size=32)  # the default recipe otherwise


@pytest.fixture(scope="module")
def registry():
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.fine_tune"), entry_points=False)
    return create_registry(pm, device="cpu")


@pytest.fixture(scope="module")
def minilm(registry):
    return registry.get("minilm")


def top_layer_checksum(st) -> float:
    return float(sum(p.detach().double().sum() for p in st[0].auto_model.encoder.layer[-1].parameters()))


@pytest.fixture(scope="module")
def ci_run(minilm):
    before_checksum = top_layer_checksum(minilm.st)
    result = run_fine_tune(minilm, load_pairs(None, max_train=CI_TRAIN, max_heldout=CI_HELDOUT),
                           TrainSettings(**CI_SETTINGS))
    return result, before_checksum


def test_fine_tune_raises_heldout_mrr(ci_run):
    result, _ = ci_run
    print({m: (round(result.before.metrics[m], 4), round(result.after.metrics[m], 4)) for m in METRIC_NAMES})
    assert len(result.log.losses) == result.log.steps_planned == CI_TRAIN // 32
    assert result.after.metrics["mrr@10"] > result.before.metrics["mrr@10"] + 0.02
    moved = result.rank_changes()
    assert moved["better"] > moved["worse"]
    # the positive/random gap widens: what the histograms show
    gap = lambda e: np.mean(e.positive) - np.mean(e.random)  # noqa: E731
    assert gap(result.after) > gap(result.before)


def test_reveal_ties_ranking_to_each_query_s_hardest_negatives_not_the_mean_gap(ci_run):
    from plugins.fine_tune.compute import reveal

    result, _ = ci_run
    text = reveal(result, None)
    moved = result.rank_changes()
    assert "what matters is the gap" not in text
    assert "*its* hardest negatives" in text and "the same query's green point" in text
    assert (f"here {moved['worse']} queries ranked their passage lower" in text) == (moved["worse"] > 0)


def test_shared_model_is_never_trained(ci_run, minilm):
    result, before_checksum = ci_run
    assert top_layer_checksum(minilm.st) == before_checksum
    assert top_layer_checksum(result.student) != before_checksum
    assert result.student is not minilm.st


def test_model_zip_loads_with_sentence_transformer(ci_run, tmp_path):
    from sentence_transformers import SentenceTransformer

    result, _ = ci_run
    archive = save_model_zip(result.student, "finetuned-minilm")
    with zipfile.ZipFile(archive) as z:
        assert "finetuned-minilm/modules.json" in z.namelist()
        z.extractall(tmp_path)
    remove_stale_zips(max_age_s=3600)
    assert os.path.exists(archive)  # a fresh one stays
    loaded = SentenceTransformer(str(tmp_path / "finetuned-minilm"), device="cpu")
    texts = ["Return the number of items in a deque.", "parse a JSON document from a string"]
    ours = wrap_model(result.student, "x", "cpu", cache=False).encode_texts(texts)
    theirs = loaded.encode(texts, normalize_embeddings=True)
    assert np.allclose(ours, theirs, atol=1e-5)
    shutil.rmtree(os.path.dirname(archive))


def test_same_seed_same_figures_and_stop(minilm):
    pairs = load_pairs(None, max_train=32, max_heldout=16)
    settings = TrainSettings(seed=7, batch_size=8, max_steps=2, learning_rate=2e-4)
    a = run_fine_tune(minilm, pairs, settings)
    b = run_fine_tune(minilm, pairs, settings)
    assert a.log.losses == b.log.losses
    assert a.after.metrics == b.after.metrics
    assert np.array_equal(a.after.positive, b.after.positive)
    assert a.provenance()["data_hash"] == b.provenance()["data_hash"]
    assert a.provenance()["versions"]["sentence_transformers"]

    steps = []
    stopped = run_fine_tune(minilm, pairs, settings, on_step=lambda s, t, loss: steps.append(s),
                            should_stop=lambda: len(steps) >= 1)
    assert stopped.log.stopped and steps == [1] and len(stopped.log.losses) == 1


def test_a_notebook_bar_hears_every_step_when_no_on_step_is_given(minilm):
    from playground.science.training import reporting_progress

    pairs = load_pairs(None, max_train=32, max_heldout=16)
    heard = []
    with reporting_progress(lambda step, steps, loss: heard.append((step, steps))):
        run_fine_tune(minilm, pairs, TrainSettings(seed=7, batch_size=8, max_steps=2, learning_rate=2e-4))
    assert heard == [(1, 2), (2, 2)]


def test_only_sentence_transformers_models_can_be_fine_tuned():
    class NotST(TextModel):
        pass

    with pytest.raises(ValueError, match="not a sentence-transformers model"):
        run_fine_tune(NotST("glove"), load_pairs(None, max_train=8, max_heldout=4))


def test_cli_prints_before_and_after(capsys):
    from playground.web.cli import main

    code = main(["run", "fine_tune", "--max-train", "24", "--max-heldout", "16", "--batch-size", "8",
                 "--max-steps", "1", "--seed", "3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("before", "after"):
        assert set(out[key]) == set(METRIC_NAMES)
        assert all(0 <= v <= 1 for v in out[key].values())
    assert out["steps"] == 1 and out["heldout_pairs"] == 16 and len(out["data_hash"]) == 64
    assert main(["run", "fine_tune", "--epochs", "9"]) == 1  # out of range: a message, not a traceback
    assert "epochs = 9 is out of range" in capsys.readouterr().err
