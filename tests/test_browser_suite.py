"""The whole app in one browser: every built-in lab's tab opens with no error panel,
a broken plugin shows its error panel while the others work, and a screenshot of each
tab is saved under artifacts/ (each lab's own browser test runs its default experiment)."""
import os
import types

import pytest

from conftest import ARTIFACTS, open_tab
from playground import collect_labs, create_plugin_manager, create_registry, hookimpl
from playground.web.app import build_app

pytestmark = pytest.mark.browser


def broken_plugin():
    module = types.ModuleType("student_broken")

    @hookimpl
    def register_labs(register):
        raise RuntimeError("student typo in register_labs")

    module.register_labs = register_labs
    return module


def test_every_tab_opens_and_a_broken_plugin_is_contained(serve, page, tiny_plugin):
    pm = create_plugin_manager(entry_points=False, extra=[tiny_plugin, broken_plugin()])
    demo = build_app(pm, create_registry(pm, device="cpu"))
    labs = collect_labs(pm)
    assert len(labs) >= 7
    assert [(e.plugin, e.stage) for e in pm.errors] == [("student_broken", "register_labs")]
    page.goto(serve(demo))
    os.makedirs(ARTIFACTS, exist_ok=True)
    for lab in labs:
        open_tab(page, lab.title)
        page.wait_for_timeout(300)
        assert page.locator(".lab-error").filter(visible=True).count() == 0, lab.id
        page.screenshot(path=os.path.join(ARTIFACTS, f"tab-{lab.id}.png"), full_page=True)
    open_tab(page, "⚠ student_broken")
    page.get_by_text("student typo in register_labs").filter(visible=True).first.wait_for()
    open_tab(page, "Models")
    page.get_by_text("tiny-siglip").filter(visible=True).first.wait_for()
