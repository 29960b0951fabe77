"""Both image tabs as a person uses them, in headless Chromium: upload a bundled photo,
type labels, press the button, see the scores (tiny models registered for the test)."""
import os
import re

import pytest

from conftest import ARTIFACTS, open_tab

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.data.images import photo_file

pytestmark = pytest.mark.browser


@pytest.fixture
def url(serve, tiny_plugin):
    pm = create_plugin_manager(
        builtins=("playground.contract.default_models", "plugins.clip_zero_shot", "plugins.siglip_compare"),
        entry_points=False, extra=[tiny_plugin],
    )
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    return serve(demo)


def visible_text(page) -> str:
    """The text of the selected tab (hidden tabs and Gradio's measuring copies excluded)."""
    return page.locator("[role=tabpanel]").filter(visible=True).first.inner_text()


def upload_and_label(page, labels: str) -> None:
    page.locator("[role=tabpanel]").filter(visible=True).first.locator("input[type=file]").first.set_input_files(
        photo_file("chelsea")
    )
    page.get_by_label("Labels (comma- or newline-separated)").filter(visible=True).first.fill(labels)


def test_upload_a_photo_type_labels_and_see_scores_in_both_tabs(page, url):
    page.goto(url)
    open_tab(page, "CLIP zero-shot")
    upload_and_label(page, "kitten, spaceship, teapot")
    # the offline note names the missing model and says how to get it
    page.get_by_text("PLAYGROUND_HUB=1").filter(visible=True).first.wait_for()
    assert "clip-vit-b-32" in visible_text(page)
    page.get_by_role("button", name="Classify").filter(visible=True).click()
    page.get_by_text("scores sum to").filter(visible=True).first.wait_for()  # the reveal, after the figures
    text = visible_text(page)
    for label in ("kitten", "spaceship", "teapot"):
        assert label in text
    assert re.search(r"\d+(\.\d+)?%", text)  # confidences shown as percentages
    assert "16 patches of 8×8 pixels" in text  # the ViT's view of the tiny model
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "clip_zero_shot_tab.png"), full_page=True)

    open_tab(page, "SigLIP vs CLIP")
    upload_and_label(page, "kitten, spaceship")
    page.get_by_role("button", name="Compare", exact=True).filter(visible=True).click()
    page.get_by_text("they sum to").filter(visible=True).first.wait_for()
    text = visible_text(page)
    assert "tiny-clip" in text and "tiny-siglip" in text and "kitten" in text and "spaceship" in text
    assert re.search(r"t = 10\.000, b = -10\.000", text)  # the bias note with the model's own numbers
    page.get_by_role("button", name="Compute both losses").filter(visible=True).click()
    page.get_by_text("went from").filter(visible=True).first.wait_for()
