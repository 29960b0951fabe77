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
