"""ZeroGPU, rehearsed: ``@gpu`` calls run in a forked worker that pickles what crosses.

``playground.models.zero_gpu`` stands in for ``spaces.GPU`` (same semantics: fork, pickled
arguments and result, the duration enforced). Unit tests use it directly; the labs
are run with ``SPACES_ZERO_GPU=1`` in fresh processes (the decorator is chosen at
import), headless and served, and every call's log is checked: no model crosses,
and an embedding call moves kilobytes, not the model's hundreds of megabytes.
"""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from conftest import free_port

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
MINILM_BYTES = 90e6  # all-MiniLM-L6-v2's weights: what crossing the model would cost
STATE = {"value": "parent"}


# -- the stand-in itself ------------------------------------------------------------------
def test_standin_pickles_arguments_and_result_and_records_bytes():
    from playground.models import zero_gpu

    @zero_gpu.GPU(duration=30)
    def shout(texts, times=1):
        return [t.upper() * times for t in texts]

    before = len(zero_gpu.CALLS)
    assert shout(["a", "b"], times=2) == ["AA", "BB"]
    call = zero_gpu.CALLS[before]
    assert call["function"].endswith("shout") and call["models_pickled"] == []
    assert call["bytes_in"] == len(pickle.dumps(((["a", "b"],), {"times": 2}), protocol=pickle.HIGHEST_PROTOCOL))
    assert 0 < call["bytes_out"] < 200


def test_the_worker_inherits_state_and_its_changes_are_lost():
    from playground.models import zero_gpu

    @zero_gpu.GPU
    def read_and_write():
        seen = STATE["value"]
        STATE["value"] = "worker"
        return seen

    STATE["value"] = "set before the call"
    assert read_and_write() == "set before the call"  # inherited through the fork
    assert STATE["value"] == "set before the call"  # the worker's write stayed there


def test_an_argument_that_cannot_be_pickled_is_named():
    from playground.models import zero_gpu

    @zero_gpu.GPU
    def use(lock, texts):
        return texts

    with pytest.raises(pickle.PicklingError, match=r"argument 1 \(lock\) cannot be pickled"):
        use(threading.Lock(), ["x"])


def test_errors_in_the_worker_reach_the_caller():
    from playground.models import zero_gpu

    @zero_gpu.GPU
    def fail():
        raise ValueError("bad labels: say what to do")

    with pytest.raises(ValueError, match="bad labels"):
        fail()


def test_the_duration_is_enforced_with_a_clear_error():
    from playground.models import zero_gpu

    @zero_gpu.GPU(duration=1)
    def slow():
        time.sleep(30)

    started = time.monotonic()
    with pytest.raises(TimeoutError, match="ran past its duration of 1 s"):
        slow()
    assert time.monotonic() - started < 10


def test_a_model_that_crosses_is_reported():
    import torch

    from playground.models import zero_gpu

    @zero_gpu.GPU
    def size(module):
        return sum(p.numel() for p in module.parameters())

    before = len(zero_gpu.CALLS)
    assert size(torch.nn.Linear(4, 2)) == 10
    assert zero_gpu.CALLS[before]["models_pickled"] == ["Linear"]


def test_off_zero_gpu_the_decorator_returns_the_function_itself(monkeypatch):
    from playground.models.gpu import gpu

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def f(x):
        return x

    assert gpu(f) is f and gpu(duration=5)(f) is f


# -- every lab, in fresh processes with the stand-in on -----------------------------------------
def zero_gpu_env(log, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SPACE_ID", "PLAYGROUND_HUB")}
    # PLAYGROUND_ONNX=0: on a real ZeroGPU Space the device is CUDA, where the torch path serves.
    # PLAYGROUND_GPU_CPU_SERVES_S=0: every call that can go to the GPU goes (the CPU-first policy
    # would keep these small runs on the CPU), so what crosses into the worker is exercised.
    env.update(SPACES_ZERO_GPU="1", PLAYGROUND_DEVICE="cpu", PLAYGROUND_ONNX="0", HF_HUB_OFFLINE="1",
               PLAYGROUND_ZERO_GPU_LOG=str(log), PLAYGROUND_GPU_CPU_SERVES_S="0")
    env.pop("PLAYGROUND_ZERO_GPU_QUOTA_S", None)
    env.update(extra)
    return env


def read_log(log) -> list[dict]:
    with open(log, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


HEADLESS = r"""
import json, sys
from playground.web.cli import main
from playground import create_registry
from playground.models import zero_gpu
for argv in json.loads(sys.argv[1]):
    print("=== " + " ".join(argv), flush=True)
    print("=== exit %d" % main(argv), flush=True)
# the embedding cache serves repeats in this (the main) process: no second worker
registry = create_registry()
model = registry.get("bert-base-uncased")  # MiniLM never asks for the GPU
model.encode_texts(["a repeat", "another repeat"])
calls = len(zero_gpu.CALLS)
model.encode_texts(["a repeat", "another repeat"])
print("=== repeat calls %d" % (len(zero_gpu.CALLS) - calls), flush=True)
"""


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    return str(path)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    from playground.data.corpus import load_corpus

    frame = load_corpus().groupby("label").head(10)
    path = tmp_path_factory.mktemp("data") / "small.csv"
    frame[["text", "label"]].to_csv(path, index=False)
    return str(path)


@pytest.mark.rehearsal
def test_every_lab_headless_under_the_standin_with_real_shapes(tmp_path, photo, small_csv):
    """`playground run` of every lab with SPACES_ZERO_GPU=1, on the Hub rehearsal's
    real-shape BERT, CLIP and SigLIP and the bundled models."""
    from playground.models.rehearsal.build import make_hf_cache, rehearsal_repos

    cache = make_hf_cache(tmp_path / "hf", rehearsal_repos(), layout="download")
    runs = [
        ["run", "anisotropy", "--models", "bert-base-uncased-mean,minilm", "--data", small_csv],
        ["run", "triplet_margin", "--models", "bert-base-uncased,minilm", "--csv", small_csv, "--triplets", "30"],
        ["run", "temperature", "--model", "minilm", "--taus", "0.1", "--steps", "10", "--csv", small_csv],
        ["run", "clip_zero_shot", "--image", photo, "--labels", "cat,dog", "--model", "clip-vit-b-32"],
        ["run", "siglip_compare", "--image", photo, "--labels", "cat,dog", "--no-losses"],
        ["run", "fine_tune", "--max-train", "32", "--max-heldout", "16", "--batch-size", "8", "--max-steps", "2"],
        ["run", "train_clip", "--steps", "10", "--text-tower", "minilm"],
        ["run", "simclr", "--steps", "10", "--batch-size", "16"],
    ]
    log = tmp_path / "calls.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", HEADLESS, json.dumps(runs)], cwd=ROOT, capture_output=True, text=True, timeout=1500,
        env=zero_gpu_env(log, HF_HUB_CACHE=str(cache)),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    exits = [line for line in proc.stdout.splitlines() if line.startswith("=== exit")]
    assert exits == ["=== exit 0"] * len(runs), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "=== repeat calls 0" in proc.stdout
    calls = read_log(log)
    functions = {c["function"] for c in calls}
    assert {"encode_texts_on_gpu", "encode_images_on_gpu", "fine_tune_on_gpu", "train_simclr"} <= functions
    assert all(c["models_pickled"] == [] for c in calls), [c for c in calls if c["models_pickled"]]
    for call in calls:
        if call["function"].startswith("encode_"):  # ids, texts, images in; rows out
            assert call["bytes_in"] + call["bytes_out"] < MINILM_BYTES / 20, call
    tuned = [c for c in calls if c["function"] == "fine_tune_on_gpu"]
    assert tuned and tuned[0]["bytes_out"] > MINILM_BYTES / 2  # the trained weights come back, as arrays


SERVE = r"""
import sys
sys.path.insert(0, sys.argv[2])
from conftest import tiny_models_plugin
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app, launch_kwargs
from playground.contract.testing import tiny_model_specs
import tempfile
pm = create_plugin_manager(entry_points=False, extra=[tiny_models_plugin(tiny_model_specs(tempfile.mkdtemp()))])
demo = build_app(pm, create_registry(pm))
# _frontend=False: the parent awaits the page itself (Gradio's own check gives up after 3 s on a loaded machine)
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), quiet=True, _frontend=False, **launch_kwargs())
"""


@pytest.fixture(scope="module")
def served_under_standin(tmp_path_factory):
    log = tmp_path_factory.mktemp("zero-gpu") / "calls.jsonl"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), TESTS], cwd=ROOT, env=zero_gpu_env(log),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"the app did not start: {server.stderr.read()[-3000:]}")
            time.sleep(0.5)
    yield url, log
    server.terminate()
    server.wait(30)


def test_each_lab_answers_through_gradio_client_under_the_standin(served_under_standin):
    from gradio_client import Client, handle_file

    from playground.data.images import photo_file

    url, log = served_under_standin
    client = Client(url, verbose=False)
    photo = handle_file(photo_file("chelsea"))
    answers = {
        "anisotropy": client.predict("glove", "minilm", None, 0, 0.1, "after", "pca", None, api_name="/anisotropy_run"),
        "triplet_margin": client.predict("glove", None, "cosine", "random", None, 20, 100, 0, 0.2, None,
                                         api_name="/triplet_margin_run"),
        "temperature": client.predict("glove", 0.05, 10, 0, api_name="/temperature_live"),
        "clip_zero_shot": client.predict(photo, "cat, dog", "a photo of a {}.", "tiny-clip", api_name="/clip_zero_shot"),
        "siglip_compare": client.predict(handle_file(photo_file("flower")), "flower, cat", api_name="/siglip_compare"),
        "fine_tune": client.predict("minilm", "bundled", None, 0, 1, 8, 2, 1e-4, 20, 2, "rise",
                                    api_name="/fine_tune_run"),
        "train_clip": client.predict("softmax", 32, 10, 0.003, 0, "cnn", "bow", -10.0, None,
                                     api_name="/train_clip_train"),
        "simclr": client.predict("shapes", "cnn", ["crop", "colour"], 16, 10, 0.2, 0.003, 0, api_name="/simclr_train"),
    }
    assert all(answers.values()), [k for k, v in answers.items() if not v]
    calls = read_log(log)
    assert {"encode_texts_on_gpu", "encode_images_on_gpu", "fine_tune_on_gpu", "train_simclr"} <= {c["function"] for c in calls}
    assert all(c["models_pickled"] == [] for c in calls)
    embedding_calls = [c for c in calls if c["function"].startswith("encode_")]
    assert max(c["bytes_in"] + c["bytes_out"] for c in embedding_calls) < MINILM_BYTES / 20
