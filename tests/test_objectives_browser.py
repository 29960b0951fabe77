"""objectives as a person uses it, in headless Chromium: predict, train both arms with
small settings, see them side by side, and find the trained encoders in the Text
anisotropy tab's model pickers."""
import os

import pytest

from plugins.objectives.ui import DEFAULTS

from conftest import ARTIFACTS, open_tab
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def url(serve):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.anisotropy",
                                         "plugins.objectives"), entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    return serve(demo)


def panel(page):
    """The selected tab's panel (hidden tabs excluded)."""
    return page.locator("[role=tabpanel]").filter(visible=True).first


def set_number(page, label: str, value: int) -> None:
    """Type ``value`` into the number box of the slider labelled ``label``."""
    box = panel(page).locator("input[type=number]").and_(page.get_by_label(label))
    box.fill(str(value))
    box.press("Enter")


def test_train_both_arms_see_them_side_by_side_and_pick_them_in_anisotropy(page, url):
    page.set_default_timeout(600_000)  # a shared 2-core CPU can be slow; the run itself is tens of seconds
    page.goto(url)
    open_tab(page, "One encoder, two objectives")
    panel(page).get_by_label("Yes, above 0.5").first.check()
    set_number(page, f"NLL steps (default {DEFAULTS.steps})", 10)
    set_number(page, f"Then, per arm (default {DEFAULTS.more_steps})", 10)
    panel(page).get_by_role("button", name="Train both arms").click()
    panel(page).get_by_text("What this run shows").wait_for()
    text = panel(page).inner_text()
    assert "NLL, then more NLL" in text and "NLL, then SimCSE" in text  # both arms, side by side
    assert "masked-token accuracy" in text and "separation_auc" in text and "uniformity" in text
    assert "Your prediction was right" in text or "Not quite" in text
    assert "my-nll" in text and "my-contrastive" in text
    panel(page).locator(".js-plotly-plot").nth(2).wait_for(state="visible")  # histograms, projections, training
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "objectives_tab.png"), full_page=True)

    open_tab(page, "Text anisotropy")
    picker = panel(page).get_by_label("Model A (left): not trained contrastively")
    picker.click()
    for model_id in ("my-nll", "my-contrastive"):
        page.get_by_role("option", name=f"{model_id} (yours, this session)").first.wait_for()
