"""train_clip served for real: trained through gradio_client, then used by the CLIP zero-shot
tab through the registry (the offline path for the image tabs), and trained in a browser."""
import numpy as np
import pytest
from PIL import Image

from conftest import launch, open_tab

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.data.shapes import HELD_OUT, make_split

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

# loss, batch size, steps, learning rate, seed, image tower, text tower, SigLIP starting bias, prediction
QUICK = ("softmax", 32, 60, 0.003, 0, "cnn", "bow", -10.0, "Far above chance, but below the pairs it saw")


@pytest.fixture(scope="module")
def app():
    pm = create_plugin_manager(
        builtins=("playground.contract.default_models", "plugins.train_clip", "plugins.clip_zero_shot", "plugins.siglip_compare"),
        entry_points=False,
    )
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors, pm.errors
    yield demo, launch(demo)
    demo.close()


def test_train_through_the_api_then_classify_in_the_zero_shot_tab(app, tmp_path):
    demo, url = app
    registry = demo.playground_registry
    client = Client(url, verbose=False)
    for loss, model_id in (("softmax", "my-clip"), ("sigmoid", "my-siglip")):
        summary, reveal, gallery, snapshots, loss_plot, accuracy, files = client.predict(
            loss, *QUICK[1:], api_name="/train_clip_train")
        assert "Zero-shot among 36 prompts" in summary and f"`{model_id}`" in summary
        assert "Reveal" in reveal and len(gallery) == 8
        model = registry.get(model_id, session=client.session_hash)
        assert model.kind == "image-text" and model.scoring == loss

        # a held-out picture (never seen in training) through the CLIP zero-shot tab's own API
        held = make_split("heldout", 1, seed=7)
        path = tmp_path / f"held-{loss}.png"
        Image.fromarray(held.images[0]).save(path)
        colour, shape = HELD_OUT[0]
        labels = f"{colour} {shape}, red circle, green square"
        scores = client.predict(handle_file(str(path)), labels, "a photo of a {}.", model_id, api_name="/clip_zero_shot")
        confidences = {c["label"]: c["confidence"] for c in scores["confidences"]}
        assert set(confidences) == {f"{colour} {shape}", "red circle", "green square"}
        direct = model.probabilities(model.encode_images([Image.open(path)]),
                                     model.encode_texts([f"a photo of a {x}." for x in labels.split(", ")]))[0]
        assert confidences[f"{colour} {shape}"] == pytest.approx(float(direct[0]), abs=1e-4)
        if loss == "softmax":
            assert sum(confidences.values()) == pytest.approx(1.0, abs=1e-4)

    # both trained models side by side in the SigLIP vs CLIP tab: softmax sums to 1, sigmoids need not
    clip_scores, siglip_scores = client.predict(
        handle_file(str(tmp_path / "held-softmax.png")), "blue triangle, red circle, green square", "a photo of a {}.",
        "my-clip", "my-siglip", api_name="/siglip_compare")
    assert sum(c["confidence"] for c in clip_scores["confidences"]) == pytest.approx(1.0, abs=1e-4)
    assert {c["label"] for c in siglip_scores["confidences"]} == {"blue triangle", "red circle", "green square"}

    # the models belong to that session only
    stranger = Client(url, verbose=False)
    with pytest.raises(AppError, match="Unknown model 'my-clip'"):
        stranger.predict(handle_file(str(tmp_path / "held-softmax.png")), "cat, dog", "a photo of a {}.", "my-clip",
                         api_name="/clip_zero_shot")


def test_retraining_replaces_the_session_model_and_its_cached_vectors(app):
    demo, url = app
    registry = demo.playground_registry
    client = Client(url, verbose=False)
    client.predict(*QUICK[:2], 10, *QUICK[3:], api_name="/train_clip_train")
    first = registry.get("my-clip", session=client.session_hash).encode_texts(["a red circle"])
    client.predict(*QUICK[:2], 10, QUICK[3], 5, *QUICK[5:], api_name="/train_clip_train")
    second = registry.get("my-clip", session=client.session_hash).encode_texts(["a red circle"])
    assert not np.allclose(first, second)  # a new seed: new weights, not the old cached row


def test_bad_input_is_a_clear_error_and_the_server_keeps_serving(app):
    _, url = app
    client = Client(url, verbose=False)
    with pytest.raises(AppError, match="learning rate"):
        client.predict("softmax", 32, 10, -1.0, 0, "cnn", "bow", -10.0, None, api_name="/train_clip_train")
    with pytest.raises(AppError, match="batch size"):
        client.predict([], 4096, 0.003, 0, "cnn", "bow", -10.0, None, api_name="/train_clip_compare")
    reveal, figure, table = client.predict([8, 16], 256, 0.003, 0, "cnn", "bow", -10.0, "sigmoid (SigLIP)",
                                           api_name="/train_clip_compare")
    assert "Reveal" in reveal and len(table["data"]) == 4


@pytest.mark.browser
def test_browser_trains_and_sees_the_matrix_and_accuracy(app, page):
    _, url = app
    page.goto(url)
    open_tab(page, "Train a CLIP")
    page.get_by_label("bag of words, trained").check()
    steps = page.get_by_label("number input for Steps (default 1000)").filter(visible=True).first
    steps.fill("50")
    steps.press("Enter")
    page.get_by_label("Far above chance, but below the pairs it saw").check()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Zero-shot among 36 prompts").filter(visible=True).first.wait_for(timeout=180_000)
    page.get_by_text("on the diagonal").filter(visible=True).first.wait_for()  # the snapshot matrices
    page.get_by_text("seen, new colour words").filter(visible=True).first.wait_for()  # the accuracy bars
    page.get_by_text("Reveal.").filter(visible=True).first.wait_for()
    assert page.locator(".js-plotly-plot").filter(visible=True).count() >= 3
