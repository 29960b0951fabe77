"""Temperature lab: the softmax's sharpening, the heads trained per τ, the live view,
the headless run, and the tab in a browser and through gradio_client."""
import argparse
import json
import math
import re

import numpy as np
import pytest
import torch

from playground import create_plugin_manager, create_registry

from playground.science import losses
from playground.contract.lab import LabContext
from plugins.temperature import compute

PLUGINS = ("playground.contract.default_models", "plugins.temperature")


@pytest.fixture(scope="module")
def registry():
    return create_registry(create_plugin_manager(builtins=PLUGINS, entry_points=False), device="cpu")


@pytest.fixture(scope="module")
def frame():
    return compute.load_texts(per_label=20, seed=0)


@pytest.fixture(scope="module")
def glove_emb(registry, frame):
    return compute.embed(registry, "glove", frame["text"].tolist())


# ------------------------------------------------------------------- the softmax


def test_lower_tau_gives_a_sharper_softmax_over_the_same_logits():
    rng = np.random.default_rng(0)
    taus = [2.0, 1.0, 0.5, 0.1, 0.05, 0.01]
    for _ in range(20):
        sims = rng.uniform(-1, 1, size=16)
        probs = [compute.softmax_over_batch(sims, t) for t in taus]
        ent = [compute.entropy(p) for p in probs]
        assert all(b < a for a, b in zip(ent, ent[1:])), ent
        top = [p.max() for p in probs]
        assert all(b > a for a, b in zip(top, top[1:]))
        assert all(abs(p.sum() - 1) < 1e-12 for p in probs)


def test_entropy_bounds_and_equal_logits():
    assert compute.entropy(np.eye(5)[2]) == 0.0
    flat = compute.softmax_over_batch(np.full(8, 0.3), 0.01)
    assert np.allclose(flat, 1 / 8) and math.isclose(compute.entropy(flat), math.log(8))
    # τ = 0.001 over cosines: no overflow, a one-hot
    p = compute.softmax_over_batch(np.array([0.9, 0.2, -0.5]), 0.001)
    assert np.isfinite(p).all() and p[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="τ must be > 0"):
        compute.softmax_over_batch(np.zeros(3), 0.0)


def test_parse_taus():
    assert compute.parse_taus("1, 0.01;0.1, 0.1") == [0.01, 0.1, 1.0]
    for bad, match in (("", "at least one"), ("0.1, x", "numbers"), ("0, 0.1", "between"),
                       (",".join(str(0.1 * i) for i in range(1, 11)), "At most")):
        with pytest.raises(ValueError, match=match):
            compute.parse_taus(bad)


def test_query_batch_has_positive_first_and_other_label_negatives(frame):
    labels = frame["label"].to_numpy()
    batch = compute.pick_query_batch(labels, size=16, seed=3)
    assert len(batch.keys) == 16 and batch.query not in batch.keys
    assert labels[batch.keys[0]] == labels[batch.query]
    assert (labels[batch.keys[1:]] != labels[batch.query]).all()


# ---------------------------------------------------------------------- training


@pytest.mark.parametrize("positives", ["dropout", "label"])
def test_pair_sampler(frame, positives):
    labels = frame["label"].to_numpy()
    sampler = compute.PairSampler(labels, positives)
    i, j = sampler.sample(np.random.default_rng(0), 64)
    assert len(set(i)) == 64
    if positives == "dropout":
        assert np.array_equal(i, j)
    else:
        assert (i != j).all() and (labels[i] == labels[j]).all()


def test_training_is_seeded(glove_emb, frame):
    labels = frame["label"].tolist()
    _, h1 = compute.train_head(glove_emb, labels, 0.1, "label", steps=15, seed=4)
    _, h2 = compute.train_head(glove_emb, labels, 0.1, "label", steps=15, seed=4)
    _, h3 = compute.train_head(glove_emb, labels, 0.1, "label", steps=15, seed=5)
    assert h1 == h2 and h1 != h3


@pytest.fixture(scope="module")
def sweeps(registry, frame):
    return {p: compute.run_sweep(registry, frame, "glove", taus=[0.05, 0.5], positives=p, steps=80)
            for p in ("dropout", "label")}


def test_sweep_figures_are_well_formed(sweeps, frame):
    for result in sweeps.values():
        assert [t.tau for t in result.taus] == [0.05, 0.5]
        for t in result.taus:
            assert np.isfinite([t.loss, t.alignment, t.uniformity]).all()
            assert 0 <= t.alignment <= 4 and t.uniformity <= 0
            assert t.coords.shape == (len(frame), 2)
            assert abs(t.probabilities.sum() - 1) < 1e-9 and len(t.probabilities) == compute.SOFTMAX_BATCH
            assert len(t.history) == 80
        out = result.sweep_json()
        row = {"tau", "loss", "alignment", "uniformity", "separation_auc"}
        assert list(out) == ["sweep"] and [set(r) for r in out["sweep"]] == [row] * 2
        json.dumps(out)


def test_the_softmax_plot_shows_the_positive_the_loss_trained_on(sweeps):
    """Issue 25: with dropout positives the green key is the query's other dropout view,
    not a same-label text; with same-label positives it is another text with the label."""
    from plugins.temperature.figures import softmax_figure

    dropout, label = softmax_figure(sweeps["dropout"]), softmax_figure(sweeps["label"])
    assert dropout.data[0].text[0].startswith("the query's other dropout view")
    assert "another dropout view of the query (the pair the loss trained on)" in dropout.layout.title.text
    assert "another text with its label" in label.layout.title.text
    assert not label.data[0].text[0].startswith("the query's other dropout view")
    # two dropout views of one text are far closer than a same-label text: the positive takes more of the softmax
    assert sweeps["dropout"].taus[0].probabilities[0] > sweeps["label"].taus[0].probabilities[0]


def test_same_label_positives_tighten_labels(sweeps):
    """Trained to pull same-label texts together, the head's labels are much tighter
    (lower alignment) than GloVe's own."""
    result = sweeps["label"]
    for t in result.taus:
        assert t.alignment < 0.5 * result.frozen["alignment"], (t.alignment, result.frozen)


def test_dropout_positives_spread_the_texts(sweeps):
    """With only dropout views as positives every other text is a negative: the head
    spreads GloVe's narrow cone out (lower uniformity)."""
    result = sweeps["dropout"]
    for t in result.taus:
        assert t.uniformity < result.frozen["uniformity"] - 0.5, (t.uniformity, result.frozen)


def test_sweep_refuses_bad_inputs(registry, frame):
    with pytest.raises(ValueError, match="positives"):
        compute.run_sweep(registry, frame, "glove", taus=[0.1], positives="views", steps=20)
    with pytest.raises(ValueError, match="steps"):
        compute.run_sweep(registry, frame, "glove", taus=[0.1], steps=1)
    one_label = frame.assign(label="same")
    with pytest.raises(ValueError, match="two labels"):
        compute.run_sweep(registry, one_label, "glove", taus=[0.1], steps=20)


# ---------------------------------------------------------------------- live view


def test_live_view_sharpens_as_tau_falls(glove_emb, frame):
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    sharp = compute.live_view(glove_emb, texts, labels, 0.02)
    flat = compute.live_view(glove_emb, texts, labels, 1.0)
    assert sharp.entropy < flat.entropy
    assert sharp.probabilities.max() > flat.probabilities.max()
    # the curve over τ: entropy never falls as τ grows
    assert all(b >= a - 1e-9 for a, b in zip(flat.grid_entropy, flat.grid_entropy[1:]))
    assert sharp.grid == sorted(sharp.grid) and 0.02 in sharp.grid
    # the loss is the shared library's InfoNCE on the fixed same-label pairs
    qi, ki = compute.label_pairs_batch(labels)
    expected = float(losses.info_nce(torch.as_tensor(glove_emb[qi]), torch.as_tensor(glove_emb[ki]), 1.0))
    assert flat.loss == pytest.approx(expected)
    assert sharp.key_labels[0] == labels[compute.pick_query_batch(labels).query]


# ------------------------------------------------------------------------ headless


def test_headless_run_prints_the_sweep(registry):
    from playground.contract.plugins import collect_labs

    lab = next(lab for lab in collect_labs(create_plugin_manager(builtins=PLUGINS, entry_points=False))
               if lab.id == "temperature")
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    lab.add_arguments(parser)
    args = parser.parse_args(["--json", "--steps", "30", "--per-label", "15"])
    out = lab.run(args, LabContext(registry=registry, lab_id="temperature"))
    assert [r["tau"] for r in out["sweep"]] == list(compute.DEFAULT_TAUS)
    assert "uniformity" in lab.format_result(out) and len(lab.format_result(out).splitlines()) == 6


def test_cli_json(capsys):
    from playground.web.cli import main

    assert main(["run", "temperature", "--json", "--taus", "1,0.1", "--steps", "20", "--per-label", "10"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["tau"] for r in out["sweep"]] == [0.1, 1.0]
    assert main(["run", "temperature", "--taus", "0"]) == 1
    assert "between 0.001 and 10" in capsys.readouterr().err


# ------------------------------------------------------------------- served app


@pytest.fixture
def app_url(serve, registry):
    from playground.web.app import build_app

    return serve(build_app(create_plugin_manager(builtins=PLUGINS, entry_points=False), registry))


def test_api_run_live_and_bad_taus(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    reveal, summary, table, proj, soft = client.predict(
        "glove", "label", "0.05, 1", 10, 40, 0, "the largest τ", api_name="/temperature_run")
    assert re.search(r"Your prediction was right\.\*\*|Not quite\.\*\* You predicted \*the largest τ\*\.", reveal)
    assert "The most uniform head" in reveal
    assert [row[0] for row in table["data"]] == [0.05, 1.0]
    text, fig = client.predict("glove", 0.05, 10, 0, api_name="/temperature_live")
    assert "At τ = 0.05 the positive gets" in text
    with pytest.raises(Exception, match="between 0.001 and 10"):
        client.predict("glove", "dropout", "0.05, 20", 10, 40, 0, None, api_name="/temperature_run")


@pytest.mark.browser
def test_browser_runs_default_experiment_and_live_slider(app_url, page):
    from conftest import open_tab

    page.goto(app_url)
    open_tab(page, "Temperature")
    page.get_by_label("a middle τ").check()
    page.get_by_role("button", name="Train a head at each τ").click()
    page.get_by_text("The most uniform head was trained at").filter(visible=True).first.wait_for(timeout=180_000)
    plots = page.locator(".js-plotly-plot").filter(visible=True)
    plots.nth(2).wait_for()  # summary, 2-D views, softmax
    page.get_by_text("τ = 0.01").filter(visible=True).first.wait_for()
    page.get_by_role("button", name="Show", exact=True).click()
    page.get_by_text("the positive gets").filter(visible=True).first.wait_for(timeout=60_000)
    plots.nth(3).wait_for()


# ------------------------------------------------------------- the reveal (issue 18, item 2)


@pytest.fixture(scope="module")
def default_sweeps(registry):
    """The default sweep on GloVe with each kind of positives (the tab's defaults)."""
    frame = compute.load_texts(per_label=compute.DEFAULT_PER_LABEL, seed=0)
    return {p: compute.run_sweep(registry, frame, "glove", positives=p) for p in compute.POSITIVES}


@pytest.mark.parametrize("positives", compute.POSITIVES)
def test_reveal_names_the_tau_that_was_most_uniform_in_that_run(default_sweeps, positives):
    from plugins.temperature import lesson

    result = default_sweeps[positives]
    best = min(result.taus, key=lambda t: t.uniformity)
    text = lesson.reveal(result, "the smallest τ")
    assert f"The most uniform head was trained at **τ = {best.tau:g}**" in text
    k = result.taus.index(best)
    answer = lesson.PREDICT_CHOICES[0 if k == 0 else 2 if k == len(result.taus) - 1 else 1]
    assert f"({answer}" in text or f" or {answer};" in text  # with any τ tied with it (label positives: 0.5 and 1)
    assert ("Your prediction was right" in text) == (answer == "the smallest τ")


def test_reveal_counts_near_equal_uniformities_as_a_tie_and_needs_two_taus(default_sweeps):
    import dataclasses

    from plugins.temperature import lesson

    result = default_sweeps["dropout"]
    taus = list(result.taus)
    best = min(taus, key=lambda t: t.uniformity)
    taus[-1] = dataclasses.replace(taus[-1], uniformity=best.uniformity + 0.02)  # the largest τ, 0.02 behind
    tied = dataclasses.replace(result, taus=taus)
    text = lesson.reveal(tied, "the largest τ")
    assert "Your prediction was right" in text and "count as a tie" in text
    assert "Your prediction was right" in lesson.reveal(tied, lesson.PREDICT_CHOICES[lesson.where(tied, taus.index(best))])
    assert "Not quite" in lesson.reveal(tied, "the smallest τ")
    one = lesson.reveal(dataclasses.replace(result, taus=[best]), "the largest τ")
    assert "nothing to compare" in one and "Not quite" not in one and "right" not in one


def test_reveal_explains_the_smallest_tau_by_the_run_s_own_loss(default_sweeps):
    from plugins.temperature import lesson

    chance = lesson.chance_loss(len(default_sweeps["dropout"].texts))
    dropout, label = default_sweeps["dropout"].taus[0], default_sweeps["label"].taus[0]
    # measured: dropout views solve the batch at τ = 0.01; same-label positives stay near the false-negative floor
    assert dropout.loss < lesson.SOLVED_SHARE * chance and label.loss > lesson.STUCK_SHARE * chance
    solved = lesson.reveal(default_sweeps["dropout"], None)
    stuck = lesson.reveal(default_sweeps["label"], None)
    assert "the batch is solved" in solved and f"**{dropout.loss:.3f}**" in solved
    assert "the batch is solved" not in stuck and f"**{label.loss:.2f}**" in stuck
    assert "false negatives the loss cannot tell from it" in stuck and "log 31 = 3.43" in stuck
    # issue 25: a same-label head whose labels still separate (AUC > 0.9) is a narrow cone, never "collapsed"
    assert label.separation_auc > 0.9 and "narrow cone with the labels intact" in stuck
    assert "the labels no longer separate" not in stuck
    # the smallest τ was not the most uniform in either run (the old docstring's claim, contradicted)
    for result in default_sweeps.values():
        assert min(result.taus, key=lambda t: t.uniformity).tau != result.taus[0].tau


# ------------------------------------------------------------- claims as data (issue 25)
CLAIM_RUNS = {  # the default runs and three others: another seed, another grid, another model
    "glove, label, seed 1": dict(model="glove", positives="label", seed=1),
    "glove, dropout, τ = 0.02…2": dict(model="glove", positives="dropout", taus=(0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)),
    "glove, label, τ = 0.02…2": dict(model="glove", positives="label", taus=(0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)),
    "minilm, label": dict(model="minilm", positives="label"),
}


@pytest.mark.slow
def test_every_claim_of_the_reveal_says_what_its_run_shows(registry, default_sweeps):
    """Each declared claim on the two default runs and four others (about 25 s): the reveal
    carries the wording its figures select. The smallest τ is not the least uniform on the
    wider grid, so that sentence is worded per run."""
    from playground.contract.claims import Evidence, audit
    from plugins.temperature import claims, lesson

    runs = {f"glove, {p}, default": r for p, r in default_sweeps.items()}
    for name, kw in CLAIM_RUNS.items():
        seed = kw.get("seed", 0)
        frame = compute.load_texts(per_label=compute.DEFAULT_PER_LABEL, seed=seed)
        runs[name] = compute.run_sweep(registry, frame, kw["model"], taus=kw.get("taus", compute.DEFAULT_TAUS),
                                       positives=kw["positives"], seed=seed)
    evidence = []
    for name, r in runs.items():
        best = min(r.taus, key=lambda t: t.uniformity)
        figures = {"smallest_tau.least_uniform": claims.least_uniform_figures(r),
                   "smallest_tau.shape": claims.shape_figures(r.taus[0])}
        if best is not r.taus[-1]:
            figures["largest_tau.against_best"] = claims.largest_figures(r, best)
        text = lesson.reveal(r, None)
        if "stayed at" not in text:  # the shape sentence belongs to runs whose loss stayed near the floor
            figures.pop("smallest_tau.shape")
        evidence.append(Evidence(name, text, figures))
    shape_runs = [e.name for e in evidence if "smallest_tau.shape" in e.figures]
    assert len(shape_runs) >= 4, shape_runs  # the four label runs
    problems = audit(claims.CLAIMS, evidence)
    assert problems == []
    outcomes = {claims.CLAIMS["smallest_tau.least_uniform"].decide(e.figures["smallest_tau.least_uniform"])
                for e in evidence}
    assert len(outcomes) > 1  # it does not hold everywhere: this is why it is worded per run
