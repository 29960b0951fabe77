"""Issue 30, item 4: the image tabs work on their defaults. A bundled photo is
preselected; offline with no image-text model, Run answers with one next step (train
the toy CLIP), and following it makes Run work, with no Hub warning under my-clip."""
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from playground import create_plugin_manager, create_registry
from playground.science.zero_shot import NO_IMAGE_TEXT_MODEL
from playground.web.app import build_app

PLUGINS = ("playground.contract.default_models", "plugins.clip_zero_shot", "plugins.siglip_compare", "plugins.train_clip")


@pytest.fixture
def client(serve, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_HUB", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    pm = create_plugin_manager(builtins=PLUGINS, entry_points=False)
    registry = create_registry(pm, device="cpu")
    if registry.model_ids(kind="image-text", available_only=True):
        pytest.skip("an image-text model is available here (cached or Hub on): the offline case cannot be shown")
    return Client(serve(build_app(pm, registry)), verbose=False)


@pytest.mark.parametrize("endpoint", ["/clip_zero_shot", "/siglip_compare"])
def test_run_on_the_defaults_offline_gives_the_one_next_step(client, endpoint):
    with pytest.raises(AppError) as raised:
        client.predict(api_name=endpoint)  # the preselected photo, the default labels, no model
    message = str(raised.value)
    assert "none given" not in message  # the photo is there
    assert NO_IMAGE_TEXT_MODEL in message


@pytest.mark.slow
def test_following_the_next_step_makes_run_work_without_a_hub_warning(client):
    client.predict(api_name="/train_clip_train")  # the Train a CLIP tab's Train button, its defaults
    picker, note = client.predict(None, api_name="/clip_zero_shot_models")  # coming back to the tab
    assert picker["value"] == "my-clip" and "my-clip" in note
    assert "Hub" not in note and "cannot be used here" not in note
    scores = client.predict(api_name="/clip_zero_shot")
    assert scores["label"] and len(scores["confidences"]) >= 2
