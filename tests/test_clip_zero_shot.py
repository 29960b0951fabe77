"""clip_zero_shot compute, headless run and CLI, with tiny open_clip models of both
kinds (built from configs, loaded through the real loader)."""
import json

import numpy as np
import pytest

from conftest import registry_of, tiny_models_plugin
from playground import create_plugin_manager
from playground.data.images import bundled_photo, photo_file
from playground.models.catalog import DEFAULT_MODELS
from playground.models.registry import ModelUnavailableError, UnknownModelError
from playground.science.zero_shot import (
    DEFAULT_TEMPLATE, ENSEMBLE, ENSEMBLE_TEMPLATES, MAX_LABELS, classify, get_image_text_model, label_embeddings,
    parse_labels, pick_default_model, resolve_templates, vit_view,
)

LABELS = ["cat", "coffee cup", "rocket", "astronaut"]


@pytest.fixture(scope="module")
def registry(tiny_specs):
    return registry_of(*DEFAULT_MODELS, *tiny_specs)


@pytest.fixture(scope="module")
def photos():
    return [bundled_photo(name).image() for name in ("chelsea", "rocket")]


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- labels and templates -------------------------------------------------------------
def test_parse_labels_accepts_commas_and_new_lines():
    assert parse_labels("cat, dog\n  big   bird ,\n") == ["cat", "dog", "big bird"]
    assert parse_labels(["cat", " dog "]) == ["cat", "dog"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "No labels"),
        (None, "No labels"),
        ("     ", "only spaces"),
        (" , ,\n , ", "only spaces"),
        ("cat", "Only 1 label"),
        ("cat, dog, Cat", "Duplicate label.*'cat' and 'Cat'"),
        (", ".join(f"label {i}" for i in range(300)), f"300 labels given; the limit is {MAX_LABELS}"),
        ("cat, " + "x" * 500, "500 characters"),
    ],
)
def test_parse_labels_refuses_bad_lists_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_labels(text)


def test_templates():
    assert resolve_templates(None) == (DEFAULT_TEMPLATE,)
    assert resolve_templates(ENSEMBLE) == ENSEMBLE_TEMPLATES and len(ENSEMBLE_TEMPLATES) > 1
    assert resolve_templates("a sketch of {}") == ("a sketch of {}",)
    with pytest.raises(ValueError, match="exactly once"):
        resolve_templates("a photo of a cat")
    with pytest.raises(ValueError, match="exactly once"):
        resolve_templates("{} and {}")


# -- scores -----------------------------------------------------------------------------
def test_clip_scores_are_a_softmax_over_the_labels(registry, photos):
    model = registry.get("tiny-clip")
    result = classify(model, photos, LABELS, [DEFAULT_TEMPLATE], ["cat photo", "rocket photo"])
    assert result.scoring == "softmax" and result.logit_bias is None
    assert result.probabilities.shape == result.cosines.shape == (2, len(LABELS))
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    # the same numbers from the raw embeddings, computed here independently
    image_emb = model.encode_images(photos)
    text_emb = model.encode_texts([f"a photo of a {label}." for label in LABELS])
    cos = image_emb @ text_emb.T
    np.testing.assert_allclose(result.cosines, cos, atol=1e-5)
    np.testing.assert_allclose(result.logits, model.logit_scale * cos, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(result.probabilities, softmax(model.logit_scale * cos), atol=1e-5)
    # a softmax couples the labels: dropping one raises every other score
    fewer = classify(model, photos[:1], LABELS[:-1])
    assert np.all(fewer.probabilities[0] > result.probabilities[0, :-1])
    as_dict = result.to_dict(1)
    assert as_dict["image"] == "rocket photo" and list(as_dict["scores"]) == [l for l, _ in result.ranked(1)]
    assert abs(as_dict["sum"] - 1) < 1e-5


def test_softmax_reveal_promises_only_one_over_n_to_the_top_label(registry, photos):
    from plugins.clip_zero_shot.compute import PREDICT_CHOICES, reveal

    result = classify(registry.get("tiny-clip"), photos[:1], LABELS)
    text = reveal(result, PREDICT_CHOICES[1])
    n = len(LABELS)
    assert f"gets at least 1/{n} = {1 / n:.1%}" in text and "large share whether" not in text
    assert result.ranked(0)[0][1] >= 1 / n - 1e-6  # the fact the sentence states


def test_siglip_scores_are_independent_sigmoids(registry, photos):
    model = registry.get("tiny-siglip")
    result = classify(model, photos, LABELS)
    assert result.scoring == "sigmoid" and result.logit_bias == pytest.approx(-10.0, abs=1e-4)
    cos = model.encode_images(photos) @ model.encode_texts([f"a photo of a {label}." for label in LABELS]).T
    expected = 1 / (1 + np.exp(-(model.logit_scale * cos + model.logit_bias)))
    np.testing.assert_allclose(result.probabilities, expected, rtol=1e-4, atol=1e-7)
    assert np.all(np.abs(result.probabilities.sum(axis=1) - 1) > 0.5)  # nothing makes them sum to 1
    # independent: adding or removing labels leaves the others' scores exactly as they were
    more = classify(model, photos, LABELS + ["moon", "flower"])
    np.testing.assert_allclose(more.probabilities[:, : len(LABELS)], result.probabilities, rtol=1e-5)


def test_label_embeddings_are_cached_per_model_and_template(registry, photos):
    model = registry.get("tiny-clip")
    labels = ["a label seen once", "another fresh label"]
    before = registry.cache.misses
    classify(model, photos[:1], labels)
    assert registry.cache.misses - before == 2
    hits = registry.cache.hits
    classify(model, photos[:1], labels)  # same model, same template: nothing re-embedded
    assert registry.cache.misses - before == 2 and registry.cache.hits - hits == 2
    classify(model, photos[:1], labels, ["a drawing of a {}."])  # a new template: new prompts
    assert registry.cache.misses - before == 4
    classify(registry.get("tiny-siglip"), photos[:1], labels)  # another model: its own entries
    assert registry.cache.misses - before == 6


def test_ensemble_is_the_normalised_mean_of_its_prompts(registry):
    model = registry.get("tiny-clip")
    ensemble = label_embeddings(model, ["cat", "rocket"], ENSEMBLE_TEMPLATES)
    prompts = model.encode_texts([t.replace("{}", "rocket") for t in ENSEMBLE_TEMPLATES])
    mean = prompts.mean(axis=0)
    np.testing.assert_allclose(ensemble[1], mean / np.linalg.norm(mean), atol=1e-5)
    single = label_embeddings(model, ["rocket"], [DEFAULT_TEMPLATE])
    assert not np.allclose(single[0], ensemble[1], atol=1e-3)


def test_vit_view_is_the_models_input_with_its_patch_grid(registry, photos):
    model = registry.get("tiny-clip")
    view = vit_view(model, photos[0])
    assert view.input_size == model.image_size == 32 and view.patch_size == 8 and view.grid == 4
    assert view.pixels.shape == (32 * view.scale, 32 * view.scale, 3) and view.scale * 32 >= 320
    step = 8 * view.scale
    line = view.pixels[5, step].astype(int)  # on a grid line: yellow laid over the photo
    inside = view.pixels[5, step // 2].astype(int)
    assert line[0] > 150 and line[1] > 150 and line[2] < line[0]
    assert not np.array_equal(line, inside)
    assert "4×4 = 16 patches of 8×8 pixels" in view.caption()
    # away from the grid lines, the view is the model's own input (resize, centre crop), pixel for pixel
    raw = np.asarray(model.preprocess_view(photos[0]))
    centres = view.pixels[view.scale // 2 :: view.scale, view.scale // 2 :: view.scale]
    np.testing.assert_array_equal(centres, raw)


# -- models -----------------------------------------------------------------------------
def test_default_model_falls_back_with_a_note_saying_what_is_missing(registry):
    chosen, note = pick_default_model(registry)
    assert chosen == "tiny-clip"
    assert "clip-vit-b-32" in note and "PLAYGROUND_HUB=1" in note and "Hugging Face Hub" in note
    bare = registry_of(*DEFAULT_MODELS)
    chosen, note = pick_default_model(bare)
    assert chosen is None and "No image-text model can be loaded here" in note and "Train a CLIP" in note


def test_get_model_refuses_text_models_and_unavailable_ones(registry):
    with pytest.raises(ValueError, match="text-only"):
        get_image_text_model(registry, "minilm")
    with pytest.raises(ModelUnavailableError, match="clip-vit-b-32.*Hugging Face Hub"):
        get_image_text_model(registry, "clip-vit-b-32")
    # nothing picked (an API call leaving the model out): the default; with none to be had, the next step
    assert get_image_text_model(registry, "").id == pick_default_model(registry)[0]
    with pytest.raises(ValueError, match="open the Train a CLIP tab"):
        get_image_text_model(registry_of(*DEFAULT_MODELS), "")


def test_a_session_model_works_like_any_other(registry, tiny_specs, photos):
    from playground.models.open_clip import load
    from playground.web.ui import model_choices

    spec = next(s for s in tiny_specs if s.id == "tiny-clip")
    mine = load(spec, "cpu")  # stands in for a model trained in the train_clip tab
    registry.add_session_model("session-a", "my-clip", mine)
    try:
        assert ("my-clip (yours, this session)", "my-clip") in model_choices(registry, "image-text", "session-a")
        model = get_image_text_model(registry, "my-clip", "session-a")
        result = classify(model, photos, LABELS)
        assert result.model_id == "my-clip"
        np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
        with pytest.raises(UnknownModelError):
            get_image_text_model(registry, "my-clip", "session-b")
    finally:
        registry.drop_session("session-a")


# -- headless ---------------------------------------------------------------------------
@pytest.fixture
def cli_with_tiny_models(monkeypatch, tiny_specs):
    """``playground run`` seeing the tiny models (as an installed plugin would add them)."""
    import playground.contract.plugins

    def make_pm(*args, **kwargs):
        return create_plugin_manager(
            builtins=("playground.contract.default_models", "plugins.clip_zero_shot"), entry_points=False,
            extra=[tiny_models_plugin(tiny_specs)],
        )

    monkeypatch.setattr(playground.contract.plugins, "create_plugin_manager", make_pm)
    from playground.web.cli import main

    return main


def test_cli_prints_each_labels_score(cli_with_tiny_models, capsys):
    main = cli_with_tiny_models
    code = main(["run", "clip_zero_shot", "--image", photo_file("chelsea"), "--labels", "cat,dog,rocket",
                 "--model", "tiny-clip", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["model"] == "tiny-clip" and set(out["scores"]) == {"cat", "dog", "rocket"}
    assert sum(out["scores"].values()) == pytest.approx(1.0, abs=1e-5)
    assert list(out["scores"].values()) == sorted(out["scores"].values(), reverse=True)

    code = main(["run", "clip_zero_shot", "--image", "bundled:rocket", "--labels", "cat, dog",
                 "--model", "tiny-siglip", "--template", "ensemble"])
    text = capsys.readouterr().out
    assert code == 0 and "tiny-siglip (sigmoid" in text and "sum of scores" in text and "a drawing of a {}." in text

    code = main(["run", "clip_zero_shot", "--image", "bundled:rocket", "--labels", "cat, dog", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["model"] == "tiny-clip" and "clip-vit-b-32" in out["note"]


def test_cli_reports_bad_input(cli_with_tiny_models, capsys, tmp_path):
    main = cli_with_tiny_models
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not a picture")
    assert main(["run", "clip_zero_shot", "--image", str(text_file), "--labels", "a,b", "--model", "tiny-clip"]) == 1
    assert "is not an image" in capsys.readouterr().err
    assert main(["run", "clip_zero_shot", "--image", "bundled:rocket", "--labels", " , ", "--model", "tiny-clip"]) == 1
    assert "only spaces" in capsys.readouterr().err
    assert main(["run", "clip_zero_shot", "--image", "bundled:rocket", "--labels", "a,b",
                 "--model", "clip-vit-b-32"]) == 1
    assert "Hugging Face Hub" in capsys.readouterr().err
