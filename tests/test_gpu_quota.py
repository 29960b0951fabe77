"""ZeroGPU's quota, rehearsed: calls ask for what they need, the CPU serves where it can,
and a refused call runs on the CPU with one line for the visitor, never an error.

The stand-in (``playground.models.zero_gpu``) keeps a per-visitor quota when
``PLAYGROUND_ZERO_GPU_QUOTA_S`` is set; ``playground.models.gpu`` decides where a call runs
(``playground.models.gpu_policy``) and falls back to the CPU on a refusal.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from test_zero_gpu import ROOT, read_log, zero_gpu_env

NOTICE = re.compile(r"^GPU quota used up for now: this ran on the CPU, \d+ s\.$")


@pytest.fixture
def quota(monkeypatch):
    """``quota(anonymous_s, half_life_s=7200)``: turn the stand-in's quota on, from empty."""
    from playground.models import zero_gpu

    def apply(anonymous_s, half_life_s=7200, **extra):
        monkeypatch.setenv(zero_gpu.QUOTA_ENV, str(anonymous_s))
        monkeypatch.setenv(zero_gpu.HALF_LIFE_ENV, str(half_life_s))
        for name, value in extra.items():
            monkeypatch.setenv(name, str(value))
        zero_gpu.QUOTA.reset()
        return zero_gpu.QUOTA

    yield apply
    zero_gpu.QUOTA.reset()


@pytest.fixture
def on_zero_gpu(monkeypatch):
    """``SPACES_ZERO_GPU=1`` for decorators applied inside the test."""
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")
    monkeypatch.delenv("PLAYGROUND_GPU_CPU_SERVES_S", raising=False)


def double(values):
    return [2 * v for v in values]


# -- the stand-in's quota -----------------------------------------------------------------
def test_a_duration_can_be_a_function_of_the_calls_arguments():
    from playground.models import zero_gpu

    @zero_gpu.GPU(duration=lambda values: 2 + len(values))
    def total(values):
        return sum(values)

    before = len(zero_gpu.CALLS)
    assert total([1, 2, 3]) == 6
    assert zero_gpu.CALLS[before]["requested"] == 5


def test_a_call_asking_for_more_than_is_left_is_refused_in_the_spaces_words(quota):
    from playground.models import zero_gpu

    quota(10)
    ask = zero_gpu.GPU(duration=lambda seconds: seconds)(lambda seconds: seconds)
    assert ask(4) == 4  # reserves 4 s, is charged what it used (well under a second)
    assert zero_gpu.QUOTA.left("ip:127.0.0.1") > 9
    with pytest.raises(zero_gpu.GPUQuotaExceeded, match=r"You have exceeded your GPU quota \(11s requested vs\. \d+s left\)"):
        ask(11)
    with pytest.raises(zero_gpu.GPUQuotaExceeded, match=r"requested GPU duration \(301s\) is larger than the maximum"):
        ask(301)


def test_used_time_is_forgiven_with_the_half_life(quota):
    from playground.models import zero_gpu

    ledger = quota(10, half_life_s=0.5)
    ledger.reserve("ip:10.0.0.1", 8)  # used 8 of 10
    with pytest.raises(zero_gpu.GPUQuotaExceeded):
        ledger.reserve("ip:10.0.0.1", 8)
    time.sleep(1.6)  # three half-lives: 8 s used decays to 1 s
    ledger.reserve("ip:10.0.0.1", 8)


def test_visitors_are_told_apart_by_login_then_by_ip(quota, monkeypatch):
    from gradio.context import LocalContext

    from playground.models import zero_gpu

    ledger = quota(10, **{zero_gpu.LOGGED_IN_QUOTA_ENV: 25})
    student = SimpleNamespace(username=None, client=SimpleNamespace(host="10.1.2.3"))
    logged_in = SimpleNamespace(username="ada", client=SimpleNamespace(host="10.1.2.3"))
    token = LocalContext.request.set(student)
    try:
        assert zero_gpu.current_visitor() == "ip:10.1.2.3"
        LocalContext.request.set(logged_in)
        assert zero_gpu.current_visitor() == "user:ada"
    finally:
        LocalContext.request.reset(token)
    ledger.reserve("ip:10.1.2.3", 10)  # the anonymous allowance behind that IP is spent...
    ledger.reserve("user:ada", 20)  # ...a logged-in student from the same IP has her own, larger one
    assert ledger.left("ip:10.1.2.4") == 10


# -- where a call runs ----------------------------------------------------------------------
def test_a_refused_call_runs_on_the_cpu_with_one_line_and_no_error(on_zero_gpu, quota):
    from playground.models import zero_gpu
    from playground.models.gpu import collect_notices, gpu

    quota(30)
    doubled = gpu(duration=lambda values: 20)(double)
    calls, refusals = len(zero_gpu.CALLS), len(zero_gpu.REFUSALS)
    with collect_notices() as first:
        assert doubled([1, 2]) == [2, 4]  # on the "GPU": 20 s reserved, well under 1 s charged
    with collect_notices() as second:
        zero_gpu.QUOTA.reserve("ip:127.0.0.1", 15)  # a classmate behind the same IP spent 15 s
        assert doubled([3]) == [6]  # 20 s requested vs. 15 s left: refused, and computed on the CPU
    assert first == [] and len(zero_gpu.CALLS) == calls + 1
    assert len(zero_gpu.REFUSALS) == refusals + 1 and len(zero_gpu.CALLS) == calls + 1
    assert len(second) == 1 and NOTICE.match(second[0]), second


def test_a_refused_call_announces_its_offer_before_the_cpu_run_and_keeps_local_arguments(on_zero_gpu, quota):
    """``offer`` is told at once (``collect_notices``' live listener), before the CPU run; the
    ``local`` keyword arguments (a callback: it cannot be pickled) stay out of a GPU call and
    reach the CPU run."""
    from playground.models import zero_gpu
    from playground.models.gpu import collect_notices, gpu

    events = []

    def scaled(values, progress=None):
        if progress is not None:
            progress(len(values))
        return [2 * v for v in values]

    decorated = gpu(duration=lambda values, **_: 20, local=("progress",),
                    offer=lambda values, **_: f"about {len(values)} s on the CPU")(scaled)
    quota(30)
    with collect_notices(live=lambda line: events.append(("live", line))) as first:
        assert decorated([1, 2], progress=lambda n: events.append(("progress", n))) == [2, 4]  # in the worker
    assert events == [] and first == []  # the callback did not cross (it would not pickle), and nothing to tell
    zero_gpu.QUOTA.reserve("ip:127.0.0.1", 15)  # 20 s requested vs. 15 s left: refused
    with collect_notices(live=lambda line: events.append(("live", line))) as second:
        assert decorated([1, 2, 3], progress=lambda n: events.append(("progress", n))) == [2, 4, 6]
    assert events == [("live", "GPU quota used up for now: running on the CPU instead. about 3 s on the CPU"),
                      ("progress", 3)]
    assert len(second) == 1 and NOTICE.match(second[0]), second


SIMCLR_REFUSED = r"""
import json
from playground.models import zero_gpu
from playground.models.gpu import collect_notices
from plugins.simclr.compute import SimCLRSettings, expected_cpu_seconds, train_simclr
events = []
settings = SimCLRSettings(steps=20, batch_size=16)
with collect_notices(live=lambda line: events.append(["live", line])) as notices:
    result = train_simclr(settings, progress=lambda done, total, loss: events.append(["step", done, total]),
                          should_stop=lambda: False)
print(json.dumps({"events": events, "notices": notices, "steps": result.steps_done, "calls": len(zero_gpu.CALLS),
                  "refusals": len(zero_gpu.REFUSALS), "expected": [expected_cpu_seconds(settings),
                  expected_cpu_seconds(SimCLRSettings(steps=10, batch_size=16))]}))
"""


@pytest.mark.slow
def test_a_refused_simclr_run_offers_the_cpu_run_or_a_smaller_one_and_shows_its_steps(tmp_path):
    """Under the stand-in, a SimCLR run sent to the GPU (threshold 0) with too little quota left:
    the visitor is offered, before the CPU run starts, its expected time and a smaller run's
    (half the steps), from gpu_policy's rates; the CPU run then reports every step to the
    progress bar (and can be stopped), and ends with the one-line notice."""
    log = tmp_path / "calls.jsonl"
    proc = subprocess.run([sys.executable, "-c", SIMCLR_REFUSED], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=zero_gpu_env(log, PLAYGROUND_GPU_CPU_SERVES_S="0", PLAYGROUND_ZERO_GPU_QUOTA_S="5"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = __import__("json").loads(proc.stdout.strip().splitlines()[-1])
    full, half = out["expected"]
    assert out["calls"] == 0 and out["refusals"] == 1 and out["steps"] == 20
    kind, offer = out["events"][0]
    assert kind == "live" and offer == (
        f"GPU quota used up for now: running on the CPU instead. Expected time on the CPU: about {full:.0f} s. "
        f"Or press Stop and train a smaller run (10 steps): about {half:.0f} s."), offer
    assert half < full
    steps = [e for e in out["events"] if e[0] == "step"]
    assert steps and steps[-1] == ["step", 20, 20]  # the progress bar, on the CPU
    assert len(out["notices"]) == 1 and NOTICE.match(out["notices"][0]), out["notices"]


def test_the_real_spaces_refusals_are_recognised_and_other_errors_are_not():
    from playground.models.gpu import refusal_notice

    for message in ("You have exceeded your GPU quota (59s left vs. 60s requested)",  # discussion #81
                    "You have exceeded your free GPU quota (60s requested vs. 59s left). Create a free account ...",
                    "The requested GPU duration (400s) is larger than the maximum allowed"):
        assert NOTICE.match(refusal_notice(RuntimeError(message)).format(seconds=3))
    assert refusal_notice(RuntimeError("No GPU was available after 60s")).startswith("No GPU was free")
    assert refusal_notice(ValueError("bad labels: give at least two")) is None


def test_a_refusal_raised_as_gr_error_falls_back_too(on_zero_gpu, monkeypatch):
    """The ``spaces`` package raises a ``gr.Error`` subclass: the fallback catches it too."""
    import gradio as gr

    from playground.models import gpu as gpu_module

    def refusing_gpu(duration=60, **_):
        def wrap(f):
            def call(*a, **k):
                raise gr.Error("You have exceeded your free GPU quota (25s requested vs. 3s left).")
            return call
        return wrap

    monkeypatch.setattr(gpu_module, "_spaces_gpu", lambda: refusing_gpu)
    with gpu_module.collect_notices() as notices:
        assert gpu_module.gpu(duration=25)(double)([5]) == [10]
    assert len(notices) == 1 and NOTICE.match(notices[0])


def test_other_errors_still_reach_the_caller(on_zero_gpu):
    from playground.models.gpu import gpu

    def fail(values):
        raise ValueError("bad values: give numbers")

    with pytest.raises(ValueError, match="bad values"):
        gpu(duration=5)(fail)([1])


def test_when_keeps_a_call_on_the_cpu(on_zero_gpu):
    from playground.models import zero_gpu
    from playground.models.gpu import gpu

    decorated = gpu(duration=5, when=lambda values: len(values) > 2)(double)
    before = len(zero_gpu.CALLS)
    assert decorated([1]) == [2]
    assert len(zero_gpu.CALLS) == before  # stayed in this process
    assert decorated([1, 2, 3]) == [2, 4, 6]
    assert len(zero_gpu.CALLS) == before + 1


def test_requests_are_estimated_with_the_margin_and_capped():
    from playground.models import gpu_policy

    assert gpu_policy.request_seconds(0) == gpu_policy.MARGIN_S
    assert gpu_policy.request_seconds(10) == pytest.approx(gpu_policy.MARGIN_S + gpu_policy.SAFETY_FACTOR * 10, abs=1)
    assert gpu_policy.request_seconds(10_000) == gpu_policy.MAX_REQUEST_S == 300
    small = SimpleNamespace(id="a-student-model", memory_bytes=lambda: 100e6)
    large = SimpleNamespace(id="another", memory_bytes=lambda: 400e6)
    assert gpu_policy.encoding_seconds(large, "text", 10) == pytest.approx(4 * gpu_policy.encoding_seconds(small, "text", 10))
    assert gpu_policy.encoding_seconds(small, "text", 20) == pytest.approx(2 * gpu_policy.encoding_seconds(small, "text", 10))


def test_the_default_runs_stay_on_the_cpu_and_bigger_ones_go(monkeypatch):
    """gpu_policy's thresholds against its own estimates: what the docs say stays on the CPU does."""
    from dataclasses import replace

    from playground.models import gpu_policy
    from plugins.fine_tune.compute import MAX_PAIRS_SEEN, TrainSettings, expected_cpu_seconds, load_pairs
    from plugins.simclr.compute import SimCLRSettings, runs_on_gpu

    monkeypatch.delenv(gpu_policy.CPU_SERVES_ENV, raising=False)
    minilm = SimpleNamespace(id="minilm", memory_bytes=lambda: 90e6)
    pairs, default = load_pairs(), TrainSettings()
    assert not gpu_policy.worth_gpu(expected_cpu_seconds(minilm, pairs, default), "training")
    most = replace(default, epochs=MAX_PAIRS_SEEN // len(pairs.train), max_steps=MAX_PAIRS_SEEN // default.batch_size)
    assert gpu_policy.worth_gpu(expected_cpu_seconds(minilm, pairs, most), "training")
    assert not runs_on_gpu(SimCLRSettings()) and runs_on_gpu(SimCLRSettings(steps=900))  # three times the default
    bert = SimpleNamespace(id="bert-base-uncased", memory_bytes=lambda: 440e6)
    clip = SimpleNamespace(id="clip-vit-b-32", memory_bytes=lambda: 605e6)
    assert not gpu_policy.worth_gpu(gpu_policy.encoding_seconds(bert, "text", 328), "embedding")  # the bundled corpus
    assert not gpu_policy.worth_gpu(gpu_policy.encoding_seconds(clip, "image", 8), "embedding")
    assert gpu_policy.worth_gpu(gpu_policy.encoding_seconds(bert, "text", 2000), "embedding")
    assert gpu_policy.worth_gpu(gpu_policy.encoding_seconds(clip, "image", 1000), "embedding")


# -- the labs, in fresh processes (the decorator is chosen at import) ---------------------------
def test_the_glove_minilm_anisotropy_run_makes_no_gpu_call(tmp_path):
    """Even with every call that can go to the GPU sent there (threshold 0), GloVe and MiniLM stay on the CPU."""
    log = tmp_path / "calls.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "playground", "run", "anisotropy", "--models", "glove,minilm", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=zero_gpu_env(log, PLAYGROUND_GPU_CPU_SERVES_S="0"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"separation_auc"' in proc.stdout
    assert not log.exists() or read_log(log) == []


CLASS = r"""
import json, sys
from playground.web.cli import main
from playground.models import zero_gpu
students, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for student in range(students):
    for name, argv, who in runs:
        if student < who:
            print("=== %s %d exit %d" % (name, student, main(argv)), flush=True)
print("=== gpu calls %d refusals %d" % (len(zero_gpu.CALLS), len(zero_gpu.REFUSALS)), flush=True)
"""


@pytest.mark.rehearsal
@pytest.mark.slow
@pytest.mark.parametrize("cpu_serves", ["policy", "0"], ids=["cpu-first", "everything-to-the-gpu"])
def test_a_class_behind_one_ip_is_always_answered(tmp_path, cpu_serves):
    """A class behind one NAT, anonymous quota 120 s, half-life 2 h: every student runs the
    anisotropy default (GloVe vs MiniLM), a CLIP zero-shot with the real-shape ViT-B/32, and
    the fine-tune. With the CPU-first policy no call spends quota; with every call sent to
    the GPU the quota runs out, and the rest run on the CPU with the notice. Either way every
    run is answered and no quota error reaches a student.

    Headless, one process (as a Space serves everyone), every call from one IP. What runs:
    ``PLAYGROUND_CLASS_SIZE`` students (default 30) for anisotropy and CLIP; the first two
    of them also fine-tune (the default run with the policy; a 2-step one with everything
    sent to the GPU): each fine-tune trains for real, 30 would take the better part of an
    hour on 2 shared cores.
    """
    from PIL import Image
    from skimage import data

    from playground.models.rehearsal.build import make_hf_cache, rehearsal_repos

    cache = make_hf_cache(tmp_path / "hf", rehearsal_repos(), layout="download")
    photo = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(photo)
    students = int(os.environ.get("PLAYGROUND_CLASS_SIZE", "30"))
    fine_tune = ["run", "fine_tune"] + ([] if cpu_serves == "policy" else
                                        ["--max-train", "32", "--max-heldout", "16", "--batch-size", "8", "--max-steps", "2"])
    runs = [
        ("anisotropy", ["run", "anisotropy", "--models", "glove,minilm", "--json"], students),
        ("clip_zero_shot", ["run", "clip_zero_shot", "--image", str(photo), "--labels", "cat,dog,car",
                            "--model", "clip-vit-b-32", "--json"], students),
        ("fine_tune", fine_tune + ["--json"], 2),
    ]
    log = tmp_path / "calls.jsonl"
    # The stand-in charges the time a call used (a CLIP image call: about a second), so with every
    # call sent to the GPU a 120 s allowance outlasts 30 students; 20 s makes it run out early.
    env = zero_gpu_env(log, HF_HUB_CACHE=str(cache), PLAYGROUND_ZERO_GPU_QUOTA_S="120" if cpu_serves == "policy" else "20",
                       PLAYGROUND_ZERO_GPU_HALF_LIFE_S="7200")
    if cpu_serves == "policy":
        env.pop("PLAYGROUND_GPU_CPU_SERVES_S")
    proc = subprocess.run([sys.executable, "-c", CLASS, str(students), __import__("json").dumps(runs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=3000, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    exits = [line for line in proc.stdout.splitlines() if " exit " in line]
    assert len(exits) == 2 * students + 2 and all(line.endswith("exit 0") for line in exits), proc.stdout[-3000:]
    assert "exceeded" not in (proc.stdout + proc.stderr).lower()  # no student sees a quota error
    notices = [line for line in proc.stderr.splitlines() if "GPU quota used up for now: this ran on the CPU" in line]
    calls, refusals = map(int, re.search(r"gpu calls (\d+) refusals (\d+)", proc.stdout).groups())
    if cpu_serves == "policy":
        assert calls == 0 and refusals == 0 and notices == []
    else:  # the quota ran out, and every refused run was answered on the CPU, with the notice
        assert calls > 0 and refusals > 0 and len(notices) >= 1, proc.stderr[-3000:]


# -- the login ---------------------------------------------------------------------------------
def test_the_login_button_shows_on_a_zero_gpu_space_only(monkeypatch):
    import gradio as gr

    from playground.web.login import build_login_row

    def login_buttons() -> int:
        with gr.Blocks() as demo:
            build_login_row()
        return sum(isinstance(block, gr.LoginButton) for block in demo.blocks.values())

    for name in ("SYSTEM", "SPACE_ID", "OAUTH_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")
    assert login_buttons() == 0  # a rehearsal on a laptop: no Hugging Face login to offer
    monkeypatch.setenv("SYSTEM", "spaces")  # what a Space sets
    monkeypatch.setenv("SPACE_ID", "teacher/contrastive-playground")
    assert login_buttons() == 0  # hf_oauth is off: a button would have nowhere to log in
    import gradio.oauth

    # hf_oauth: true makes the Space set these (gradio reads them when it is imported)
    space_oauth = {"OAUTH_CLIENT_ID": "client-id", "OAUTH_CLIENT_SECRET": "secret", "OAUTH_SCOPES": "openid profile",
                   "OPENID_PROVIDER_URL": "https://huggingface.co"}
    for name, value in space_oauth.items():
        monkeypatch.setenv(name, value)
        monkeypatch.setattr(gradio.oauth, name, value)
    assert login_buttons() == 1
    monkeypatch.delenv("SPACES_ZERO_GPU")
    assert login_buttons() == 0  # a CPU or GPU Space: no quota, no button
