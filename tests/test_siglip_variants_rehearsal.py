"""The SigLIP resolution ids and the multilingual one from the Hub rehearsal (real repo ids, file names and shapes;
random weights): they load from a Hugging Face cache laid out as ``hf download`` leaves it,
and a local run sends zero requests to a request-logging Hub stand-in."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.rehearsal

IDS = {"siglip-vit-b-16-256": 256, "siglip-vit-b-16-384": 384, "siglip-vit-b-16-512": 512}


@pytest.fixture(scope="module")
def repos():
    from playground.models.rehearsal.build import SIGLIP, SIGLIP_I18N, SIGLIP_RESOLUTIONS, rehearsal_repos

    built = rehearsal_repos()
    return {repo: built[repo] for repo in (SIGLIP, *SIGLIP_RESOLUTIONS.values(), SIGLIP_I18N)}


@pytest.fixture(scope="module")
def download_cache(repos, tmp_path_factory):
    from playground.models.rehearsal.build import make_hf_cache

    return make_hf_cache(tmp_path_factory.mktemp("hf-download"), repos, layout="download")


@pytest.fixture
def registry(download_cache, monkeypatch):
    """A registry of the standard ids reading the download-layout cache."""
    from huggingface_hub import constants

    from conftest import registry_of
    from playground.models.catalog import DEFAULT_MODELS

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(download_cache))
    return registry_of(*DEFAULT_MODELS)


def test_each_resolution_loads_offline_with_its_own_patch_grid(registry):
    from PIL import Image

    from playground.science.zero_shot import vit_view

    for model_id, side in IDS.items():
        ok, reason = registry.availability(model_id)
        assert ok and "cache" in reason, (model_id, reason)
        model = registry.get(model_id)
        grid = side // 16
        assert model.scoring == "sigmoid" and model.patch_size == 16
        assert f"{grid}×{grid} = {grid * grid} patches" in vit_view(model, Image.new("RGB", (640, 480))).caption()
        assert model.encode_images([Image.new("RGB", (64, 64))]).shape == (1, 768)
        registry.unload(model_id)  # one 0.8 GB model at a time


def test_a_local_run_sends_no_request(repos, download_cache):
    from playground.models.rehearsal.hub_server import serve_hub

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "SPACE_ID", "PLAYGROUND_HUB", "HF_ENDPOINT")}
    with serve_hub(repos) as hub:
        env.update(HF_HUB_CACHE=str(download_cache), HF_ENDPOINT=hub.url)
        for model_id in ("siglip-vit-b-16-384", "siglip-vit-b-16-i18n-256"):
            proc = subprocess.run(
                [sys.executable, "-m", "playground", "run", "clip_zero_shot", "--image", "bundled:chelsea",
                 "--labels", "cat,Katze,猫", "--model", model_id, "--json"],
                env=env, capture_output=True, text=True, timeout=600,
            )
            assert proc.returncode == 0, proc.stderr[-3000:]
            result = json.loads(proc.stdout)
            assert result["model"] == model_id and result["scoring"] == "sigmoid"
        assert hub.requests == []


def test_the_multilingual_id_loads_offline_with_a_250k_piece_tokenizer(registry):
    ok, reason = registry.availability("siglip-vit-b-16-i18n-256")
    assert ok and "cache" in reason, reason
    model = registry.get("siglip-vit-b-16-i18n-256")
    assert model.scoring == "sigmoid" and model.patch_size == 16
    assert len(model.tokenizer.tokenizer) == 250_000
    labels = ["a red circle", "ein roter Kreis", "un cercle rouge", "赤い丸", "دائرة حمراء"]
    assert model.tokenizer(labels).shape == (5, 64)
    unk = model.tokenizer.tokenizer.unk_token_id
    for label in labels:  # the stand-in covers every script of the lab's five languages
        assert unk not in model.tokenizer.tokenizer(label)["input_ids"], label
    assert model.encode_texts(labels).shape == (5, 768)
    registry.unload("siglip-vit-b-16-i18n-256")


def test_the_same_photo_in_five_languages_through_both_real_ids(registry):
    """The 'real' part headless: each language's labels as independent sigmoids, per model."""
    import argparse

    from playground.contract.lab import LabContext
    from plugins.siglip_variants.headless import add_arguments, format_result, run
    from plugins.siglip_variants.real_models import MODEL_IDS, PHOTO_LABELS, needs_the_hub, score_table

    assert needs_the_hub(registry) == ""  # the tab's panel has nothing to warn about
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    result = run(parser.parse_args(["--part", "real"]), LabContext(registry=registry))
    assert [row["model"] for row in result["real"]] == list(MODEL_IDS)
    for row in result["real"]:
        assert "unavailable" not in row, row
        for lang, labels in PHOTO_LABELS.items():
            scores = row["languages"][lang]
            assert list(scores) == list(labels) and all(0 <= p <= 1 for p in scores.values())
    assert "siglip-vit-b-16-i18n-256 (sigmoid)" in format_result(result)
    table = score_table(result["real"])  # what the tab's panel shows
    assert len(table) == sum(len(labels) for labels in PHOTO_LABELS.values())
    assert all(set(MODEL_IDS) <= set(row) for row in table)
