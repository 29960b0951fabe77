"""The anisotropy lab without a browser: the bundled corpus, upload validation, the
per-model figures on small hand-made arrays, the prediction reveal, default models
and the headless run (CLI). The real glove-vs-minilm run is in test_anisotropy_app.py,
where it shares its loaded models with the served app."""
from __future__ import annotations

import argparse
import inspect
import importlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from playground import ModelRegistry, ModelSpec

from playground.science import geometry
from playground.data.corpus import DOCSTRING_LABEL, load_corpus, written_texts
from playground.data.docstring_harvest import first_paragraph
from playground.data.uploads import UploadError
from plugins.anisotropy import compute, isotropy, figures


# -- the bundled corpus ----------------------------------------------------------------

def test_corpus_has_four_domains_with_75_or_more_each():
    frame = load_corpus()
    assert list(frame.columns) == ["text", "label", "module"]
    counts = frame["label"].value_counts()
    assert set(counts.index) == {"medical", "legal", "poetry", DOCSTRING_LABEL}
    assert len(frame) >= 300 and counts.min() >= 75
    assert frame["text"].str.len().between(20, 260).all()
    assert not frame["text"].duplicated().any()
    assert (frame.loc[frame.label == DOCSTRING_LABEL, "module"] != "").all()
    assert (frame.loc[frame.label != DOCSTRING_LABEL, "module"] == "").all()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_docstrings_are_real_first_paragraphs_from_their_module():
    docs = load_corpus().query("label == @DOCSTRING_LABEL")
    assert docs["module"].nunique() >= 20  # spread over many modules
    for text, module_name in zip(docs["text"], docs["module"]):
        module = importlib.import_module(module_name)
        members = [o for o in vars(module).values() if inspect.isclass(o) or inspect.isroutine(o)]
        members += [m for c in members if inspect.isclass(c) for m in vars(c).values() if inspect.isroutine(m)]
        paragraphs = {first_paragraph(inspect.getdoc(o) or "") for o in members}
        assert text in paragraphs, (module_name, text)


def test_the_docstring_sample_does_not_depend_on_what_the_app_imported(monkeypatch):
    # torch, once imported, replaces inspect.getfile with its own function; a harvest
    # inside this process would then lose a candidate and draw a different sample.
    from playground.data.corpus import harvest_docstrings

    before = harvest_docstrings()

    def getfile(obj):
        return "patched"

    getfile.__module__ = "some_library"
    monkeypatch.setattr(inspect, "getfile", getfile)
    pd.testing.assert_frame_equal(harvest_docstrings(), before)


def test_corpus_is_a_fresh_frame_each_call():
    a = load_corpus()
    a.loc[0, "text"] = "changed"
    assert load_corpus().loc[0, "text"] != "changed"
    assert len(written_texts()) == len(load_corpus(include_docstrings=False))


def test_load_texts_groups_rows_by_label(tmp_path):
    path = tmp_path / "mixed.csv"
    rows = [("x a%d" % i, "a") if i % 2 else ("y b%d" % i, "b") for i in range(12)]
    path.write_text("text,label\n" + "\n".join(f"{t},{l}" for t, l in rows) + "\n")
    frame = compute.load_texts(str(path))
    assert list(frame["label"]) == ["b"] * 6 + ["a"] * 6  # first-seen order, stable within a label
    assert list(frame["text"][:2]) == ["y b0", "y b2"]
    assert (frame["module"] == "").all()


# -- upload validation ---------------------------------------------------------------------

def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def _labelled(n_per_label, labels=("a", "b")):
    return "text,label\n" + "".join(f"text number {i} about {l},{l}\n" for l in labels for i in range(n_per_label))


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("nolabel.csv", "text,topic\nhello,a\nworld,b\n", "Missing column(s) label"),
        ("empty.csv", "", "The file is empty"),
        ("blank.csv", "\n\n  \n", "The file is empty"),
        ("single.csv", _labelled(6, ("only",)), "single label"),
        ("latin1.csv", "text,label\ncafé au lait,a\n".encode("latin-1"), "not UTF-8"),
        ("big.csv", _labelled(501), f"the limit is {compute.MAX_ROWS}"),
        ("few.csv", _labelled(6) + "lonely text,c\n", f"fewer than {compute.MIN_PER_LABEL} texts"),
    ],
)
def test_bad_uploads_get_clear_messages(tmp_path, name, data, message):
    with pytest.raises(UploadError) as info:
        compute.load_texts(_write(tmp_path, name, data))
    assert message in str(info.value)


def test_a_good_upload_is_read(tmp_path):
    frame = compute.load_texts(_write(tmp_path, "ok.csv", _labelled(5, ("x", "y", "z"))))
    assert len(frame) == 15 and list(dict.fromkeys(frame["label"])) == ["x", "y", "z"]
    assert "15 texts from your file: x 5, y 5, z 5." == compute.describe_texts(frame, "your file")


# -- one model's figures, on hand-made vectors ------------------------------------------------

def _toy():
    """Two labels, five texts each, on two orthogonal axes with a little tilt."""
    tilts = [(0.1, 0), (-0.1, 0), (0, 0.1), (0, -0.1), (0.05, 0.05)]
    x = np.array([[1, t, u] for t, u in tilts] + [[t, 1, u] for t, u in tilts], dtype=float)
    return x, np.array(["a"] * 5 + ["b"] * 5)


def test_model_geometry_figures_match_hand_computation():
    x, labels = _toy()
    report = compute.model_geometry("toy", x, labels, sigma=0.0, sweep_sigmas=(0.0,))
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = z @ z.T
    intra = [sims[i, j] for i in range(10) for j in range(i + 1, 10) if labels[i] == labels[j]]
    inter = [sims[i, j] for i in range(10) for j in range(i + 1, 10) if labels[i] != labels[j]]
    f = report.figures
    assert f["intra_mean"] == pytest.approx(np.mean(intra))
    assert f["inter_mean"] == pytest.approx(np.mean(inter))
    assert f["gap"] == pytest.approx(np.mean(intra) - np.mean(inter))
    assert f["separation_auc"] == 1.0  # every same-label pair beats every cross-label pair
    assert f["mean_cosine"] == pytest.approx(np.mean(intra + inter))
    assert f["alignment"] == pytest.approx(np.mean([2 - 2 * s for s in intra]))
    assert f["uniformity"] == pytest.approx(math.log(np.mean([math.exp(-2 * (2 - 2 * s)) for s in intra + inter])))
    assert set(f) == set(compute.FIGURES)
    assert report.sims.shape == (10, 10)
    assert f["probe_accuracy"] == f["probe_accuracy_noisy"] == 1.0  # σ = 0: the same clean probe


def test_probe_figures_follow_sigma_and_noise_mode():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.eye(6)[k] * 3 + rng.normal(0, 0.05, size=(10, 6)) for k in range(4)])
    labels = np.repeat(list("abcd"), 10)
    report = compute.model_geometry("toy", x, labels, sigma=0.1, noise="before", sweep_sigmas=(0.0, 0.1, 2.0),
                                    noise_scale="coordinate")
    assert report.figures["probe_accuracy"] == 1.0
    assert report.figures["probe_accuracy_noisy"] == geometry.linear_probe(
        x, labels, 0.2, 0.1, noise_after_normalise=False).accuracy
    total = compute.model_geometry("toy", x, labels, sigma=0.6, sweep_sigmas=(0.0,), noise_scale="total")
    assert total.figures["probe_accuracy_noisy"] == geometry.linear_probe(
        x, labels, 0.2, 0.6 / np.sqrt(6)).accuracy  # equal total noise: σ/√d on each of the 6 coordinates
    assert report.sweep[-1] < 0.6  # σ = 2 swamps unit vectors
    with pytest.raises(ValueError, match="Noise mode"):
        compute.model_geometry("toy", x, labels, noise="sideways")


def test_analyse_adds_the_chosen_sigma_to_the_sweep_and_projects():
    class FakeModel:
        kind = "text"

        def __init__(self, axis):
            self.axis = axis

        def encode_texts(self, texts, progress=None):
            rng = np.random.default_rng(self.axis)
            return np.array([np.eye(8)[hash(t.split()[-1]) % 4 + self.axis] + rng.normal(0, 0.1, 8) for t in texts])

    class FakeRegistry:
        def get(self, model_id, session=None):
            return FakeModel({"m1": 0, "m2": 4}[model_id])

        def is_loaded(self, model_id, session=None):
            return True  # nothing to load: no "loading the model" step

    rows = [(f"text {i} topic{k}", f"t{k}") for k in range(4) for i in range(6)]
    frame = pd.DataFrame(rows, columns=["text", "label"]).assign(module="")
    steps = []
    result = compute.analyse(FakeRegistry(), "m1,m2", frame, sigma=0.07, sweep_sigmas=(0.2,), projection="pca",
                             progress=lambda f, m: steps.append((f, m)))
    assert result.sweep_sigmas == (0.0, 0.07, 0.2)
    assert list(result.figures()) == ["m1", "m2"] and set(result.projections) == {"m1", "m2"}
    assert result.projections["m1"].shape == (24, 2)
    assert [f for f, _ in steps] == sorted(f for f, _ in steps) and all(0 <= f <= 1 for f, _ in steps)
    table = result.table()
    assert list(table.columns) == ["figure", "m1", "m2", "meaning"] and len(table) == len(compute.FIGURES)
    long = result.long_table()
    assert {"model", "separation_auc", "probe_accuracy_sigma_0.07"} <= set(long.columns)
    payload = json.loads(json.dumps(result.to_json()))
    assert payload["sweep"]["sigma"] == [0.0, 0.07, 0.2] and payload["settings"]["texts"] == 24
    plots = figures.all_figures(result)
    assert set(plots) == {"m1-heatmap", "m1-histogram", "m1-pca", "m2-heatmap", "m2-histogram", "m2-pca",
                          "noise-sweep"}
    # the histograms of both models share their axes
    xr = {tuple(plots[f"{m}-histogram"].layout.xaxis.range) for m in ("m1", "m2")}
    yr = {tuple(plots[f"{m}-histogram"].layout.yaxis.range) for m in ("m1", "m2")}
    assert len(xr) == 1 and len(yr) == 1


def test_model_ids_must_differ():
    with pytest.raises(ValueError, match="must differ"):
        compute.parse_model_ids("glove,glove")
    with pytest.raises(ValueError, match="at least one"):
        compute.parse_model_ids(" , ")
    assert compute.parse_model_ids(" glove , minilm ") == ["glove", "minilm"]


# -- predict, then reveal ---------------------------------------------------------------------

@pytest.mark.parametrize("inter, bucket", [(0.05, "low"), (0.29, "low"), (0.45, "middle"), (0.7, "middle"),
                                           (0.82, "high")])
def test_prediction_buckets(inter, bucket):
    assert compute.prediction_bucket(inter) == bucket


def _result_with(inter_a, inter_b):
    def report(model_id, inter, mc, auc):
        f = dict.fromkeys(compute.FIGURES, 0.5)
        f.update(inter_mean=inter, intra_mean=inter + 0.1, mean_cosine=mc, separation_auc=auc)
        return compute.ModelReport(model_id, None, None, None, None, f, [])

    return compute.AnisotropyResult(pd.DataFrame({"text": [], "label": [], "module": []}), {
        "a": report("a", inter_a, 0.85, 0.78), "b": report("b", inter_b, 0.05, 0.9)})


def test_reveal_says_right_wrong_or_not_committed():
    result = _result_with(0.82, 0.01)
    assert "Your prediction was right" in compute.reveal(result, "high")
    wrong = compute.reveal(result, compute.PREDICT_CHOICES["low"])
    assert "Not quite" in wrong and "0.82" in wrong and "narrow cone" in wrong
    assert "You did not predict" in compute.reveal(result, None)


# -- default models -----------------------------------------------------------------------------

def _registry(bert_available: bool) -> ModelRegistry:
    registry = ModelRegistry(device="cpu")
    for model_id in ("glove", "minilm", "bert-base-uncased"):
        ok = bert_available or model_id != "bert-base-uncased"
        registry.register(ModelSpec(id=model_id, kind="text", loader=lambda spec, device: None,
                                    availability=lambda spec, ok=ok: (ok, "ready" if ok else "no network here")))
    return registry


def test_default_models_prefer_bert_and_explain_the_fallback():
    assert compute.default_models(_registry(True)) == ("bert-base-uncased", "minilm", "")
    a, b, note = compute.default_models(_registry(False))
    assert (a, b) == ("glove", "minilm")
    assert "no network here" in note and "GloVe" in note


# -- headless -----------------------------------------------------------------------------------

def test_cli_json_is_keyed_by_model_and_has_every_figure(tmp_path, capsys):
    from playground.web.cli import main

    rows = [(f"the court shall rule on clause {i}", "legal") for i in range(8)]
    rows += [(f"the patient reports pain in the knee {i}", "medical") for i in range(8)]
    path = _write(tmp_path, "small.csv", "text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    assert main(["run", "anisotropy", "--models", "glove", "--data", path, "--seed", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["glove", "settings"]
    assert out["settings"]["noise_scale"] == "matched" and out["settings"]["sigma"] == 1.0
    # one model: matched dimension is its own, σ/√50 on each coordinate
    assert out["settings"]["sigma_per_coordinate"]["glove"] == pytest.approx(1.0 / np.sqrt(50))
    assert out["settings"]["matched_dimension"] == 50
    for key in ("intra_mean", "inter_mean", "separation_auc", "mean_cosine", "alignment", "uniformity",
                "probe_accuracy", "probe_accuracy_noisy"):
        assert isinstance(out["glove"][key], float)
    assert main(["run", "anisotropy", "--models", "glove", "--data", path]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["figure", "glove"] and "separation_auc" in text


def test_cli_reports_a_bad_upload_and_an_unknown_model(tmp_path, capsys):
    from playground.web.cli import main

    bad = _write(tmp_path, "bad.csv", "sentence,tag\nhello,a\n")
    assert main(["run", "anisotropy", "--models", "glove", "--data", bad]) == 1
    assert "Missing column(s) text, label" in capsys.readouterr().err
    assert main(["run", "anisotropy", "--models", "glove,nope", "--data", bad]) == 1


def test_headless_run_uses_the_default_models(monkeypatch):
    import plugins.anisotropy.headless as headless
    from playground.contract.lab import LabContext

    parser = argparse.ArgumentParser()
    headless.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.models, args.data, args.seed, args.sigma, args.noise, args.noise_scale, args.postprocess) == (
        None, None, 0, None, "after", "matched", "none")
    calls = []

    def fake_analyse(registry, models, frame, **kw):
        calls.append((models, len(frame), kw))
        raise RuntimeError("stop here")

    monkeypatch.setattr(headless, "analyse", fake_analyse)
    with pytest.raises(RuntimeError):
        headless.run(args, LabContext(registry=_registry(False)))
    models, n_texts, kw = calls[0]
    assert models == "glove,minilm" and n_texts == len(load_corpus())
    assert kw == {"sigma": None, "noise": "after", "seed": 0, "noise_scale": "matched"}


# -- issue 12: equal total noise and post-hoc isotropy, on small arrays -----------------------

@pytest.mark.parametrize("dim", [3, 50, 384, 1024])
def test_equal_total_noise_has_mean_squared_norm_sigma_squared_whatever_the_dimension(dim):
    sigma, n = 1.5, 4000
    x = np.random.default_rng(1).normal(size=(n, dim))
    noise = geometry.add_noise(x, compute.coordinate_sigma(sigma, dim, "total"), seed=7) - geometry.l2_normalise(x)
    assert np.mean(np.sum(noise**2, axis=1)) == pytest.approx(sigma**2, rel=0.03)
    per_coordinate = geometry.add_noise(x, compute.coordinate_sigma(0.1, dim, "coordinate"), seed=7)
    assert np.mean(np.sum((per_coordinate - geometry.l2_normalise(x)) ** 2, axis=1)) == pytest.approx(
        0.01 * dim, rel=0.03)  # per coordinate: the total grows with the dimension


def test_noise_scale_and_sigma_are_validated():
    with pytest.raises(ValueError, match="Noise scale 'sideways'"):
        compute.coordinate_sigma(0.1, 10, "sideways")
    with pytest.raises(ValueError, match="finite number"):
        compute.coordinate_sigma(float("nan"), 10, "total")


def test_centering_gives_a_zero_mean_and_whitening_identity_covariance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)) + 5.0  # skewed, far from the origin
    assert np.abs(isotropy.center(x).mean(axis=0)).max() < 1e-10
    w = isotropy.whiten(x)
    assert w.shape == (200, 6)
    assert np.abs(w.mean(axis=0)).max() < 1e-10
    assert np.allclose(w.T @ w / len(w), np.eye(6), atol=1e-8)
    # fewer vectors than dimensions: the null space is dropped, the rest is still white
    few = isotropy.whiten(rng.normal(size=(5, 20)))
    assert few.shape == (5, 4) and np.allclose(few.T @ few / 5, np.eye(4), atol=1e-8)
    z = isotropy.postprocess(x, "center")
    assert np.allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-6)
    assert geometry.mean_cosine(z) < 0.05 < geometry.mean_cosine(x)
    with pytest.raises(ValueError, match="Unknown post-processing rotate"):
        isotropy.parse_postprocess("center,rotate")
    assert isotropy.parse_postprocess("whiten, center,whiten") == ["whiten", "center"]


def test_shift_reveal_follows_the_measured_auc():
    x, labels = _toy()
    x_shifted = x + np.array([8.0, 8.0, 8.0])  # a cone: one big shared direction
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(10)], "label": labels, "module": ""})
    reports = {
        "cone": compute.model_geometry("cone", x_shifted, labels, sweep_sigmas=(0.0,)),
        "fine": compute.model_geometry("fine", x, labels, sweep_sigmas=(0.0,)),
    }
    result = compute.AnisotropyResult(frame, reports, sweep_sigmas=(0.0, 1.0))
    figs = isotropy.postprocess_figures(result, ["none", "center"])
    assert figs["none"]["cone"]["mean_cosine"] > 0.9
    assert abs(figs["center"]["cone"]["mean_cosine"]) < 0.2
    truth = isotropy.auc_bucket(figs["center"]["cone"]["separation_auc"], reports["fine"].figures["separation_auc"])
    text = isotropy.reveal(result, figs, truth)
    assert text.startswith('<span class="verdict">**Your prediction was right:**')  # the verdict, marked
    assert f"{figs['center']['cone']['separation_auc']:.3f}" in text
    wrong = next(k for k in isotropy.PREDICT_CHOICES if k != truth)
    assert isotropy.reveal(result, figs, wrong).startswith('<span class="verdict">**Not quite.**')
    rows = isotropy.comparison_table(figs)
    assert rows[0] == ["figure", "cone · none", "fine · none", "cone · center", "fine · center"]


# -- issue 18: the lesson text states what the evidence supports ------------------------------

def test_mean_cosine_is_the_squared_mean_and_zero_does_not_mean_isotropic():
    # the tab's claim: mean cosine ≈ ‖mean unit vector‖², so 0 for any centred set
    rng = np.random.default_rng(0)
    x = geometry.l2_normalise(rng.normal(size=(300, 8)) + 2.0)
    n = len(x)
    mean = x.mean(axis=0)
    assert geometry.mean_cosine(x) == pytest.approx((n * mean @ mean - 1) / (n - 1))
    opposite = np.concatenate([np.tile([1.0, 0, 0], (50, 1)), np.tile([-1.0, 0, 0], (50, 1))])
    assert abs(geometry.mean_cosine(opposite)) < 0.02  # two antipodal clusters: "isotropic" by this figure


def test_lesson_text_is_corrected():
    from plugins.anisotropy import ui

    assert "next-sentence prediction" in ui.LESSON and "not a likelihood" in ui.LESSON
    assert "masked tokens (a likelihood objective)" not in ui.LESSON
    assert "use the whole sphere" not in ui.LOOK_FOR and "Necessary for using the whole sphere, not sufficient" in ui.LOOK_FOR
    assert "trades off" not in ui.LOOK_FOR and "Wang & Liu 2021" in ui.LOOK_FOR
    assert "σ means the same for every model" not in " ".join(compute.NOISE_MODES.values())
    assert "1.96" in ui.LOOK_FOR and "0.71" in ui.LOOK_FOR
    # those two lengths are σ·√d at σ = 0.1 for 384-d MiniLM and 50-d GloVe
    assert (0.1 * 384**0.5, 0.1 * 50**0.5) == (pytest.approx(1.96, abs=0.005), pytest.approx(0.71, abs=0.005))


def test_reveal_does_not_say_a_raw_cosine_says_little():
    x, labels = _toy()
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(10)], "label": labels, "module": ""})
    reports = {"cone": compute.model_geometry("cone", x + 8.0, labels, sweep_sigmas=(0.0,)),
               "fine": compute.model_geometry("fine", x, labels, sweep_sigmas=(0.0,))}
    text = compute.reveal(compute.AnisotropyResult(frame, reports), "high")
    assert "says little" not in text and "second question below" in text
    assert f"{reports['cone'].figures['probe_accuracy']:.0%} of the time" in text


def test_a_first_use_says_the_model_is_loading_and_a_second_does_not():
    from playground import create_registry

    registry = create_registry(device="cpu")
    messages = []
    compute.analyse(registry, "glove", progress=lambda fraction, message: messages.append(message))
    assert "glove: loading the model (first use since the server started)" in messages
    messages.clear()
    compute.analyse(registry, "glove", progress=lambda fraction, message: messages.append(message))
    assert messages and not any("loading the model" in m for m in messages)


# -- issue 25: noise at matched dimension, the whitening simplex, readings chosen from figures ------

from plugins.anisotropy import noise as noise_scales  # noqa: E402


def test_isometric_embedding_keeps_every_cosine_and_length():
    x = np.random.default_rng(3).normal(size=(40, 50)) + 0.5
    e = geometry.isometric_embedding(x, 384, seed=0)
    assert e.shape == (40, 384)
    assert np.abs(geometry.cosine_matrix(e) - geometry.cosine_matrix(x)).max() < 1e-6
    assert np.allclose(np.linalg.norm(e, axis=1), np.linalg.norm(x, axis=1), atol=1e-9)
    assert np.allclose(e @ e.T, x @ x.T, atol=1e-8)
    assert (np.abs(e) > 1e-9).mean() > 0.99  # rotated: no coordinate is left as zero padding
    assert np.array_equal(e, geometry.isometric_embedding(x, 384, seed=0))  # one fixed rotation
    assert geometry.isometric_embedding(x, 50) is not None and np.array_equal(geometry.isometric_embedding(x, 50), x)
    with pytest.raises(ValueError, match="fewer"):
        geometry.isometric_embedding(x, 20)


def test_matched_noise_gives_every_model_the_same_sigma_per_coordinate():
    for dim in (50, 384):
        assert compute.coordinate_sigma(1.0, dim, "matched", 384) == pytest.approx(1 / np.sqrt(384))
    assert compute.coordinate_sigma(1.0, 50, "total", 384) == pytest.approx(1 / np.sqrt(50))
    assert compute.coordinate_sigma(0.1, 50, "coordinate", 384) == 0.1
    x = np.random.default_rng(0).normal(size=(12, 5))
    assert noise_scales.noise_space(x, "matched", 9).shape == (12, 9)
    assert noise_scales.noise_space(x, "total", 9) is x and noise_scales.noise_space(x, "coordinate", 9) is x


def _clusters(dim, n_per=10, labels=4, spread=0.6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(labels, dim))
    x = np.concatenate([c + rng.normal(0, spread, size=(n_per, dim)) for c in centres])
    return x, np.repeat([f"l{k}" for k in range(labels)], n_per)


def test_each_model_carries_its_noisy_probe_on_all_three_scales():
    x, labels = _clusters(6)
    small = compute.model_geometry("small", x, labels, sigma=1.0, sweep_sigmas=(0.0, 0.5), matched_dim=24)
    f = small.figures
    s = 1 / np.sqrt(24)
    expected = {
        "probe_noisy_matched": geometry.linear_probe(geometry.isometric_embedding(x, 24, noise_scales.ROTATION_SEED),
                                                     labels, 0.2, s).accuracy,
        "probe_noisy_total": geometry.linear_probe(x, labels, 0.2, 1 / np.sqrt(6)).accuracy,
        "probe_noisy_coordinate": geometry.linear_probe(x, labels, 0.2, s).accuracy,
    }
    assert {k: f[k] for k in expected} == expected
    assert f["probe_accuracy_noisy"] == f["probe_noisy_matched"]  # the default scale is matched
    assert f["probe_accuracy"] == geometry.linear_probe(x, labels, 0.2).accuracy  # the clean probe is untouched
    # the sweep is taken on the embedded vectors, σ/√24 on each coordinate
    assert small.sweep[1] == geometry.linear_probe(
        geometry.isometric_embedding(x, 24, noise_scales.ROTATION_SEED), labels, 0.2, 0.5 / np.sqrt(24)).accuracy
    big, _ = _clusters(24, seed=1)
    g = compute.model_geometry("big", big, labels, sigma=1.0, sweep_sigmas=(0.0,), matched_dim=24).figures
    assert g["probe_noisy_matched"] == g["probe_noisy_total"] == g["probe_noisy_coordinate"] == g["probe_accuracy_noisy"]
    # another scale chosen: probe_accuracy_noisy is that scale's figure, the three are unchanged
    total = compute.model_geometry("small", x, labels, sigma=1.0, sweep_sigmas=(0.0,), noise_scale="total",
                                   matched_dim=24).figures
    assert total["probe_accuracy_noisy"] == total["probe_noisy_total"] == f["probe_noisy_total"]


def _noisy(matched, total, coordinate):
    return {"probe_noisy_matched": matched, "probe_noisy_total": total, "probe_noisy_coordinate": coordinate}


DIMS = {"glove": 50, "minilm": 384}


def test_noise_reading_names_the_winner_the_figures_show_either_way_round():
    contrastive_ahead = {"glove": _noisy(0.84, 0.59, 0.91), "minilm": _noisy(0.97, 0.97, 0.97)}
    text = noise_scales.noise_reading(contrastive_ahead, DIMS, 1 / np.sqrt(384))
    assert "`minilm`'s probe scores higher under this noise: 97% against 84% for `glove`" in text
    assert "scores 59%, below its 84% at matched dimension" in text  # equal total noise: lower for the smaller
    assert "scores 91%, above its 84% at matched dimension" in text  # per coordinate: higher for the smaller
    assert "√(384/50) ≈ 2.8" in text and "N(0, 0.051)" in text
    glove_ahead = {"glove": _noisy(0.95, 0.80, 0.97), "minilm": _noisy(0.70, 0.70, 0.70)}
    text = noise_scales.noise_reading(glove_ahead, DIMS, 0.05)
    assert "`glove`'s probe scores higher under this noise: 95% against 70% for `minilm`" in text
    assert "`minilm`'s probe scores higher" not in text
    tied = {"glove": _noisy(0.90, 0.90, 0.90), "minilm": _noisy(0.91, 0.91, 0.91)}
    text = noise_scales.noise_reading(tied, DIMS, 0.05)
    assert "are about equal under this noise (90% and 91%, within 0.02)" in text
    assert "scores 90%, about the same as its 90% at matched dimension" in text
    same_dim = noise_scales.noise_reading(tied, {"glove": 384, "minilm": 384}, 0.05)
    assert "the three noise scales add the same noise" in same_dim and "about equal" in same_dim


def test_the_run_carries_the_noise_reading_and_its_settings():
    x, labels = _clusters(6)
    big, _ = _clusters(24, seed=1)
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(len(labels))], "label": labels, "module": ""})
    reports = {"small": compute.model_geometry("small", x, labels, sweep_sigmas=(0.0,), matched_dim=24),
               "big": compute.model_geometry("big", big, labels, sweep_sigmas=(0.0,), matched_dim=24)}
    result = compute.AnisotropyResult(frame, reports, matched_dim=24)
    assert result.sigma_per_coordinate() == {"small": pytest.approx(1 / np.sqrt(24)), "big": pytest.approx(1 / np.sqrt(24))}
    payload = result.to_json()["settings"]
    assert payload["matched_dimension"] == 24 and payload["dimensions"] == {"small": 6, "big": 24}
    reading = result.noise_reading()
    assert "`small`'s 6-d vectors are embedded isometrically in 24 dimensions" in reading
    assert set(compute.FIGURES) == set(reports["small"].figures)


def test_cli_json_reports_the_matched_probe_for_both_models(tmp_path, capsys):
    from playground import create_registry
    from playground.web.cli import main

    rows = [(f"the court shall rule on clause {i} of the lease", "legal") for i in range(10)]
    rows += [(f"the patient reports pain in the left knee on day {i}", "medical") for i in range(10)]
    rows += [(f"the moon sings softly over the silver sea {i}", "poetry") for i in range(10)]
    path = _write(tmp_path, "three.csv", "text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    assert main(["run", "anisotropy", "--models", "glove,minilm", "--data", path, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["settings"]["noise_scale"] == "matched" and out["settings"]["matched_dimension"] == 384
    assert out["settings"]["dimensions"] == {"glove": 50, "minilm": 384}
    for model in ("glove", "minilm"):
        assert {"probe_noisy_matched", "probe_noisy_total", "probe_noisy_coordinate"} <= set(out[model])
        assert out[model]["probe_accuracy_noisy"] == out[model]["probe_noisy_matched"]
    # glove's matched figure is its probe in 384 dimensions, cosines unchanged, at σ = 1/√384 per coordinate
    frame = compute.load_texts(path)
    x = create_registry(device="cpu").get("glove").encode_texts(frame["text"].tolist())
    embedded = geometry.isometric_embedding(x, 384, noise_scales.ROTATION_SEED)
    assert out["glove"]["probe_noisy_matched"] == geometry.linear_probe(
        embedded, frame["label"].to_numpy(), 0.2, 1 / np.sqrt(384)).accuracy
    assert main(["run", "anisotropy", "--models", "glove,minilm", "--data", path]) == 0
    assert "**Noise, three ways.**" in capsys.readouterr().out


def test_help_names_the_three_noise_scales(capsys):
    from playground.web.cli import main

    with pytest.raises(SystemExit):
        main(["run", "anisotropy", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{matched,total,coordinate}" in text and "matched (default)" in text


@pytest.mark.parametrize("n, dim", [(12, 20), (21, 20), (60, 8)])
def test_whitening_reveal_states_the_simplex_exactly_when_n_minus_1_fits_in_d(n, dim):
    x = np.random.default_rng(n).normal(size=(n, dim)) + 1.0
    white = isotropy.postprocess(x, "whiten")
    cosines = geometry.cosine_matrix(white)[np.triu_indices(n, 1)]
    simplex = n - 1 <= dim
    raw = {"separation_auc": 0.9, "probe_accuracy": 0.9}
    text = isotropy.whitening_sentence("m", n, dim, raw, {"separation_auc": 0.5, "probe_accuracy": 0.25})
    if simplex:  # the figure behind the sentence: every cosine −1/(n − 1)
        assert np.allclose(cosines, -1 / (n - 1), atol=1e-6)
        assert "regular simplex" in text and f"−1/{n - 1} = {-1 / (n - 1):.4f}" in text and "by construction" in text
    else:
        assert cosines.std() > 0.05  # not a simplex: the cosines still differ
        assert "simplex" not in text and f"each of the {dim} principal directions the same weight" in text
        assert "nearly as many directions" not in text
        assert isotropy.whitening_sentence("m", n, dim, raw, {"separation_auc": 0.89, "probe_accuracy": 0.9}) == ""


@pytest.mark.parametrize("raw_a, centred_b, words", [
    (0.785, 0.920, "lifts `b`'s AUC too (0.895 → 0.920): `b` benefits less than `a`, but it benefits"),
    (0.785, 0.900, "barely moves `b`'s AUC too (0.895 → 0.900): `b` benefits less than `a`;"),
    (0.785, 0.850, "lowers `b`'s AUC too"),
    (0.850, 0.970, "`b` benefits about as much as `a`"),
    (0.900, 0.990, "`b` benefits more than `a`"),
])
def test_centering_sentence_follows_the_figures(raw_a, centred_b, words):
    text = isotropy.centering_sentence("a", "b", raw_a, 0.895, 0.93, centred_b)
    assert words in text
    assert "needs no such repair" not in text and "needs neither" not in text


def test_centering_sentence_says_when_the_centred_models_are_level():
    assert "centred, the two are about equal (0.930 and 0.920, within 0.02)" in isotropy.centering_sentence(
        "a", "b", 0.785, 0.895, 0.930, 0.920)
    assert "centred, the two are `a` ahead (0.990 against 0.920)" in isotropy.centering_sentence(
        "a", "b", 0.785, 0.895, 0.990, 0.920)


def test_teaching_text_says_tend_to_and_names_what_each_objective_compares():
    from pathlib import Path

    from playground.models.catalog import DEFAULT_MODELS
    from playground.web.app import HEADER
    from plugins.anisotropy import ui

    top = " ".join((Path(__file__).parent.parent / "README.md").read_text().split("## Quick start")[0].split())
    lab_readme = " ".join((Path(__file__).parent.parent / "plugins/anisotropy/README.md").read_text().split())
    lesson = " ".join(ui.LESSON.split())
    for text in (" ".join(HEADER.split()), top):
        assert "make the raw cosine usable" in text and "Liang et al. 2022" in text and "Gao et al. 2021" in text
        assert "directly usable" not in text and "trained without comparing texts" not in text
        assert "compares two segments read together" in text and "mean-pooled GloVe" in text
        assert "nearly isotropic" not in text  # the words these texts use average 0.42, not near 0
    assert "it does compare two segments" in lesson and "illustrates the lesson" in lesson
    assert "tends to* make the raw cosine usable" in lesson and "Henderson et al. 2017" in lesson
    assert "NLI classification, regression and triplet objectives" in lesson
    assert "needs neither" not in lab_readme and "benefits less, but it benefits" in lab_readme
    assert "nearly as many directions" not in lab_readme and "regular simplex" in lab_readme
    assert "illustrative, not controlled" in lab_readme
    assert "0 = isotropic" not in compute.FIGURES["mean_cosine"] and "not sufficient" in compute.FIGURES["mean_cosine"]
    assert "over a loss's own positive pairs" in compute.FIGURES["alignment"]
    assert "near 0 is isotropic" not in geometry.mean_cosine.__doc__ and "not sufficient" in geometry.mean_cosine.__doc__
    specs = {spec.id: spec.description for spec in DEFAULT_MODELS}
    assert "fine-tuned contrastively" in specs["minilm"] and "compares two segments" in specs["bert-base-uncased"]


def test_whitening_reveal_checks_the_rank_before_it_claims_a_simplex():
    # n − 1 ≤ d, but repeated texts: the centred texts span fewer than n − 1 directions, no simplex
    x = np.repeat(np.random.default_rng(0).normal(size=(6, 20)), 2, axis=0)
    rank = isotropy.whiten(x).shape[1]
    assert rank == 5 < len(x) - 1
    cosines = geometry.cosine_matrix(isotropy.postprocess(x, "whiten"))[np.triu_indices(len(x), 1)]
    assert not np.allclose(cosines, -1 / (len(x) - 1), atol=1e-3)
    text = isotropy.whitening_sentence("m", len(x), 20, {"separation_auc": 0.9}, {"separation_auc": 0.5,
                                       "probe_accuracy": 0.3}, rank=rank)
    assert "simplex" not in text and "each of the 5 principal directions" in text
