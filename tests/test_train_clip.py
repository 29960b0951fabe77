"""train_clip: the data generator, training with both losses, the trained model as an
image-text model in the registry, the batch-size comparison, and the headless run."""
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

import playground.science.losses
from playground import create_plugin_manager, create_registry
from playground.models.base import ImageTextModel
from plugins.train_clip import compute, lesson
from plugins.train_clip.compute import TrainSettings, as_image_text_model, compare_batch_sizes, train_clip
from playground.data.shapes import (
    COLOURS, HELD_OUT, SHAPE_WORDS, SHAPES, UNSEEN_COLOUR_WORDS, all_combos, class_prompts, make_split,
)

# A setting CI affords (about a minute per loss on a shared 2-core CPU): the default towers
# (CNN + frozen MiniLM), half the steps, a smaller training set and fewer test images.
CI = TrainSettings(steps=500, n_images=2000, n_captions=400, eval_per_combo=10, snapshots=3)


@pytest.fixture(scope="module")
def registry():
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False)
    return create_registry(pm, device="cpu")


@pytest.fixture(scope="module")
def embed(registry):
    return lambda texts: registry.get("minilm").encode_texts(texts)


@pytest.fixture(scope="module")
def trained(embed):
    """Both losses trained once with the CI setting and a fixed seed."""
    return {loss: train_clip(TrainSettings(**{**CI.__dict__, "loss": loss}), embed) for loss in ("softmax", "sigmoid")}


# ---------------------------------------------------------------------------- data
def test_generator_is_deterministic_by_seed():
    a, b = make_split("train", 64, seed=3, n_captions=20), make_split("train", 64, seed=3, n_captions=20)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions and a.attributes == b.attributes
    c = make_split("train", 64, seed=4, n_captions=20)
    assert not np.array_equal(a.images, c.images) and a.captions != c.captions
    for split in ("seen", "heldout", "display"):
        assert np.array_equal(make_split(split, 12, seed=5).images, make_split(split, 12, seed=5).images)


def test_held_out_pairs_never_reach_training_and_captions_fit_their_images():
    train = make_split("train", 1500, seed=0, n_captions=300)
    assert not {a.combo for a in train.attributes} & set(HELD_OUT)
    assert len({a.combo for a in train.attributes}) == len(all_combos()) - len(HELD_OUT)
    for text, attrs in zip(train.captions, train.attributes):
        assert attrs.colour in text.split() or f"{attrs.colour}," in text
        assert any(word in text for word in SHAPE_WORDS[attrs.shape])
    words = {w for text in train.captions for w in text.replace(",", " ").replace(":", " ").split()}
    assert not words & set(UNSEEN_COLOUR_WORDS.values())
    held = make_split("heldout", 60, seed=0)
    assert {a.combo for a in held.attributes} == set(HELD_OUT)


def test_images_show_the_colour_the_caption_names():
    data = make_split("seen", 60, seed=1)
    for image, attrs in zip(data.images, data.attributes):
        pixels = image.reshape(-1, 3).astype(float)
        target = np.array(COLOURS[attrs.colour], dtype=float)
        assert np.min(np.linalg.norm(pixels - target, axis=1)) < 45  # the shape's own colour is there
    assert data.images.shape == (60, 32, 32, 3) and data.images.dtype == np.uint8


def test_class_prompts_cover_every_pair_in_order():
    prompts = class_prompts()
    assert len(prompts) == len(COLOURS) * len(SHAPES) == 36
    assert prompts[0] == "a red circle" and "an orange star" in prompts
    assert class_prompts(UNSEEN_COLOUR_WORDS)[0] == "a crimson circle"


# ---------------------------------------------------------------------------- settings
@pytest.mark.parametrize("change, message", [
    ({"loss": "hinge"}, "softmax"), ({"batch_size": 1}, "batch size"), ({"batch_size": 500, "n_captions": 400}, "captions"),
    ({"lr": 0.0}, "learning rate"), ({"steps": 0}, "steps"), ({"image_tower": "resnet"}, "image tower"),
    ({"text_tower": "bert"}, "text tower"), ({"seed": -1}, "seed"),
])
def test_bad_settings_say_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings(**change).validate()


def test_training_uses_the_shared_losses():
    assert compute.clip_loss is playground.science.losses.clip_loss
    assert compute.siglip_loss is playground.science.losses.siglip_loss


# ---------------------------------------------------------------------------- training
@pytest.mark.parametrize("loss", ["softmax", "sigmoid"])
def test_heldout_zero_shot_is_far_above_chance(trained, loss):
    result = trained[loss]
    assert result.chance == pytest.approx(1 / 36)
    assert result.heldout_accuracy >= 3 * result.chance, result.summary()
    assert result.heldout_colour_accuracy >= 0.8  # "blue" learned from other pairs carries over
    assert result.seen_accuracy >= 3 * result.chance
    assert result.final_loss < result.losses[0]  # it learned something
    assert (result.logit_bias is None) == (loss == "softmax")


def test_similarity_snapshots_turn_diagonal(trained):
    from plugins.train_clip.figures import diagonal_hits

    result = trained["softmax"]
    assert result.snapshot_steps == [0, CI.steps // 2, CI.steps]
    first, last = result.snapshots[0], result.snapshots[-1]
    assert last.shape == (CI.display_size, CI.display_size)
    assert np.trace(last) / len(last) > np.trace(first) / len(first)
    assert diagonal_hits(last) > diagonal_hits(first)


def test_same_seed_same_model(embed):
    small = TrainSettings(steps=15, n_images=200, n_captions=60, eval_per_combo=2, snapshots=0, batch_size=16,
                          text_tower="bow")
    a, b = train_clip(small), train_clip(small)
    assert a.losses == b.losses and a.heldout_accuracy == b.heldout_accuracy
    c = train_clip(TrainSettings(**{**small.__dict__, "seed": 1}))
    assert c.losses != a.losses


def test_progress_reports_the_running_loss():
    calls = []
    train_clip(TrainSettings(steps=12, n_images=200, n_captions=60, eval_per_combo=1, snapshots=0, batch_size=8,
                             text_tower="bow"), progress=lambda s, n, loss: calls.append((s, n, loss)))
    assert calls[-1][:2] == (12, 12) and all(np.isfinite(c[2]) for c in calls)


# ---------------------------------------------------------------------------- as a registry model
@pytest.mark.parametrize("loss", ["softmax", "sigmoid"])
def test_trained_model_is_an_image_text_model(trained, registry, loss):
    result = trained[loss]
    model = as_image_text_model(result, f"my-{loss}")
    assert isinstance(model, ImageTextModel) and model.kind == "image-text"
    assert model.scoring == loss and model.image_size == 32 and model.patch_size is None
    assert (model.logit_bias is None) == (loss == "softmax")
    registry.add_session_model("session-a", f"my-{loss}", model)
    assert f"my-{loss}" in registry.model_ids(kind="image-text", session="session-a")
    from playground.science.zero_shot import describe_model  # the picker's note warns before a photo is tried
    assert "only ever seen one coloured shape" in describe_model(registry, f"my-{loss}", "session-a")
    got = registry.get(f"my-{loss}", session="session-a")
    held = make_split("heldout", 12, seed=9)
    images = [held.pil(i) for i in range(len(held))]
    img = got.encode_images(images)
    txt = got.encode_texts(class_prompts())
    assert img.shape == (12, got.dim) and txt.shape == (36, got.dim)
    assert np.allclose(np.linalg.norm(img, axis=1), 1, atol=1e-5)
    probs = got.probabilities(img, txt)
    if loss == "softmax":
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert np.all((probs >= 0) & (probs <= 1))
    # the registered model scores exactly as the lab measured it
    direct = compute.zero_shot_predictions(result.encoder, held.images, class_prompts())
    assert np.array_equal(probs.argmax(axis=1), direct)
    view = got.preprocess_view(images[0].resize((200, 120)))
    assert view.shape == (32, 32, 3) and view.dtype == np.uint8
    registry.drop_session("session-a")


# ---------------------------------------------------------------------------- comparison and reveals
def test_compare_trains_both_losses_on_the_same_examples():
    base = TrainSettings(n_images=200, n_captions=60, eval_per_combo=1, text_tower="bow", batch_size=16)
    done = []
    result = compare_batch_sizes(base, [4, 16], examples=64, progress=lambda d, n, acc: done.append((d, n)))
    assert [(r.loss, r.batch_size, r.steps) for r in result.rows] == [
        ("softmax", 4, 16), ("softmax", 16, 4), ("sigmoid", 4, 16), ("sigmoid", 16, 4)]
    assert {r.examples_seen for r in result.rows} == {64}
    assert done[-1] == (4, 4)
    assert set(json.loads(json.dumps(result.summary()))) == {"chance", "examples_per_run", "runs"}
    with pytest.raises(ValueError, match="batch size"):
        compare_batch_sizes(base, [], examples=64)


def _fake_compare(acc: dict):
    rows = [compute.CompareRow(loss, b, 10, 10 * b, a, a, 1.0, 1.0) for (loss, b), a in acc.items()]
    return compute.CompareResult(rows=rows, chance=1 / 36, examples=1024)


def test_reveals_follow_the_measured_figures():
    chance = 1 / 36
    r = SimpleNamespace(heldout_accuracy=0.02, seen_accuracy=0.8, chance=chance)
    assert lesson.heldout_outcome(r) == 0
    r.heldout_accuracy = 0.5
    assert lesson.heldout_outcome(r) == 1
    r.heldout_accuracy = 0.79
    assert lesson.heldout_outcome(r) == 2
    sigmoid_wins = _fake_compare({("softmax", 8): 0.2, ("softmax", 128): 0.6, ("sigmoid", 8): 0.5, ("sigmoid", 128): 0.6})
    assert lesson.batch_outcome(sigmoid_wins) == 1
    text = lesson.reveal_batch(lesson.BATCH_CHOICES[1], sigmoid_wins)
    assert "Your prediction was right" in text and "20%" in text and "50%" in text
    softmax_wins = _fake_compare({("softmax", 8): 0.5, ("sigmoid", 8): 0.3})
    assert lesson.batch_outcome(softmax_wins) == 0
    equal = _fake_compare({("softmax", 8): 0.5, ("sigmoid", 8): 0.51})
    assert lesson.batch_outcome(equal) == 2


def test_batch_reveal_states_the_regime_and_the_seeds_spread():
    seeds = [_fake_compare({("softmax", 8): s8, ("softmax", 128): 0.7, ("sigmoid", 8): g8, ("sigmoid", 128): 0.6})
             for s8, g8 in ((0.24, 0.22), (0.20, 0.26), (0.22, 0.21))]
    text = lesson.reveal_batch(None, seeds)
    assert "3 seeds (mean ± sample standard deviation)" in text
    assert "**22% ± 2%** (range 20%–24%)" in text  # softmax at batch 8
    assert "Regime tested: batches 8 to 128, 1024 examples per run" in text
    assert "512 to 16k" in text and "does not test, let alone refute" in text
    assert "refuted" not in text and "did not reproduce" not in text
    gaps = [-0.02, 0.06, -0.01]
    assert f"{sum(gaps) / 3:+.1%} ± " in text
    assert lesson.batch_outcome(seeds) == 2  # mean gap +1 point, inside its own spread: about equal
    one = lesson.reveal_batch(None, seeds[0])
    assert "one seed:" in one and "Regime tested: batches 8 to 128" in one


def test_compare_lesson_text_says_what_the_paper_claims_and_what_is_tested():
    assert "smaller than 16k" in lesson.COMPARE_INTRO and "512 to 16k" in lesson.COMPARE_INTRO
    assert "neither" in lesson.COMPARE_INTRO and "confirms nor refutes" in lesson.COMPARE_INTRO
    assert "log(1/7) ≈ -1.95" in lesson.COMPARE_INTRO  # the log-odds of 1 in 8, not log(1/8) = -2.08
    assert math.log(1 / 7) == pytest.approx(-1.95, abs=0.005) and math.log(1 / 8) == pytest.approx(-2.08, abs=0.005)
    assert "neighbouring *patches*" in lesson.INTRO and "no built-in notion that neighbouring pixels" not in lesson.INTRO


def test_reveal_of_a_real_run_quotes_its_figures(trained):
    result = trained["softmax"]
    text = lesson.reveal_heldout(lesson.HELDOUT_CHOICES[1], result)
    assert f"{result.heldout_accuracy:.0%}" in text and f"{result.seen_accuracy:.0%}" in text


# ---------------------------------------------------------------------------- headless
def test_headless_run_prints_the_figures(capsys):
    from playground.web.cli import main

    code = main(["run", "train_clip", "--steps", "10", "--batch-size", "16", "--text-tower", "bow",
                 "--loss", "sigmoid", "--seed", "2", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert {"heldout_accuracy", "seen_accuracy", "chance", "final_loss", "seconds"} <= set(out)
    assert out["chance"] == pytest.approx(1 / 36, abs=1e-4) and out["settings"]["loss"] == "sigmoid"
    assert out["settings"]["steps"] == 10 and out["logit_bias"] is not None
    assert main(["run", "train_clip", "--steps", "10", "--batch-size", "16", "--text-tower", "bow", "--seed", "2"]) == 0
    text = capsys.readouterr().out
    assert "heldout_accuracy:" in text and "chance:           0.0278" in text and "softmax loss" in text


def test_headless_run_rejects_bad_input(capsys):
    from playground.web.cli import main

    assert main(["run", "train_clip", "--batch-size", "1", "--steps", "5"]) == 1
    assert "batch size" in capsys.readouterr().err


def test_headless_compare_over_seeds_reports_mean_and_spread(capsys):
    from playground.web.cli import main

    code = main(["run", "train_clip", "--compare", "--seeds", "2", "--batch-sizes", "4,8", "--examples", "16",
                 "--text-tower", "bow", "--seed", "3", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seeds"] == [3, 4] and len(out["runs"]) == 8
    for row in out["spread"]:
        acc = [r["heldout_accuracy"] for r in out["runs"] if (r["loss"], r["batch_size"]) == (row["loss"], row["batch_size"])]
        assert row["mean"] == pytest.approx(sum(acc) / 2, abs=1e-4)
        assert row["sd"] == pytest.approx(abs(acc[0] - acc[1]) / 2**0.5, abs=1e-4)
        assert (row["min"], row["max"]) == (pytest.approx(min(acc), abs=1e-4), pytest.approx(max(acc), abs=1e-4))


# ---------------------------------------------------------------------------- claims as data (issue 25)
def test_the_summary_says_how_far_the_siglip_bias_moved():
    """The learned bias is shown with how far it moved from its start, worded from the run:
    on three seeds and a start far from the paper's (-2), short runs."""
    from playground.contract.claims import Evidence, audit
    from plugins.train_clip import claims
    from plugins.train_clip.ui import summary_markdown

    evidence = []
    for seed, bias_init in ((0, -10.0), (1, -10.0), (2, -10.0), (0, -2.0)):
        run = train_clip(TrainSettings(loss="sigmoid", steps=15, n_images=200, n_captions=60, eval_per_combo=1,
                                       snapshots=0, batch_size=16, text_tower="bow", seed=seed, bias_init=bias_init))
        evidence.append(Evidence(f"seed {seed}, bias from {bias_init:g}", summary_markdown(run, "my-siglip"),
                                 {"bias.moved": claims.bias_figures(run)}))
    assert audit(claims.CLAIMS, evidence) == []
    assert "it barely moved from its start, -10" in evidence[0].text  # the finding, on a short run
    from plugins.train_clip.compute import as_image_text_model

    trained = as_image_text_model(run, "my-siglip")  # the last run: bias from -2
    assert trained.initial_logit_bias == -2.0 and trained.logit_bias != trained.initial_logit_bias  # for the SigLIP tab's note
