"""Triplet margin lab: triplet sampling, the margin sweep's facts, training on held-out
triplets, the headless run, and the tab in a browser and through gradio_client."""
import argparse
import json

import numpy as np
import pandas as pd
import pytest

from playground import create_plugin_manager, create_registry
from playground.contract.lab import LabContext
from plugins.triplet_margin import compute

PLUGINS = ("playground.contract.default_models", "plugins.triplet_margin")


@pytest.fixture(scope="module")
def registry():
    """One registry for the module, so each model loads once."""
    return create_registry(create_plugin_manager(builtins=PLUGINS, entry_points=False), device="cpu")


@pytest.fixture(scope="module")
def frame():
    return compute.load_texts(per_label=30, seed=0)


@pytest.fixture(scope="module")
def glove_emb(registry, frame):
    return compute.embed(registry, "glove", frame["text"].tolist())


# ----------------------------------------------------------------------- triplets


def test_corpus_sample_has_every_label(frame):
    counts = frame["label"].value_counts()
    assert len(counts) >= 4 and (counts == 30).all()
    assert frame["text"].is_unique


@pytest.mark.parametrize("mining", ["random", "hard"])
def test_triplets_follow_labels(frame, glove_emb, mining):
    labels = frame["label"].to_numpy()
    t = compute.sample_triplets(labels, 400, seed=3, mining=mining, embeddings=glove_emb, metric="cosine")
    assert len(t) == 400
    assert (t.anchor != t.positive).all()
    assert (labels[t.anchor] == labels[t.positive]).all()
    assert (labels[t.anchor] != labels[t.negative]).all()
    again = compute.sample_triplets(labels, 400, seed=3, mining=mining, embeddings=glove_emb, metric="cosine")
    assert np.array_equal(t.negative, again.negative) and np.array_equal(t.positive, again.positive)


def test_positives_cover_every_other_same_label_text():
    labels = np.array(["a"] * 4 + ["b"] * 3)
    t = compute.sample_triplets(labels, 3000, seed=0)
    for anchor in range(7):
        got = set(t.positive[t.anchor == anchor])
        assert got == {i for i in range(7) if labels[i] == labels[anchor] and i != anchor}


def test_hard_negative_is_the_nearest_other_label_text(frame, glove_emb):
    labels = frame["label"].to_numpy()
    t = compute.sample_triplets(labels, 50, seed=1, mining="hard", embeddings=glove_emb, metric="euclidean")
    for a, n in zip(t.anchor, t.negative):
        others = np.flatnonzero(labels != labels[a])
        d = np.linalg.norm(glove_emb[others] - glove_emb[a], axis=1)
        assert np.isclose(np.linalg.norm(glove_emb[n] - glove_emb[a]), d.min(), atol=1e-5)


def test_hard_negatives_are_harder_than_random_ones(frame, glove_emb):
    labels = frame["label"].to_numpy()
    rand = compute.sample_triplets(labels, 300, seed=2, mining="random")
    hard = compute.sample_triplets(labels, 300, seed=2, mining="hard", embeddings=glove_emb, metric="cosine")
    assert np.array_equal(rand.anchor, hard.anchor)  # same anchors and positives, other negatives
    _, d_rand = compute.triplet_distances(glove_emb, rand, "cosine")
    _, d_hard = compute.triplet_distances(glove_emb, hard, "cosine")
    assert (d_hard <= d_rand + 1e-6).all()


@pytest.mark.parametrize(
    "labels,match",
    [(["a", "a", "a"], "two labels"), (["a", "b", "c"], "at least two texts")],
)
def test_labels_that_cannot_make_triplets_are_refused(labels, match):
    with pytest.raises(ValueError, match=match):
        compute.sample_triplets(labels, 10)


def test_bad_mining_and_counts_are_refused():
    labels = ["a", "a", "b", "b"]
    with pytest.raises(ValueError, match="mining"):
        compute.sample_triplets(labels, 10, mining="semi")
    with pytest.raises(ValueError, match="between 1 and"):
        compute.sample_triplets(labels, 0)
    with pytest.raises(ValueError, match="needs the embeddings"):
        compute.sample_triplets(labels, 5, mining="hard")


# -------------------------------------------------------------------- sweep facts


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_fraction_active_never_falls_as_margin_grows(frame, glove_emb, metric):
    labels = frame["label"].to_numpy()
    t = compute.sample_triplets(labels, 300, seed=0)
    margins = np.linspace(0, 1.2, 49)
    rows = compute.margin_sweep(glove_emb, t, metric, margins[::-1])  # given out of order on purpose
    assert [r["margin"] for r in rows] == sorted(float(m) for m in margins)
    active = [r["fraction_active"] for r in rows]
    loss = [r["loss"] for r in rows]
    assert all(b >= a for a, b in zip(active, active[1:]))
    assert all(b >= a - 1e-7 for a, b in zip(loss, loss[1:]))
    assert active[0] < 0.5 and active[-1] == 1.0  # the sweep spans the interesting range
    # the loss is the formula on the distances, the fraction counts d(a,p) + α > d(a,n)
    d_ap, d_an = compute.triplet_distances(glove_emb, t, metric)
    for r in rows[::8]:
        assert np.isclose(r["loss"], np.mean(np.maximum(d_ap - d_an + r["margin"], 0)), atol=1e-6)
        assert r["fraction_active"] == np.mean(d_ap + r["margin"] > d_an)


def test_fraction_active_never_falls_on_random_vectors():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(60, 8))
    labels = np.repeat(["x", "y", "z"], 20)
    t = compute.sample_triplets(labels, 500, seed=1)
    for metric in ("cosine", "euclidean"):
        active = [r["fraction_active"] for r in compute.margin_sweep(emb, t, metric, np.linspace(0, 2, 41))]
        assert all(b >= a for a, b in zip(active, active[1:]))


def test_contrastive_model_separates_more_than_glove(registry, frame):
    """The mission's claim, measured: at α = 0.2 MiniLM leaves far fewer triplets
    active than GloVe on the same triplets."""
    result = compute.run_sweep(registry, frame, ["glove", "minilm"], n_triplets=300, margins=[0.0, 0.2])
    g, m = (result.models[k].sweep[1]["fraction_active"] for k in ("glove", "minilm"))
    assert m < g - 0.15, (g, m)
    # random mining: both models were shown the very same triplets
    assert np.array_equal(result.models["glove"].triplets.negative, result.models["minilm"].triplets.negative)


def test_example_table_shows_both_outcomes(registry, frame):
    result = compute.run_sweep(registry, frame, ["glove"], n_triplets=200)
    table = compute.example_triplets(result, margin=0.1, per_model=6)
    assert len(table) == 6
    holds = table["d(a,p) + α < d(a,n)"]
    assert holds.any() and (~holds).any()
    assert ((table["d(a,p)"] + 0.1 < table["d(a,n)"]) == holds).all()
    assert set(table["anchor"]) <= set(frame["text"])


# ------------------------------------------------------------------------ training


def test_split_keeps_held_out_texts_apart(frame):
    labels = frame["label"].to_numpy()
    train, held = compute.split_texts(labels, 0.5, seed=0)
    assert not set(train) & set(held)
    assert len(train) + len(held) == len(labels)
    assert set(labels[train]) == set(labels[held]) == set(labels)


@pytest.mark.parametrize("mining", ["random", "hard"])
def test_training_raises_satisfied_fraction_on_held_out_triplets(frame, glove_emb, mining):
    progress = []
    result = compute.train_projection(
        glove_emb, frame["label"].tolist(), margin=0.2, metric="cosine", mining=mining, steps=200, seed=0,
        model_id="glove", progress=lambda f, d: progress.append(f),
    )
    assert result.after["satisfied"] > result.before["satisfied"] + 0.2, (result.before, result.after)
    assert result.after["loss"] < result.before["loss"]
    assert np.mean(result.losses[-20:]) < np.mean(result.losses[:20])
    assert progress and progress[-1] == 1.0
    assert result.weight.shape == (glove_emb.shape[1], glove_emb.shape[1])
    assert all(0 <= r["before"] <= 1 and 0 <= r["after"] <= 1 for r in compute.summary_rows(result)
               if "loss" not in r["figure"])


def test_train_reveal_calls_the_trained_weight_a_linear_map(frame, glove_emb):
    from plugins.triplet_margin.ui import train_reveal

    result = compute.train_projection(glove_emb, frame["label"].tolist(), steps=20, seed=0, model_id="glove")
    text = train_reveal(result, None)
    d = glove_emb.shape[1]
    assert f"a linear map of the whole space (the {d}×{d} matrix W)" in text and "direction" not in text
    assert f"{result.before['satisfied']:.0%} to {result.after['satisfied']:.0%}" in text


def test_zero_steps_would_change_nothing(frame, glove_emb):
    # the projection starts at the identity, so "before" is the frozen model itself
    result = compute.train_projection(glove_emb, frame["label"].tolist(), steps=1, lr=1e-9)
    assert abs(result.after["satisfied"] - result.before["satisfied"]) < 0.01


def test_training_refuses_bad_margin(frame, glove_emb):
    with pytest.raises(ValueError, match="margin"):
        compute.train_projection(glove_emb, frame["label"].tolist(), margin=-0.1)


# ------------------------------------------------------------------------- uploads


def test_upload_is_read_and_subsampled(tmp_path):
    rows = [(f"the {w} text number {i}", w) for w in ("cat", "dog", "fish") for i in range(10)]
    path = tmp_path / "mine.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    frame = compute.load_texts(str(path), per_label=4)
    assert frame["label"].value_counts().to_dict() == {"cat": 4, "dog": 4, "fish": 4}


def test_single_label_upload_is_refused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,label\nhello there,a\ngood day,a\n")
    with pytest.raises(ValueError, match="single label"):
        compute.load_texts(str(path))


# ------------------------------------------------------------------------ headless


def _lab():
    from playground.contract.plugins import collect_labs

    pm = create_plugin_manager(builtins=PLUGINS, entry_points=False)
    return next(lab for lab in collect_labs(pm) if lab.id == "triplet_margin")


def test_headless_run_gives_sweep_per_model(registry):
    lab = _lab()
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    lab.add_arguments(parser)
    args = parser.parse_args(["--models", "glove,minilm", "--json", "--per-label", "20", "--triplets", "150"])
    out = lab.run(args, LabContext(registry=registry, lab_id=lab.id))
    assert list(out) == ["glove", "minilm"]
    for rows in out.values():
        assert [set(r) for r in rows] == [{"margin", "loss", "fraction_active"}] * 21
        margins = [r["margin"] for r in rows]
        assert margins == sorted(margins) and margins[0] == 0.0 and margins[-1] == 1.0
    json.dumps(out)  # plain JSON-able numbers
    text = lab.format_result(out)
    assert "minilm:" in text and "active" in text


def test_cli_prints_json_keyed_by_model(capsys):
    from playground.web.cli import main

    code = main(["run", "triplet_margin", "--models", "glove", "--json", "--triplets", "100",
                 "--margins", "0.3,0,0.1"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["glove"]
    assert [r["margin"] for r in out["glove"]] == [0.0, 0.1, 0.3]


def test_cli_reports_an_unknown_model(capsys):
    from playground.web.cli import main

    assert main(["run", "triplet_margin", "--models", "glove,nope"]) == 1
    assert "Unknown model 'nope'" in capsys.readouterr().err


# ------------------------------------------------------------------- served app


@pytest.fixture
def app_url(serve, registry):
    from playground.web.app import build_app

    pm = create_plugin_manager(builtins=PLUGINS, entry_points=False)
    return serve(build_app(pm, registry))


def test_api_runs_sweep_and_refuses_bad_upload(app_url, registry, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    reveal, sweep, summary, dists, table = client.predict(
        "glove", None, "cosine", "random", None, 20, 100, 0, 0.2, "it never falls", api_name="/triplet_margin_run"
    )
    assert "Your prediction was right." in reveal and "It never falls." in reveal
    assert "glove" in summary and "80 texts" in summary
    assert table["data"] and len(table["headers"]) == 7
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,tag\nhello,a\n")
    with pytest.raises(Exception, match="Missing column"):
        client.predict("glove", None, "cosine", "random", handle_file(str(bad)), 20, 100, 0, 0.2, None,
                       api_name="/triplet_margin_run")
    with pytest.raises(Exception, match="not available here"):
        client.predict("glove", "bert-base-uncased", "cosine", "random", None, 20, 100, 0, 0.2, None,
                       api_name="/triplet_margin_run")
    reveal, fig, figures = client.predict(
        "glove", "cosine", "random", None, 20, 0, 0.2, 100, 0.01, None, api_name="/triplet_margin_train"
    )
    rows = {r[0]: (r[1], r[2]) for r in figures["data"]}
    before, after = rows["satisfied triplets (held-out)"]
    assert after > before
    # the trained projection is the user's own model now, for this session only
    mine = registry.session_models(client.session_hash)
    assert list(mine) == ["glove-triplet-a0.2"]
    rows = mine["glove-triplet-a0.2"].encode_texts(["a line of poetry about the sea", "a lease clause"])
    assert rows.shape == (2, 50) and np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    assert not np.allclose(rows, registry.get("glove").encode_texts(["a line of poetry about the sea", "a lease clause"]))


@pytest.mark.browser
def test_browser_runs_default_sweep_and_training(app_url, page):
    from conftest import open_tab

    page.goto(app_url)
    open_tab(page, "Triplet margin")
    page.get_by_label("it never falls").check()
    page.get_by_role("button", name="Run the margin sweep").click()
    page.get_by_text("Reveal").filter(visible=True).first.wait_for(timeout=180_000)
    plots = page.locator(".js-plotly-plot").filter(visible=True)
    plots.nth(1).wait_for()  # the sweep and the distances, drawn by plotly.js
    page.get_by_text("minilm").filter(visible=True).first.wait_for()
    page.get_by_text("Margin sweep (cosine distance").filter(visible=True).first.wait_for()
    page.get_by_role("button", name="Train the projection").click()
    page.get_by_text("Held-out satisfied triplets went from").filter(visible=True).first.wait_for(timeout=120_000)
    plots.nth(2).wait_for()  # and the training figure
    page.get_by_text("satisfied triplets (held-out)").filter(visible=True).first.wait_for()
