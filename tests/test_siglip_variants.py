"""siglip_variants: the batch split over k simulated devices (what each device holds and
receives, the predict-then-reveal), the headless run and the served API."""
import argparse
import json

import numpy as np
import pytest
import torch

from conftest import launch

from playground import create_plugin_manager, create_registry
from playground.contract.lab import LabContext
from playground.web.app import build_app
from plugins.siglip_variants import scaling
from plugins.siglip_variants.headless import format_result, run


@pytest.fixture(scope="module")
def costs():
    return scaling.device_costs()


def test_per_device_figures_follow_the_shapes_each_loss_builds(costs):
    f32 = 4
    for c in costs:
        rows = c.batch // c.devices
        if c.loss.startswith("sigmoid"):
            assert c.largest_logits == (rows, rows)
            assert c.peak_bytes == f32 * (2 * rows * c.dim + rows * rows)
            assert c.received_bytes == f32 * (c.devices - 1) * rows * c.dim
        else:
            assert c.largest_logits == (rows, c.batch)
            assert c.peak_bytes == f32 * (2 * rows * c.dim + 2 * c.batch * c.dim + 2 * rows * c.batch)
            assert c.received_bytes == f32 * 2 * (c.devices - 1) * rows * c.dim


@pytest.mark.parametrize("dim,batches", [(768, (1024, 4096, 16384)), (64, (256, 512)), (1152, (2048, 8192))])
def test_the_claims_the_reveal_states_hold_at_several_settings(dim, batches):
    costs = scaling.device_costs(batches, (1, 2, 4, 8), dim)
    assert scaling.sigmoid_needs_less_whenever_split(costs)
    assert scaling.softmax_never_below_the_gather(costs)
    assert scaling.sigmoid_falls_with_devices(costs)


def test_the_claim_predicates_can_fail():
    c = scaling.DeviceCost
    rising = [c("sigmoid (ring)", 64, 1, 8, 10, 0, (64, 64)), c("sigmoid (ring)", 64, 2, 8, 20, 0, (32, 32)),
              c("softmax (all-gather)", 64, 1, 8, 10, 0, (64, 64)), c("softmax (all-gather)", 64, 2, 8, 10, 0, (32, 64))]
    assert not scaling.sigmoid_falls_with_devices(rising)
    assert not scaling.sigmoid_needs_less_whenever_split(rising)
    assert not scaling.softmax_never_below_the_gather(rising)


def test_the_reveal_is_judged_from_the_measured_ratio(costs):
    ratio = scaling.memory_ratio(costs, scaling.QUESTION_BATCH, scaling.QUESTION_DEVICES)
    expected = "same" if ratio >= 0.9 else "less" if ratio > 0.25 else "quarter"
    assert scaling.answer(costs) == expected
    right = scaling.reveal(costs, scaling.CHOICES[expected])
    wrong = scaling.reveal(costs, scaling.CHOICES["same" if expected != "same" else "less"])
    assert "Your prediction was right" in right and "Not quite" in wrong
    at = [c for c in costs if c.batch == scaling.QUESTION_BATCH and c.devices == scaling.QUESTION_DEVICES]
    for c in at:
        assert f"{c.peak_bytes / scaling.MB:.1f} MB" in right


def test_headless_json_reports_agreement_and_memory_per_device():
    parser = argparse.ArgumentParser()
    from plugins.siglip_variants.headless import add_arguments

    add_arguments(parser)
    args = parser.parse_args(["--part", "scaling", "--batches", "256,1024", "--devices", "1,4"])
    result = run(args, LabContext(registry=None, lab_id="siglip_variants"))
    json.dumps(result)
    s = result["scaling"]
    assert s["agreement"]["within_1e-5"] and s["agreement"]["max_abs_difference"] <= 1e-5
    assert s["agreement"]["softmax_all_gather_max_abs_difference"] <= 1e-5
    assert {(r["loss"], r["batch"], r["devices"]) for r in s["per_device"]} == {
        (loss, b, k) for loss in scaling.LOSSES for b in (256, 1024) for k in (1, 4)
    }
    assert "peak MB" in format_result(result)


def test_headless_refuses_a_batch_that_does_not_split():
    parser = argparse.ArgumentParser()
    from plugins.siglip_variants.headless import add_arguments

    add_arguments(parser)
    with pytest.raises(ValueError, match="does not split evenly"):
        run(parser.parse_args(["--part", "scaling", "--batches", "100", "--devices", "3"]), LabContext(registry=None))
    with pytest.raises(ValueError, match="whole numbers"):
        run(parser.parse_args(["--part", "scaling", "--batches", "a,b"]), LabContext(registry=None))


def test_api_answers_the_scaling_part():
    from gradio_client import Client

    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.siglip_variants"),
                               entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    try:
        client = Client(launch(demo), verbose=False)
        figure, revealed, table, check = client.predict(scaling.CHOICES["same"], api_name="/siglip_variants_scaling")
        assert figure["type"] == "plotly" and "MB for the sigmoid loss" in revealed
        assert ("Not quite" in revealed) == (scaling.answer(scaling.device_costs()) != "same")
        assert len(table["data"]) == 2 * len(scaling.BATCHES) * len(scaling.DEVICES)
        assert "largest difference" in check
    finally:
        demo.close()


# -- multilingual toy ---------------------------------------------------------------------
from plugins.siglip_variants import languages, multilingual, resolution  # noqa: E402
from plugins.siglip_variants.tokenizers_toy import UNK, pieces  # noqa: E402


def test_every_language_names_every_colour_shape_pair_differently():
    for lang in languages.LANGUAGES:
        labels = multilingual.label_texts(lang)
        assert len(set(labels)) == 36, lang
        for t in range(len(languages.TEMPLATES[lang])):
            assert labels[0] in languages.caption(lang, "red", "circle", t)


def test_the_english_wordpiece_loses_kanji_and_the_character_tokenizer_covers_every_script():
    assert UNK in pieces("wordpiece", languages.noun_phrase("ja", "red", "circle"))
    for lang in languages.LANGUAGES:
        assert all(UNK not in pieces("characters", t) for t in multilingual.label_texts(lang)), lang
        assert multilingual.accuracy_ceiling("characters", lang) == 1.0
    assert UNK not in pieces("wordpiece", languages.noun_phrase("en", "red", "circle"))
    # the kanji that become [UNK] make some Japanese labels identical piece for piece
    assert multilingual.indistinguishable_labels("wordpiece", "ja") > 0
    assert multilingual.accuracy_ceiling("wordpiece", "ja") < 1.0
    cuts = [tuple(pieces("wordpiece", t)) for t in multilingual.label_texts("ja")]
    assert multilingual.accuracy_ceiling("wordpiece", "ja") == len(set(cuts)) / 36


def test_bad_toy_settings_are_refused():
    with pytest.raises(ValueError, match="steps must be"):
        multilingual.train_and_score(multilingual.ToySettings(steps=1))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_english_only_captions_do_not_teach_other_scripts(seed):
    runs = multilingual.train_and_score(multilingual.ToySettings(seed=seed))
    for lang in ("ja", "ar"):
        assert multilingual.english_only_does_not_transfer_to(runs, lang), (lang, runs)
    for scored in runs:  # the ceiling set by the pieces is never beaten
        for lang in languages.LANGUAGES:
            assert scored.accuracy[lang] <= multilingual.accuracy_ceiling(scored.tokenizer, lang) + 1e-9
    english = [r for r in runs if r.captions == "english"]
    assert all(r.accuracy["en"] > 0.5 for r in english), english
    assert "far worse than after mixed captions" in multilingual.reveal_multilingual(runs)


# -- resolution ---------------------------------------------------------------------------
def test_the_live_byte_counter_sees_what_a_forward_pass_holds():
    counter = resolution.LiveTensorBytes()
    with counter.mode():
        a = torch.ones(1000)  # 4,000 bytes
        b = a * 2  # 4,000 more while both live
        del a, b
    assert counter.peak == 8000 and counter.live == 0


def test_more_pixels_more_tokens_and_more_activation_memory():
    small = resolution.tower_cost("siglip-vit-b-16", depth=1)
    large = resolution.tower_cost("siglip-vit-b-16-512", depth=1)
    assert (small.tokens, large.tokens) == (196, 1024) and (small.grid, large.grid) == (14, 32)
    assert large.peak_activation_mb > small.peak_activation_mb
    summary = resolution.summary([small, large], depth=1)
    assert summary["published_source"].startswith("open_clip") and summary["note"]
    assert summary["towers"][1]["published"]["imagenet_zero_shot"] == resolution.PUBLISHED["ViT-B-16-SigLIP-512"]["imagenet_zero_shot"]
    with pytest.raises(ValueError, match="unknown resolution id"):
        resolution.tower_cost("siglip-vit-b-16-999")


def test_the_real_part_says_why_a_model_is_missing(empty_hub_cache):
    from conftest import registry_of
    from playground.models.catalog import DEFAULT_MODELS
    from plugins.siglip_variants.headless import add_arguments
    from plugins.siglip_variants.real_models import MODEL_IDS

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    result = run(parser.parse_args(["--part", "real"]), LabContext(registry=registry_of(*DEFAULT_MODELS)))
    assert [row["model"] for row in result["real"]] == list(MODEL_IDS)
    assert all("PLAYGROUND_HUB=1" in row["unavailable"] for row in result["real"])
    assert "unavailable here" in format_result(result)


# -- the detail toy: a two-pixel mark at two input sizes ----------------------------------
from playground.contract.claims import HIGHER, LOWER, TIE, Evidence, audit  # noqa: E402
from plugins.siglip_variants import detail_toy  # noqa: E402
from plugins.siglip_variants.claims import CLAIMS, detail_figures  # noqa: E402


def test_the_mark_blends_away_at_16_px_and_is_kept_at_32():
    images, labels, swapped = detail_toy.marked_pictures(50, seed=0, stream=2)
    assert set(labels) == {0, 1}
    assert (images != swapped).any(axis=(1, 2, 3)).all()  # every picture differs by its mark at 32 px
    assert detail_toy.identical_at(images, swapped, 32) == 0.0
    assert detail_toy.identical_at(images, swapped, 16) == 1.0
    tokens = detail_toy.PatchClassifier.tokens(detail_toy.at_side(images[:2], 16))
    assert tokens.shape == (2, 16, 3 * detail_toy.PATCH ** 2)


def test_the_detail_claim_can_come_out_every_way():
    def runs(low, high):
        return [detail_toy.SizeRun(16, 16, low, 0.5, 1.0, 0.5), detail_toy.SizeRun(32, 64, high, 1.0, 2.0, 0.1)]

    claim = CLAIMS["detail.kept_at_higher_size"]
    assert claim.decide(detail_figures(runs(0.5, 1.0))) == HIGHER
    assert claim.decide(detail_figures(runs(0.5, 0.55))) == TIE
    assert claim.decide(detail_figures(runs(0.9, 0.5))) == LOWER
    with pytest.raises(ValueError, match="input side"):
        detail_toy.compare_sizes(detail_toy.DetailSettings(sides=(12, 32)))


@pytest.mark.slow
def test_the_mark_is_read_at_the_higher_size_on_several_seeds():
    evidence = []
    for seed in (0, 1, 2, 3):
        settings = detail_toy.DetailSettings(seed=seed)
        runs = detail_toy.compare_sizes(settings)
        figures = detail_figures(runs)
        assert CLAIMS["detail.kept_at_higher_size"].decide(figures) == HIGHER, (seed, runs)
        low, high = runs
        assert (low.tokens, high.tokens) == (16, 64) and low.accuracy == low.ceiling == 0.5  # exact by construction
        evidence.append(Evidence(f"seed {seed}", detail_toy.summary(runs, settings)["reveal"],
                                 {"detail.kept_at_higher_size": figures}))
    assert audit(CLAIMS, evidence) == []


def test_headless_reports_the_detail_toy():
    from plugins.siglip_variants.headless import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    result = run(parser.parse_args(["--part", "detail"]), LabContext(registry=None))
    json.dumps(result)
    d = result["detail"]
    assert [(r["side"], r["tokens"]) for r in d["runs"]] == [(16, 16), (32, 64)]
    assert d["reveal"] == CLAIMS["detail.kept_at_higher_size"].words(
        detail_figures([detail_toy.SizeRun(**r) for r in d["runs"]]))
    assert "two-pixel mark" in format_result(result)


# -- the real checkpoints' panel ----------------------------------------------------------
def test_the_real_panel_says_what_to_do_offline_and_scores_with_tiny_models(empty_hub_cache, tiny_plugin):
    from gradio_client import Client, handle_file

    from playground.data.images import photo_file
    from plugins.siglip_variants.real_models import MODEL_IDS, PHOTO_LABELS

    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.siglip_variants"),
                               extra=[tiny_plugin], entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    try:
        client = Client(launch(demo), verbose=False)
        photo = handle_file(photo_file("chelsea"))
        said, table = client.predict(photo, *MODEL_IDS, api_name="/siglip_variants_real")
        assert "Not available here" in said and "playground serve --hub" in said
        assert all(f"`{m}`" in said for m in MODEL_IDS) and not table["data"]
        said, table = client.predict(photo, "tiny-clip", "tiny-siglip", api_name="/siglip_variants_real")
        assert said == ""
        assert table["headers"][-2:] == ["tiny-clip", "tiny-siglip"]
        assert len(table["data"]) == sum(len(labels) for labels in PHOTO_LABELS.values())
        assert {row[1] for row in table["data"]} >= {"猫", "قطة", "Katze"}
        siglip = [row[-1] for row in table["data"]]
        assert all(0 <= p <= 1 for p in siglip)
        said, table = client.predict(photo, MODEL_IDS[1], "tiny-siglip", api_name="/siglip_variants_real")
        assert f"`{MODEL_IDS[1]}`" in said and table["headers"][-1] == "tiny-siglip"
    finally:
        demo.close()


# -- the patch grid over the photo and the detail toy in the tab --------------------------
def test_the_patch_grid_comes_from_the_tower_and_its_preprocessing():
    from playground.data.images import read_image

    photo, _ = read_image("bundled:chelsea")
    for model_id, (architecture, side) in resolution.RESOLUTION_IDS.items():
        g = resolution.grid_geometry(model_id)
        assert (g.side, g.patch) == (side, 16) and g.tokens == (side // 16) ** 2
        pixels, caption = resolution.photo_with_grid(photo, model_id)
        scale = pixels.shape[0] // side
        assert pixels.shape == (side * scale, side * scale, 3)
        assert f"{g.grid}×{g.grid} = {g.tokens} patches" in caption
        # grid lines fall every patch (16 input pixels) and nowhere else: the line colour is yellow
        yellow = (pixels[..., 0] > 200) & (pixels[..., 1] > 180) & (pixels[..., 2] < 120)
        columns = np.flatnonzero(yellow.mean(axis=0) > 0.9)
        assert len(columns) and all((c // scale) % 16 in (0, 15) for c in columns)
        assert len({c // (16 * scale) for c in columns}) >= g.grid - 2
    with pytest.raises(ValueError, match="unknown resolution id"):
        resolution.grid_geometry("siglip-vit-b-16-999")


def test_api_draws_the_grid_and_trains_the_detail_toy():
    from gradio_client import Client, handle_file

    from playground.data.images import photo_file

    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.siglip_variants"),
                               entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    try:
        client = Client(launch(demo), verbose=False)
        view, said = client.predict(handle_file(photo_file("chelsea")), "siglip-vit-b-16-384",
                                    api_name="/siglip_variants_grid")
        assert "24×24 = 576 patches of 16×16 pixels" in said and view
        figure, revealed = client.predict(api_name="/siglip_variants_detail")
        assert figure["type"] == "plotly" and "64 tokens" in revealed
    finally:
        demo.close()


def test_every_siglip_id_fits_the_default_budget_together(monkeypatch):
    """The README says the SigLIP-* ids load together under the default budget: the
    registry's size estimates of the five, summed, against a fresh registry's budget."""
    from playground.models.catalog import DEFAULT_MODELS
    from playground.models.registry import ModelRegistry

    monkeypatch.delenv("PLAYGROUND_MAX_MODEL_GB", raising=False)
    ids = ("siglip-vit-b-16", "siglip-vit-b-16-256", "siglip-vit-b-16-384", "siglip-vit-b-16-512",
           "siglip-vit-b-16-i18n-256")
    sizes = {spec.id: spec.size_gb for spec in DEFAULT_MODELS if spec.id in ids}
    assert set(sizes) == set(ids) and all(size > 0 for size in sizes.values())
    assert sum(sizes.values()) * 1e9 <= ModelRegistry(device="cpu").max_bytes


def test_the_readme_quotes_the_published_retrieval_figures_the_tab_shows():
    """The sourced Crossmodal-3600 table is typed once, in real_models.py: the README's rows
    read the same figures, and the tab and --part real show them from there."""
    from pathlib import Path

    from plugins.siglip_variants.languages import LANGUAGE_NAMES, LANGUAGES
    from plugins.siglip_variants.real_models import MODEL_IDS, PUBLISHED_RETRIEVAL_R1, published_table

    readme = (Path(__file__).resolve().parents[1] / "plugins" / "siglip_variants" / "README.md").read_text()
    for lang in LANGUAGES:
        cells = " | ".join(f"{PUBLISHED_RETRIEVAL_R1[m][lang]:.1%}" for m in MODEL_IDS)
        assert f"| {LANGUAGE_NAMES[lang]} | {cells} |" in readme, lang
    assert [row["language"] for row in published_table()] == [LANGUAGE_NAMES[lang] for lang in LANGUAGES]
