"""objectives: the arms share their initial weights, their batches, their optimiser and
schedule, and differ only in the loss; the vocabulary, the objectives, the figures and
the headless run."""
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from plugins.objectives import compute, model
from plugins.objectives.compute import ObjectiveSettings, batch_plan, train_objectives
from plugins.objectives.vocab import CLS, MASK, PAD, SEP, UNK, build_vocabulary, minilm_ids

# Seconds, not minutes: a one-layer 16-wide encoder, a few steps, a small training text.
TINY = ObjectiveSettings(steps=4, more_steps=3, batch_size=4, hidden=16, layers=1, heads=2, max_len=16,
                         vocab_size=300, max_words=20_000, scratch=True, snapshots=0)


@pytest.fixture(scope="module")
def frame():
    return compute.load_labelled()


@pytest.fixture(scope="module")
def tiny_run(frame):
    return train_objectives(TINY, frame)


def final_checksums(result):
    return {key: model.state_checksum(arm.encoder) for key, arm in result.arms.items()}


# ---------------------------------------------------------------------------- the controlled experiment
def test_arms_share_initial_weights_batches_and_schedule(tiny_run):
    arms = tiny_run.arms
    nll, contrastive, scratch = arms["nll"].trace, arms["contrastive"].trace, arms["scratch"].trace
    # one initialisation: the NLL trunk and the from-scratch arm start from the same weights,
    # and both phase-2 arms start from the same phase-1 checkpoint
    assert nll.start_checksums[0] == scratch.start_checksums[0] == contrastive.start_checksums[0]
    assert nll.start_checksums[1] == contrastive.start_checksums[1] != nll.start_checksums[0]
    # the same batch ids at every step, the same learning rate at every step
    steps = TINY.steps + TINY.more_steps
    assert len(nll.batch_ids) == steps
    assert nll.batch_ids == contrastive.batch_ids == scratch.batch_ids
    assert nll.learning_rates == contrastive.learning_rates == scratch.learning_rates
    assert [tuple(row) for row in batch_plan(tiny_run.training_texts, TINY.batch_size, steps, TINY.seed)] == nll.batch_ids
    # and only the objective differs
    assert nll.objectives == ["mlm"] * steps
    assert contrastive.objectives == ["mlm"] * TINY.steps + ["simcse"] * TINY.more_steps
    assert scratch.objectives == ["simcse"] * steps
    sums = final_checksums(tiny_run)
    assert len(set(sums.values())) == 3  # three different losses, three different encoders


def test_with_the_loss_swapped_back_the_arms_end_identical(frame, monkeypatch):
    """The proof that nothing but the loss differs: make SimCSE compute the masked-token
    loss instead, and every arm ends with exactly the NLL arm's weights (same dropout draws,
    same masks, same optimiser state, same schedule)."""
    monkeypatch.setitem(model.OBJECTIVES, "simcse", lambda m, ids, mask, rng, tau: model.masked_token_loss(m, ids, mask, rng))
    sums = final_checksums(train_objectives(TINY, frame))
    assert sums["nll"] == sums["contrastive"] == sums["scratch"]


def test_a_run_is_reproducible_and_the_seed_matters(tiny_run, frame):
    again = train_objectives(TINY, frame)
    assert final_checksums(again) == final_checksums(tiny_run)
    assert again.summary()["final"] == tiny_run.summary()["final"]
    other = train_objectives(replace(TINY, seed=1, scratch=False), frame)
    assert other.arms["nll"].trace.start_checksums[0] != tiny_run.arms["nll"].trace.start_checksums[0]


def test_stop_leaves_every_arm_equally_trained(frame):
    calls = iter(range(100))
    result = train_objectives(TINY, frame, should_stop=lambda: next(calls) >= TINY.steps + 1)
    assert result.stopped and result.steps_done == TINY.steps + 1
    lengths = {key: len(arm.trace.batch_ids) for key, arm in result.arms.items()}
    assert set(lengths.values()) == {TINY.steps + 1}
    assert all(arm.snapshots for arm in result.arms.values())


# ---------------------------------------------------------------------------- pieces
def test_vocabulary_keeps_specials_and_frequent_pieces():
    rows = minilm_ids(["the cat sat on the mat", "the dog"], max_len=8)
    assert all(len(r) <= 8 for r in rows)
    vocab = build_vocabulary(rows, size=8)
    assert vocab.pieces[:5] == ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") and vocab.pieces[5] == "the"
    compact = vocab.encode(["the zebra"], max_len=8)[0]
    assert compact[0] == CLS and compact[-1] == SEP and compact[1] == 5 and UNK in compact
    with pytest.raises(ValueError, match="more than 5"):
        build_vocabulary(rows, size=5)


def test_masks_choose_only_real_pieces_and_at_least_one_per_row():
    ids = torch.tensor([[CLS, 7, 8, 9, SEP, PAD], [CLS, 6, SEP, PAD, PAD, PAD]])
    chosen = model.choose_masks(ids, np.random.default_rng(0), rate=0.01)
    assert chosen.sum(1).tolist() == [1, 1]
    assert not chosen[ids < 5].any()
    corrupted = model.corrupt(ids, torch.ones_like(ids, dtype=torch.bool), np.random.default_rng(0), 20)
    assert (corrupted == MASK).any()


def test_objectives_give_finite_losses_and_simcse_sees_two_dropout_views():
    enc = model.build_encoder(40, 16, 1, 2, 12, causal=False, seed=0).train()
    ids, mask = model.pad_batch([np.array([CLS, 6, 7, 8, SEP]), np.array([CLS, 9, SEP]), np.array([CLS, 10, 11, SEP])])
    for name in ("mlm", "simcse"):
        assert torch.isfinite(model.OBJECTIVES[name](enc, ids, mask, np.random.default_rng(0)))
    causal = model.build_encoder(40, 16, 1, 2, 12, causal=True, seed=0).train()
    assert torch.isfinite(model.next_token_loss(causal, ids, mask))
    a, b = model.mean_pooled(enc, ids, mask), model.mean_pooled(enc, ids, mask)
    assert not torch.allclose(a, b)  # dropout: two views, not one twice


def test_settings_say_what_is_wrong():
    for bad, words in (({"nll": "gpt"}, "NLL objective"), ({"batch_size": 1}, "in-batch negatives"),
                       ({"lr": 0.0}, "learning rate"), ({"more_steps": 0}, "more steps"), ({"hidden": 30, "heads": 4}, "multiple")):
        with pytest.raises(ValueError, match=words):
            replace(TINY, **bad).validate()


def test_summary_holds_every_figure_per_arm_and_snapshot(tiny_run):
    summary = json.loads(json.dumps(tiny_run.summary()))
    assert set(summary["final"]) == {"init", "nll", "contrastive", "scratch"}
    for figures in summary["final"].values():
        assert {"mean_cosine", "separation_auc", "uniformity", "probe_accuracy", "token_accuracy"} <= set(figures)
    assert {s["arm"] for s in summary["snapshots"]} == {"init", "nll", "contrastive", "scratch"}
    assert 0 < summary["baseline_accuracy"] < 1 and summary["token_metric"] == "masked-token accuracy"


# ---------------------------------------------------------------------------- headless
QUICK = ["--steps", "3", "--more-steps", "2", "--batch-size", "4", "--hidden", "16", "--layers", "1",
         "--max-words", "20000", "--vocab-size", "300"]


def write_csv(path, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return str(path)


def test_headless_run_reports_both_arms_on_an_unseen_csv(tmp_path, capsys):
    from playground.web.cli import main

    rows = [(f"The {w} recipe needs flour, sugar and {n} eggs.", "baking") for n, w in enumerate("abcdefgh")]
    rows += [(f"The striker scored {n} goals in the {w} match.", "football") for n, w in enumerate("abcdefgh")]
    rows += [(f"Rain and wind are expected on day {n} over region {w}.", "weather") for n, w in enumerate("abcdefgh")]
    path = write_csv(tmp_path / "unseen.csv", rows)
    assert main(["run", "objectives", *QUICK, "--data", path, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"]["texts"] == 24 and out["data"]["labels"] == ["baking", "football", "weather"]
    for arm in ("init", "nll", "contrastive"):
        figures = out["data"]["figures"][arm]
        assert {"mean_cosine", "separation_auc", "uniformity", "probe_accuracy"} <= set(figures)
        assert -1 <= figures["mean_cosine"] <= 1 and 0 <= figures["separation_auc"] <= 1
    assert out["data"]["figures"]["nll"] != out["data"]["figures"]["contrastive"]
    assert set(out["final"]) == {"init", "nll", "contrastive"} and out["settings"]["steps"] == 3
    assert main(["run", "objectives", *QUICK, "--nll", "causal", "--data", path]) == 0
    text = capsys.readouterr().out
    assert "next-token accuracy" in text and "contrastive" in text and f"on {path} (24 texts, 3 labels)" in text


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "1"], "in-batch negatives"), (["--steps", "0"], "steps"),
    (["--data", "no-such-file.csv"], "No file at"),
])
def test_headless_run_rejects_bad_input(args, message, capsys):
    from playground.web.cli import main

    assert main(["run", "objectives", *QUICK, *args]) == 1
    assert message in capsys.readouterr().err


def test_a_single_label_csv_is_refused_before_training(tmp_path, capsys):
    from playground.web.cli import main

    path = write_csv(tmp_path / "one.csv", [("a text", "only"), ("another text", "only")])
    assert main(["run", "objectives", *QUICK, "--data", path]) == 1
    assert "single label" in capsys.readouterr().err


def test_compute_figures_and_headless_import_no_gradio():
    import subprocess
    import sys

    code = ("import sys, plugins.objectives, plugins.objectives.compute, plugins.objectives.figures, "
            "plugins.objectives.lesson; print('gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- lesson and figures
def fake_figures(init_cos=0.95, nll_cos=0.75, con_cos=0.35, nll_auc=0.79, con_auc=0.70, nll_acc=0.2, base=0.07,
                 nll_uni=-0.9, con_uni=-1.9):
    def arm(cos, auc, uni, acc):
        return {"mean_cosine": cos, "separation_auc": auc, "uniformity": uni, "token_accuracy": acc,
                "inter_mean": cos - 0.02, "intra_mean": cos + 0.05}
    return {"init": arm(init_cos, 0.66, -0.2, 0.0), "nll": arm(nll_cos, nll_auc, nll_uni, nll_acc),
            "contrastive": arm(con_cos, con_auc, con_uni, 0.19), "baseline": base, "metric": "masked-token accuracy"}


@pytest.mark.parametrize("key, holds, fails", [
    ("nll_learns", {}, {"nll_acc": 0.1}),
    ("nll_beats_baseline", {}, {"nll_acc": 0.05}),
    ("init_is_a_cone", {}, {"init_cos": 0.5}),
    ("init_is_a_cone", {}, {"nll_cos": 0.45, "con_cos": 0.3}),
    ("contrastive_spreads", {}, {"con_uni": -0.5}),
    ("contrastive_separates_less", {}, {"con_auc": 0.785}),
])
def test_each_claim_words_what_its_predicate_finds(key, holds, fails):
    from plugins.objectives import lesson

    assert lesson.holds(key, fake_figures(**holds)) and not lesson.holds(key, fake_figures(**fails))
    said_true, said_false = lesson.say(key, fake_figures(**holds)), lesson.say(key, fake_figures(**fails))
    assert "{" not in said_true + said_false and said_true != said_false  # every placeholder filled


def test_every_claim_is_declared_through_the_shared_mechanism():
    from playground.contract.claims import Claims
    from plugins.objectives import lesson

    assert isinstance(lesson.CLAIMS, Claims) and isinstance(lesson.README_CLAIMS, Claims)
    assert not hasattr(lesson, "Claim")  # no private claim class beside the contract's


def test_reveals_answer_from_the_run_and_figures_draw(tiny_run):
    from plugins.objectives import figures, lesson

    inter = tiny_run.arms["nll"].final.geometry.figures["inter_mean"]
    measured = lesson.answer(inter)
    assert measured == (lesson.CHOICES[0] if inter > 0.5 else lesson.CHOICES[1])
    assert "Your prediction was right" in lesson.reveal_nll(tiny_run, measured)
    other = next(c for c in lesson.CHOICES if c != measured)
    assert "Not quite" in lesson.reveal_nll(tiny_run, other)
    assert f"{tiny_run.arms['contrastive'].final.geometry.figures['inter_mean']:.2f}" in lesson.reveal_contrastive(tiny_run, None)
    text = lesson.findings(tiny_run)
    assert all(lesson.say(c.id, lesson.run_figures(tiny_run)) in text for c in lesson.CLAIMS)
    hist = figures.histogram_figure(tiny_run)
    assert len(hist.data) == 2 * len(tiny_run.arms)  # intra and inter per arm, one axis
    assert len(figures.projection_figure(tiny_run).data) == 4 * len(tiny_run.arms)  # 4 domains per arm
    assert figures.training_figure(tiny_run).data


def test_a_notebook_bar_hears_the_run_when_no_progress_is_given(frame):
    """Headless (``pg.run``), the run has no progress callback of its own: it reports to
    whoever ``reporting_progress`` names, as LossLog-based labs do."""
    from playground.science.training import reporting_progress

    heard = []
    with reporting_progress(lambda step, steps, loss: heard.append((step, steps, loss))):
        result = train_objectives(replace(TINY, scratch=False), frame)
    assert heard and heard[-1][0] == heard[-1][1] == TINY.steps + 2 * TINY.more_steps == result.steps_done + TINY.more_steps
    assert all(loss is None for _, _, loss in heard)
