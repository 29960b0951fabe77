"""siglip_compare: softmax against sigmoid scores, the raw logits, the bias threshold,
both losses as the batch grows, the headless run and the served API, with tiny
open_clip CLIP and SigLIP models loaded through the real loader."""
import argparse
import math

import numpy as np
import pytest
import torch

from conftest import launch, registry_of, tiny_models_plugin

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.data.images import bundled_photo, bundled_photos, photo_file
from playground.contract.lab import LabContext
from playground.science.losses import clip_loss, siglip_loss
from playground.models.catalog import DEFAULT_MODELS
from playground.models.registry import ModelRegistry
from plugins.siglip_compare.compute import (
    bias_and_padding_note, compare, logits_table, loss_comparison, losses_as_batch_grows, pairing_note, pick_pair,
    sigmoid_threshold,
)
from plugins.siglip_compare.headless import format_result, run

LABELS = ["cat", "rocket", "flower"]


@pytest.fixture(scope="module")
def registry(tiny_specs):
    return registry_of(*DEFAULT_MODELS, *tiny_specs)


@pytest.fixture(scope="module")
def pair(registry):
    return registry.get("tiny-clip"), registry.get("tiny-siglip")


def test_softmax_sums_to_one_and_sigmoid_scores_stand_alone(pair):
    clip_model, siglip_model = pair
    photos = [bundled_photo(n).image() for n in ("chelsea", "rocket")]
    clip, siglip = compare(clip_model, siglip_model, photos, LABELS)
    assert clip.probabilities.shape == siglip.probabilities.shape == (2, 3)
    np.testing.assert_allclose(clip.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.abs(siglip.probabilities.sum(axis=1) - 1) > 0.5)
    np.testing.assert_allclose(siglip.probabilities, 1 / (1 + np.exp(-siglip.logits.astype(np.float64))), rtol=1e-5)
    # one more label: CLIP's other scores fall, SigLIP's stay exactly where they were
    clip4, siglip4 = compare(clip_model, siglip_model, photos, LABELS + ["galaxies"])
    assert np.all(clip4.probabilities[:, :3] < clip.probabilities)
    np.testing.assert_allclose(siglip4.probabilities[:, :3], siglip.probabilities, rtol=1e-5)


def test_logits_table_is_scale_times_cosine_plus_bias(pair):
    clip, siglip = compare(*pair, [bundled_photo("coffee").image()], LABELS)
    table = logits_table([clip, siglip])
    assert len(table) == 2 * len(LABELS) and set(table["scoring"]) == {"softmax", "sigmoid"}
    for row in table.itertuples():
        bias = 0.0 if row.bias is None or (isinstance(row.bias, float) and math.isnan(row.bias)) else row.bias
        assert row.logit == pytest.approx(row.scale * row.cosine + bias, rel=2e-3, abs=2e-3)
    sig = table[table.scoring == "sigmoid"]
    np.testing.assert_allclose(sig.probability, 1 / (1 + np.exp(-sig.logit.to_numpy())), rtol=5e-3)
    assert (sig.probability > 0).all()  # tiny sigmoid scores keep their digits, not rounded to 0


def test_sigmoid_threshold_and_the_note(pair):
    t, b = 117.3, -12.9
    threshold = sigmoid_threshold(t, b)
    assert 1 / (1 + math.exp(-(t * threshold + b))) == pytest.approx(0.5)
    assert sigmoid_threshold(100.0, None) is None
    _, siglip = compare(*pair, [bundled_photo("coffee").image()], LABELS)
    note = bias_and_padding_note(siglip, context_length=16)
    assert "t = 10.000, b = -10.000" in note and "cos > −b/t = 1.000" in note and "no label can pass it" in note
    assert "16 tokens" in note and 'padding="max_length"' in note
    assert "Run a comparison" in bias_and_padding_note()
    assert "started training" not in note  # a checkpoint does not say where its bias started


def test_the_note_says_how_far_a_trained_models_bias_moved(pair):
    """A model trained in this app knows where its bias started: the note gives the move (the
    toy SigLIP's bias barely moves from -10 in 1,000 steps; the note says so in figures)."""
    _, siglip = compare(*pair, [bundled_photo("coffee").image()], LABELS)
    for start, end, said in ((-10.0, -9.992, "+0.008"), (-10.0, -7.5, "+2.500"), (-2.0, -3.25, "-1.250")):
        siglip.logit_bias, siglip.logit_bias_start = end, start
        note = bias_and_padding_note(siglip)
        assert f"It started training at b = {start:.3f}: its bias has moved by {said} since." in note


def orthogonal_pairs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and texts whose cosines are all 0: a model that cannot tell pairs apart."""
    eye = torch.eye(2 * n)
    return eye[:n], eye[n:]


def test_losses_as_batch_grows_match_the_shared_losses(pair):
    clip_model, siglip_model = pair
    photos = bundled_photos()[:6]
    for model in pair:
        images = model.encode_images([p.image() for p in photos])
        texts = model.encode_texts([p.caption for p in photos])
        out = losses_as_batch_grows(model, images, texts, [2, 4, 6])
        assert out.sizes == [2, 4, 6] and all(0 <= a <= 1 for a in out.accuracy)
        for n, loss, chance in zip(out.sizes, out.loss, out.chance):
            i, t = torch.from_numpy(images[:n]), torch.from_numpy(texts[:n])
            zi, zt = orthogonal_pairs(n)
            if model is clip_model:
                assert out.loss_name == "CLIP loss"
                assert loss == pytest.approx(float(clip_loss(i, t, model.logit_scale)), rel=1e-5)
                assert chance == pytest.approx(math.log(n))
                assert chance == pytest.approx(float(clip_loss(zi, zt, model.logit_scale)), rel=1e-5)
            else:
                assert out.loss_name == "SigLIP loss"
                expected = float(siglip_loss(i, t, model.logit_scale, model.logit_bias))
                assert loss == pytest.approx(expected, rel=1e-5)
                at_chance = float(siglip_loss(zi, zt, model.logit_scale, model.logit_bias))
                assert chance == pytest.approx(at_chance, rel=1e-5)


def test_loss_comparison_runs_over_every_bundled_pair(pair):
    clip, siglip = loss_comparison(*pair)
    n = len(bundled_photos())
    assert clip.sizes == siglip.sizes == list(range(2, n + 1))
    assert clip.chance[-1] == pytest.approx(math.log(n))
    rows = clip.rows() + siglip.rows()
    assert len(rows) == 2 * (n - 1) and {r["loss_name"] for r in rows} == {"CLIP loss", "SigLIP loss"}


def test_model_pair_and_notes(registry, pair):
    left, right, note = pick_pair(registry)
    assert (left, right) == ("tiny-clip", "tiny-siglip")
    assert "clip-vit-b-32" in note and "siglip-vit-b-16" in note and "PLAYGROUND_HUB=1" in note
    assert "Both models score with a **softmax**" in pairing_note(registry, "tiny-clip", "tiny-clip")
    assert "Both models" not in pairing_note(registry, "tiny-clip", "tiny-siglip")
    bare = registry_of(*DEFAULT_MODELS)
    left, right, note = pick_pair(bare)
    assert left is right is None and note.count("No image-text model can be loaded here") == 1


def test_headless_run(registry):
    args = argparse.Namespace(
        image=photo_file("rocket"), labels="cat, rocket", clip_model="tiny-clip", siglip_model="tiny-siglip",
        template="ensemble", no_losses=False,
    )
    out = run(args, LabContext(registry=registry, lab_id="siglip_compare"))
    assert out["clip"]["sum"] == pytest.approx(1.0, abs=1e-5) and abs(out["siglip"]["sum"] - 1) > 0.5
    assert out["siglip_threshold_cosine"] == pytest.approx(1.0, abs=1e-4)
    assert len(out["losses"]) == 2 * (len(bundled_photos()) - 1)
    text = format_result(out)
    assert "tiny-clip (softmax" in text and "tiny-siglip (sigmoid" in text and "SigLIP loss" in text


# -- served -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(tiny_specs):
    from gradio_client import Client

    pm = create_plugin_manager(
        builtins=("playground.contract.default_models", "plugins.clip_zero_shot", "plugins.siglip_compare"),
        entry_points=False, extra=[tiny_models_plugin(tiny_specs)],
    )
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    url = launch(demo)
    yield Client(url, verbose=False)
    demo.close()


def test_api_compares_both_models(client):
    from gradio_client import handle_file

    left, right = client.predict(handle_file(photo_file("flower")), "flower, cat", api_name="/siglip_compare")
    left_sum = sum(c["confidence"] for c in left["confidences"])
    right_sum = sum(c["confidence"] for c in right["confidences"])
    assert left_sum == pytest.approx(1.0, abs=1e-4) and abs(right_sum - 1) > 0.5
    assert {c["label"] for c in right["confidences"]} == {"flower", "cat"}


def test_api_losses_and_bad_input(client):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    figure, reveal, table = client.predict("tiny-clip", "tiny-siglip", None, api_name="/siglip_compare_losses")
    assert figure["type"] == "plotly" and "CLIP loss went from" in reveal
    assert len(table["data"]) == 2 * (len(bundled_photos()) - 1)
    with pytest.raises(AppError, match="Duplicate label"):
        client.predict(handle_file(photo_file("flower")), "cat, CAT", api_name="/siglip_compare")
    with pytest.raises(AppError, match="No labels"):
        client.predict(handle_file(photo_file("flower")), "", api_name="/siglip_compare")


def test_the_loss_question_is_answered_from_the_clip_loss_with_a_band():
    from plugins.siglip_compare.compute import LOSS_CHOICES, BatchLosses, loss_outcome, reveal_losses

    def clip(first, last):
        return BatchLosses("c", "softmax", "CLIP loss", [2, 13], [first, last], [0.693, 2.565], [1.0, 1.0])

    siglip = BatchLosses("s", "sigmoid", "SigLIP loss", [2, 13], [0.1, 0.1], [0.7, 0.7], [1.0, 1.0])
    assert [loss_outcome(clip(*pair)) for pair in [(0.2, 0.8), (0.010, 0.011), (0.010, 0.008), (0.9, 0.3)]] == [0, 1, 1, 2]
    assert "Your prediction was right" in reveal_losses(clip(0.010, 0.008), siglip, LOSS_CHOICES[1])
    wrong = reveal_losses(clip(0.010, 0.008), siglip, LOSS_CHOICES[2])  # a drop of 0.002 is not a fall
    assert "Not quite" in wrong and "this run says *it stays level" in wrong


def test_models_trained_in_the_train_clip_tab_work_on_both_sides():
    """The session-model contract: what train_clip registers scores here like any model."""
    train = pytest.importorskip("plugins.train_clip.compute")
    from playground.science.zero_shot import vit_view

    registry = ModelRegistry(device="cpu")
    for spec in DEFAULT_MODELS:  # the real models are unavailable here: only the session's own remain
        registry.register(spec)
    for loss, tower in (("softmax", "vit"), ("sigmoid", "cnn")):
        settings = train.TrainSettings(
            loss=loss, image_tower=tower, text_tower="bow", steps=3, batch_size=8, n_images=60, n_captions=30,
            eval_per_combo=1, snapshots=0, threads=1,
        )
        model_id = f"mine-{loss}"
        registry.add_session_model("s", model_id, train.as_image_text_model(train.train_clip(settings), model_id))
    left, right, note = pick_pair(registry, session="s")
    assert (left, right) == ("mine-softmax", "mine-sigmoid") and "trained in this session" in note
    clip_model, siglip_model = registry.get(left, session="s"), registry.get(right, session="s")
    clip, siglip = compare(clip_model, siglip_model, [bundled_photo("coffee").image()], LABELS)
    np.testing.assert_allclose(clip.probabilities.sum(), 1.0, atol=1e-5)
    assert siglip.scoring == "sigmoid" and siglip.logit_bias is not None
    assert vit_view(clip_model, bundled_photo("coffee").image()).grid > 0
    assert vit_view(siglip_model, bundled_photo("coffee").image()).grid == 0  # a CNN tower: no patches
    clip_losses, siglip_losses = loss_comparison(clip_model, siglip_model)
    assert clip_losses.loss_name == "CLIP loss" and siglip_losses.loss_name == "SigLIP loss"


# ---------------------------------------------------------------- claims as data (issue 25)
def test_the_loss_reveal_says_when_a_model_is_worse_than_chance():
    from plugins.siglip_compare.compute import BatchLosses, reveal_losses

    # the toy CLIP on the real photos: 2.05 → 8.71 against log 2 → log 13
    toy = BatchLosses("my-clip", "softmax", "CLIP loss", [2, 13], [2.05, 8.71], [math.log(2), math.log(13)], [0.5, 0.1])
    good = BatchLosses("s", "sigmoid", "SigLIP loss", [2, 13], [0.1, 0.3], [20.0, 20.1], [1.0, 1.0])
    text = reveal_losses(toy, good, None)
    assert "**my-clip** is **worse than chance here**: at N=13 its CLIP loss is 8.710, 3.4× the 2.565 (log 13)" in text
    assert "**s** beats chance here: at N=13 its SigLIP loss is 0.300 against 9.011 (log 2 per pair" in text
    assert "tens of thousands" not in text and "log N rises with N by definition" in text


def test_every_loss_claim_says_what_its_run_shows(pair):
    """The against-chance claim for both tiny models on four sets of the bundled photos."""
    from playground.contract.claims import Evidence, audit
    from plugins.siglip_compare import claims
    from plugins.siglip_compare.compute import reveal_losses

    photos = bundled_photos()
    sets = {"all photos": photos, "first 5": photos[:5], "first 8": photos[:8], "reversed": photos[::-1]}
    evidence = []
    for name, chosen in sets.items():
        clip, siglip = loss_comparison(*pair, chosen)
        text = reveal_losses(clip, siglip, None)
        evidence += [Evidence(f"{name}, {losses.model_id}", text,
                              {"loss.against_chance": claims.chance_figures(losses)}) for losses in (clip, siglip)]
    assert audit(claims.CLAIMS, evidence) == []
