"""The Hub rehearsal: the real models' repos (real ids, file names, shapes; random
weights) in a Hugging Face cache, and a loopback stand-in for the Hub.

The repos are built once per machine (``playground.models.rehearsal.build``, about a
minute) and reused. No request leaves this machine: the stand-in listens on
127.0.0.1, and every request it gets is logged so the tests can count them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import registry_of

pytestmark = pytest.mark.rehearsal

REAL_IDS = ("bert-base-uncased", "bert-base-uncased-mean", "clip-vit-b-32", "siglip-vit-b-16")
HANG_BOUND_S = 20  # a load against a Hub that never answers ends within this


@pytest.fixture(scope="session")
def repos():
    from playground.models.rehearsal.build import rehearsal_repos

    return rehearsal_repos()


@pytest.fixture(scope="session")
def download_cache(repos, tmp_path_factory):
    """A cache as ``hf download`` leaves it: every file, no markers."""
    from playground.models.rehearsal.build import make_hf_cache

    return make_hf_cache(tmp_path_factory.mktemp("hf-download"), repos, layout="download")


@pytest.fixture(scope="session")
def space_cache(repos, tmp_path_factory):
    """A cache as a Space leaves it after first use."""
    from playground.models.rehearsal.build import make_hf_cache

    return make_hf_cache(tmp_path_factory.mktemp("hf-space"), repos, layout="space")


@pytest.fixture
def hub_env(monkeypatch):
    """``hub_env(cache, endpoint=None, space=False)``: point this process's
    huggingface_hub at ``cache`` (and the stand-in), as a local run or a Space."""
    from huggingface_hub import constants

    def apply(cache, endpoint=None, space=False):
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("PLAYGROUND_HUB", raising=False)
        if endpoint:  # as if HF_ENDPOINT had been set before huggingface_hub was imported
            monkeypatch.setattr(constants, "ENDPOINT", endpoint)
            monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
            monkeypatch.setenv("HF_ENDPOINT", endpoint)
        if space:
            monkeypatch.setenv("SPACE_ID", "teacher/contrastive-playground")
        else:
            monkeypatch.delenv("SPACE_ID", raising=False)

    return apply


def default_registry():
    from playground.models.catalog import DEFAULT_MODELS

    return registry_of(*DEFAULT_MODELS)


# -- the acceptance runs, as a user types them -----------------------------------------
DRIVER = r"""
import json, sys, warnings
warnings.simplefilter("always")
from playground.web.cli import main
for argv in json.loads(sys.argv[1]):
    print("=== " + " ".join(argv), flush=True)
    code = main(argv)
    print("=== exit %d" % code, flush=True)
"""


def run_cli(runs, cache, extra_env) -> subprocess.CompletedProcess:
    """The CLI runs ``runs`` (argv lists) in one fresh process with a clean Hub environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "SPACE_ID", "PLAYGROUND_HUB", "HF_ENDPOINT")}
    env.update(HF_HUB_CACHE=str(cache), **extra_env)
    return subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(runs)], env=env, capture_output=True, text=True, timeout=900,
    )


def acceptance_runs(photo):
    return [
        ["run", "clip_zero_shot", "--image", photo, "--labels", "cat,dog,car", "--model", "clip-vit-b-32", "--json"],
        ["run", "clip_zero_shot", "--image", photo, "--labels", "cat,dog,car", "--model", "siglip-vit-b-16", "--json"],
        ["run", "anisotropy", "--models", "bert-base-uncased,minilm", "--json"],
    ]


def outputs(proc) -> list[dict]:
    """The JSON each run printed, in order; fails with the process's output if a run failed."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    chunks = proc.stdout.split("=== ")[1:]
    results = []
    for head, tail in zip(chunks[::2], chunks[1::2]):
        assert tail.strip() == "exit 0", f"{head.splitlines()[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        results.append(json.loads(head.split("\n", 1)[1]))
    return results


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    return str(path)


def check_acceptance_outputs(results):
    clip, siglip, anisotropy = results
    assert clip["model"] == "clip-vit-b-32" and clip["scoring"] == "softmax"
    assert abs(clip["sum"] - 1) < 1e-4
    assert siglip["model"] == "siglip-vit-b-16" and siglip["scoring"] == "sigmoid"
    assert set(siglip["scores"]) == {"cat", "dog", "car"}
    assert {"bert-base-uncased", "minilm"} <= set(anisotropy)  # beside "settings"
    assert 0 <= anisotropy["bert-base-uncased"]["separation_auc"] <= 1


def test_offline_cache_as_hf_download_leaves_it(download_cache, photo):
    """Acceptance: HF_HUB_OFFLINE=1 and a cache as ``hf download`` leaves it: the
    three runs succeed, and open_clip says nothing about QuickGELU."""
    proc = run_cli(acceptance_runs(photo), download_cache, {"HF_HUB_OFFLINE": "1"})
    check_acceptance_outputs(outputs(proc))
    assert "QuickGELU" not in proc.stderr
    assert "UNEXPECTED" not in proc.stderr  # BERT's unused pre-training heads are not reported as a table


def test_local_run_sends_no_request(repos, download_cache, photo):
    """Acceptance: with HF_ENDPOINT at a request-logging stand-in and HF_HUB_OFFLINE,
    SPACE_ID and PLAYGROUND_HUB unset, the same runs send zero requests."""
    from playground.models.rehearsal.hub_server import serve_hub

    with serve_hub(repos) as hub:
        proc = run_cli(acceptance_runs(photo), download_cache, {"HF_ENDPOINT": hub.url})
        check_acceptance_outputs(outputs(proc))
        assert hub.requests == []


# -- availability means every file -------------------------------------------------------
def test_every_real_model_available_from_a_full_cache(download_cache, hub_env):
    hub_env(download_cache)
    registry = default_registry()
    for model_id in REAL_IDS:
        ok, reason = registry.availability(model_id)
        assert ok and "cache" in reason, (model_id, reason)


def test_config_without_weights_is_unavailable_and_the_lab_falls_back(repos, tmp_path, hub_env):
    from playground.models.rehearsal.build import BERT, make_hf_cache
    from plugins.anisotropy.compute import default_models

    cache = make_hf_cache(tmp_path, repos, files={BERT: ["config.json", "vocab.txt"]})
    hub_env(cache)
    registry = default_registry()
    ok, reason = registry.availability("bert-base-uncased")
    assert not ok
    assert "model.safetensors or pytorch_model.bin" in reason and "part of bert-base-uncased" in reason
    model_a, model_b, note = default_models(registry)
    assert (model_a, model_b) == ("glove", "minilm")
    assert "model.safetensors" in note


def test_siglip_without_its_tokenizer_is_unavailable(repos, tmp_path, hub_env):
    from playground.models.rehearsal.build import SIGLIP, make_hf_cache

    cache = make_hf_cache(tmp_path, repos, files={SIGLIP: ["open_clip_model.safetensors", "open_clip_config.json"]})
    hub_env(cache)
    ok, reason = default_registry().availability("siglip-vit-b-16")
    assert not ok and "tokenizer_config.json" in reason


# -- the models themselves, at real shapes -----------------------------------------------
@pytest.fixture(scope="module")
def real_registry(download_cache):
    """One registry over the full cache, shared by this module's model tests."""
    from huggingface_hub import constants

    old = constants.HF_HUB_CACHE
    constants.HF_HUB_CACHE = str(download_cache)
    try:
        yield default_registry()
    finally:
        constants.HF_HUB_CACHE = old


def test_clip_runs_with_quick_gelu_and_no_warning(real_registry, recwarn):
    from open_clip.transformer import QuickGELU

    model = real_registry.get("clip-vit-b-32")
    activations = {type(m) for m in model.model.modules() if "GELU" in type(m).__name__}
    assert activations == {QuickGELU}
    assert not [w for w in recwarn if "QuickGELU" in str(w.message)]
    assert model.scoring == "softmax" and model.dim == 512 and model.patch_size == 32


def test_siglip_reads_its_tokenizer_from_the_repo(real_registry):
    model = real_registry.get("siglip-vit-b-16")
    assert model.scoring == "sigmoid" and model.dim == 768 and model.patch_size == 16
    assert model.tokenizer.tokenizer.vocab_size == 32000
    tokens = model.tokenizer(["a photo of a cat"])
    assert tokens.shape == (1, 64)


def test_bert_loads_without_the_unexpected_keys_table(real_registry, capfd, caplog):
    model = real_registry.get("bert-base-uncased")
    out = capfd.readouterr()
    assert "UNEXPECTED" not in out.err + out.out + caplog.text
    vectors = model.encode_texts(["a short text", "another one"])
    assert vectors.shape == (2, 768)


def test_every_lab_headless_on_the_real_shapes(real_registry, photo):
    """Each lab that takes a Hub model runs headless with each real id it accepts."""
    from playground.contract.lab import LabContext
    from playground.contract.plugins import collect_labs, create_plugin_manager

    labs = {lab.id: lab for lab in collect_labs(create_plugin_manager())}
    ctx = LabContext(registry=real_registry, lab_id="")
    runs = {
        "anisotropy": ["--models", "bert-base-uncased-mean,minilm"],
        "triplet_margin": ["--models", "bert-base-uncased,minilm", "--triplets", "40", "--per-label", "10"],
        "temperature": ["--model", "bert-base-uncased", "--taus", "0.1", "--steps", "10", "--per-label", "6"],
        "clip_zero_shot": ["--image", photo, "--labels", "cat,dog", "--model", "siglip-vit-b-16"],
        "siglip_compare": ["--image", photo, "--labels", "cat,dog", "--no-losses"],
    }
    import argparse

    for lab_id, argv in runs.items():
        lab = labs[lab_id]
        parser = argparse.ArgumentParser()
        lab.add_arguments(parser)
        result = lab.run(parser.parse_args(argv), ctx)
        assert result, lab_id


# -- on a Space: downloads, bounded failures -------------------------------------------
def test_space_downloads_once_then_sends_nothing(repos, tmp_path, hub_env):
    from playground.models.rehearsal.hub_server import serve_hub

    with serve_hub(repos) as hub:
        hub_env(tmp_path, endpoint=hub.url, space=True)
        registry = default_registry()
        assert registry.availability("bert-base-uncased")[0]
        registry.get("bert-base-uncased")
        fetched = [p for p in hub.paths() if "/resolve/" in p]
        assert any(p.endswith("/model.safetensors") for p in fetched)
        assert not any(p.endswith("/pytorch_model.bin") for p in fetched)  # one weights file, not both
        before = len(hub.requests)
        default_registry().get("bert-base-uncased")  # a restart with the files cached
        assert len(hub.requests) == before


def test_space_layout_loads_every_model_without_a_request(repos, space_cache, hub_env):
    from playground.models.rehearsal.hub_server import serve_hub

    with serve_hub(repos) as hub:
        hub_env(space_cache, endpoint=hub.url, space=True)
        registry = default_registry()
        for model_id in ("bert-base-uncased", "clip-vit-b-32", "siglip-vit-b-16"):
            ok, reason = registry.availability(model_id)
            assert ok and "cache" in reason, (model_id, reason)
            registry.get(model_id)
            registry.unload(model_id)
        assert hub.requests == []


def test_only_the_bin_cached_is_used_not_downloaded_again(repos, tmp_path, hub_env):
    from playground.models.rehearsal.build import CLIP, make_hf_cache
    from playground.models.rehearsal.hub_server import serve_hub

    cache = make_hf_cache(tmp_path, repos, files={CLIP: ["open_clip_pytorch_model.bin"]})
    with serve_hub(repos) as hub:
        hub_env(cache, endpoint=hub.url, space=True)
        model = default_registry().get("clip-vit-b-32")
        assert model.dim == 512
        assert hub.requests == []


@pytest.mark.parametrize("mode", ["503", "hang"])
def test_a_failing_hub_costs_bounded_time_and_blocks_nobody(repos, tmp_path, hub_env, mode):
    """On a Space, a Hub answering 503 or never answering: the load ends within
    HANG_BOUND_S with a clear message, the model's lock is free again, the failure
    is remembered (no second attempt right away), and other models keep working."""
    from playground.models.registry import ModelUnavailableError
    from playground.models.rehearsal.hub_server import serve_hub

    with serve_hub(repos, mode=mode) as hub:
        hub_env(tmp_path, endpoint=hub.url, space=True)
        registry = default_registry()
        outcome = {}

        def load_bert():
            started = time.monotonic()
            try:
                registry.get("bert-base-uncased")
            except ModelUnavailableError as exc:
                outcome["error"] = str(exc)
            outcome["seconds"] = time.monotonic() - started

        worker = threading.Thread(target=load_bert)
        worker.start()
        time.sleep(0.5)
        minilm_started = time.monotonic()
        registry.get("minilm").encode_texts(["still working"])
        minilm_seconds = time.monotonic() - minilm_started
        worker.join(HANG_BOUND_S + 10)
        assert not worker.is_alive()
        assert outcome["seconds"] <= HANG_BOUND_S, outcome
        assert "Hugging Face Hub" in outcome["error"] and "Try again" in outcome["error"]
        if mode == "503":
            assert "503" in outcome["error"]
        assert minilm_seconds < outcome["seconds"] or mode == "503"
        assert not registry._load_locks["bert-base-uncased"].locked()
        attempts = registry.load_attempts["bert-base-uncased"]
        requests = len(hub.requests)
        with pytest.raises(ModelUnavailableError, match="failed .* ago"):
            registry.get("bert-base-uncased")
        assert registry.load_attempts["bert-base-uncased"] == attempts
        assert len(hub.requests) == requests
        ok, reason = registry.availability("bert-base-uncased")
        assert not ok and "Hub" in reason


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_repeated_failures_keep_memory_flat(repos, tmp_path, hub_env, monkeypatch):
    """A SigLIP whose weights are broken fails every load; the failure is remembered
    (one attempt per retry window), and memory stays flat even when retried."""
    import shutil

    from playground.models.registry import ModelUnavailableError
    from playground.models.rehearsal.build import SIGLIP, SPACE_FILES, make_hf_cache

    broken = tmp_path / "repo"
    shutil.copytree(repos[SIGLIP], broken)
    (broken / "open_clip_model.safetensors").write_bytes(b"not a safetensors file")
    cache = make_hf_cache(tmp_path / "hf", {SIGLIP: broken}, files={SIGLIP: SPACE_FILES[SIGLIP]})
    hub_env(cache)
    registry = default_registry()
    for _ in range(5):
        with pytest.raises(ModelUnavailableError):
            registry.get("siglip-vit-b-16")
    assert registry.load_attempts["siglip-vit-b-16"] == 1
    registry.retry_after = 0  # now every request retries: memory must still not grow
    with pytest.raises(ModelUnavailableError):
        registry.get("siglip-vit-b-16")
    baseline = _rss_bytes()
    for _ in range(6):
        with pytest.raises(ModelUnavailableError):
            registry.get("siglip-vit-b-16")
    assert registry.load_attempts["siglip-vit-b-16"] == 8
    assert _rss_bytes() - baseline < 300e6  # one SigLIP is 813 MB; six kept would be 4.9 GB


def test_vit_caption_says_how_each_model_makes_its_square(real_registry, photo):
    from PIL import Image

    from playground.science.zero_shot import vit_view

    image = Image.open(photo)
    clip = vit_view(real_registry.get("clip-vit-b-32"), image).caption()
    siglip = vit_view(real_registry.get("siglip-vit-b-16"), image).caption()
    assert "crop the centre" in clip and "7×7 = 49 patches" in clip
    assert "squash" in siglip and "crop the centre" not in siglip and "14×14 = 196 patches" in siglip


# -- the served app, through its API and in the browser ------------------------------------
@pytest.fixture(scope="module")
def rehearsal_app(download_cache):
    """The whole app served on loopback, its registry reading the rehearsal cache."""
    from huggingface_hub import constants

    from conftest import launch
    from playground import create_plugin_manager, create_registry
    from playground.web.app import build_app

    old = constants.HF_HUB_CACHE
    constants.HF_HUB_CACHE = str(download_cache)
    pm = create_plugin_manager(entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    url = launch(demo)
    try:
        yield url
    finally:
        demo.close()
        constants.HF_HUB_CACHE = old


def test_api_answers_with_every_real_model(rehearsal_app):
    from gradio_client import Client, handle_file

    from playground.data.images import photo_file

    client = Client(rehearsal_app, verbose=False)
    for model_id, scoring_sums_to_one in (("clip-vit-b-32", True), ("siglip-vit-b-16", False)):
        scores = client.predict(handle_file(photo_file("chelsea")), "cat, dog, rocket", "a photo of a {}.", model_id,
                                api_name="/clip_zero_shot")
        total = sum(c["confidence"] for c in scores["confidences"])
        assert (abs(total - 1) < 1e-3) == scoring_sums_to_one, (model_id, total)
    left, right = client.predict(handle_file(photo_file("flower")), "flower, cat", api_name="/siglip_compare")
    assert left and right
    revealed = client.predict("bert-base-uncased", "minilm", None, 0, 0.1, "after", "pca", None, api_name="/anisotropy_run")[0]
    assert "`bert-base-uncased`" in revealed and "`minilm`" in revealed
    revealed = client.predict("bert-base-uncased-mean", "minilm", None, 0, 0.1, "after", "pca", None, api_name="/anisotropy_run")[0]
    assert "`bert-base-uncased-mean`" in revealed


@pytest.mark.browser
def test_both_image_tabs_in_the_browser_with_the_real_models(rehearsal_app, page):
    from conftest import open_tab
    from playground.data.images import photo_file

    def panel():
        return page.locator("[role=tabpanel]").filter(visible=True).first

    page.goto(rehearsal_app)
    open_tab(page, "CLIP zero-shot")
    panel().locator("input[type=file]").first.set_input_files(photo_file("chelsea"))
    page.get_by_label("Labels (comma- or newline-separated)").filter(visible=True).first.fill("cat, dog, rocket")
    page.get_by_role("button", name="Classify").filter(visible=True).click()
    page.get_by_text("scores sum to").filter(visible=True).first.wait_for(timeout=180_000)
    text = panel().inner_text()
    assert "clip-vit-b-32" in text and "49 patches of 32×32 pixels" in text and "crop the centre" in text

    open_tab(page, "SigLIP vs CLIP")
    panel().locator("input[type=file]").first.set_input_files(photo_file("chelsea"))
    page.get_by_label("Labels (comma- or newline-separated)").filter(visible=True).first.fill("cat, dog")
    page.get_by_role("button", name="Compare", exact=True).filter(visible=True).click()
    page.get_by_text("they sum to").filter(visible=True).first.wait_for(timeout=180_000)
    text = panel().inner_text()
    assert "clip-vit-b-32" in text and "siglip-vit-b-16" in text
    assert "Error" not in text


def test_the_specs_restate_open_clips_own_records():
    """The repo and tokenizer the specs name (so availability needs no open_clip import)
    are the ones open_clip itself would use."""
    from playground.models import open_clip as loader
    from playground.models.catalog import DEFAULT_MODELS

    for spec in DEFAULT_MODELS:
        if spec.family != "open_clip":
            continue
        tag = loader._tag_config(spec)
        assert spec.options["hf_hub"] == tag["hf_hub"].rstrip("/"), spec.id
        assert spec.options["hf_tokenizer"] == bool(loader._text_config(spec).get("hf_tokenizer_name")), spec.id


def test_builds_for_other_library_versions_are_removed(tmp_path):
    from playground.models.rehearsal.build import _remove_other_builds

    current, old = tmp_path / "0123456789ab", tmp_path / "ba9876543210"
    for folder in (current, old):
        (folder / "repos").mkdir(parents=True)
    (tmp_path / "notes").mkdir()  # not a build: left alone
    _remove_other_builds(current)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0123456789ab", "notes"]
