"""The SigLIP-* tab as a person uses it, in headless Chromium: pick a prediction, split the
batch over the devices, see the chart, the verdict and the numbers."""
import os

import pytest

from conftest import ARTIFACTS, open_tab

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from plugins.siglip_variants.scaling import CHOICES, QUESTION

pytestmark = pytest.mark.browser


@pytest.fixture
def url(serve):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.siglip_variants"),
                               entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    return serve(demo)


def test_predict_split_the_batch_and_see_the_reveal(page, url):
    page.goto(url)
    open_tab(page, "SigLIP-*")
    panel = page.locator("[role=tabpanel]").filter(visible=True).first
    panel.get_by_text(QUESTION).first.wait_for()
    panel.get_by_label(CHOICES["same"]).check()
    panel.get_by_role("button", name="Split the batch over the devices").click()
    panel.get_by_text("MB for the sigmoid loss").first.wait_for(timeout=60_000)
    text = panel.inner_text()
    assert "Not quite" in text or "Your prediction was right" in text
    assert "largest difference" in text  # the chunked loss against the unchunked one
    panel.locator(".js-plotly-plot").first.wait_for(state="visible")  # the per-device chart
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "siglip_variants_tab.png"), full_page=True)


@pytest.fixture
def offline_url(serve, empty_hub_cache, tiny_plugin):
    """The app with the tiny models and an empty Hugging Face cache (the real SigLIPs absent)."""
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.siglip_variants"),
                               extra=[tiny_plugin], entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    return serve(demo)


def _pick(panel, label: str, option: str) -> None:
    box = panel.get_by_label(label)
    box.click()
    box.fill(option)
    box.press("Enter")


def test_the_real_panel_says_what_to_do_offline_then_scores_the_tiny_models(page, offline_url):
    page.goto(offline_url)
    open_tab(page, "SigLIP-*")
    panel = page.locator("[role=tabpanel]").filter(visible=True).first
    panel.get_by_text("The real checkpoints: labels in five languages").first.click()
    panel.get_by_text("Not available here").first.wait_for()  # said before anything is run
    assert "playground serve --hub" in panel.inner_text()
    _pick(panel, "English model", "tiny-clip")
    _pick(panel, "Multilingual model", "tiny-siglip")
    panel.get_by_role("button", name="Score the labels in five languages").click()
    panel.get_by_text("فنجان قهوة").first.wait_for(timeout=60_000)  # the Arabic label's row in the table
    text = panel.inner_text()
    assert "tiny-siglip" in text and "猫" in text
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "siglip_variants_real_panel.png"), full_page=True)


def test_the_patch_grid_is_drawn_for_the_picked_resolution(page, url):
    page.goto(url)
    open_tab(page, "SigLIP-*")
    panel = page.locator("[role=tabpanel]").filter(visible=True).first
    panel.get_by_text("Resolution: 196 → 1024 tokens").first.click()
    panel.get_by_label("siglip-vit-b-16-512").check()
    panel.get_by_text("32×32 = 1024 patches of 16×16 pixels").first.wait_for(timeout=60_000)
    panel.get_by_role("button", name="Train at 16 px and at 32 px (seconds)").click()
    panel.get_by_text("the model read the mark").first.wait_for(timeout=120_000)
    panel.locator(".js-plotly-plot").first.wait_for(state="visible")  # the accuracy chart (the only one run)
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "siglip_variants_resolution.png"), full_page=True)
