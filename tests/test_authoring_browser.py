"""In the browser, as a student: their installed lab is one click away on the Start
page at 1280x800 (no overflow menu), marked as theirs; in dev mode a compute error
shows its message and traceback in the page."""
import os
import sys
from pathlib import Path

import pytest

from conftest import ARTIFACTS, launch, screenshotted_page
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from test_authoring import raising_compute_module

pytestmark = pytest.mark.browser
HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello_lab"


@pytest.fixture(scope="module")
def student_app(tmp_path_factory):
    """Every built-in lab plus examples/hello_lab installed as a student would (a
    distribution with a `playground` entry point), and a lab whose compute raises."""
    site = tmp_path_factory.mktemp("site")
    info = site / "playground_hello_lab-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: playground-hello-lab\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[playground]\nhello = hello_lab\n")
    sys.path[:0] = [str(site), str(HELLO)]
    try:
        pm = create_plugin_manager(only="hello", extra=[raising_compute_module()])
        assert pm.errors == [], [str(e) for e in pm.errors]
        demo = build_app(pm, create_registry(pm, device="cpu"))
        assert pm.errors == [], [str(e) for e in pm.errors]
        yield launch(demo)
        demo.close()
    finally:
        for path in (str(site), str(HELLO)):
            sys.path.remove(path)
        sys.modules.pop("hello_lab", None)


@pytest.fixture
def small_page(browser, request):
    with screenshotted_page(browser, request.node.name, 1280, 800) as page:
        yield page


def test_student_lab_is_one_click_from_the_start_page(student_app, small_page):
    page = small_page
    page.goto(student_app)
    page.get_by_text("Your labs").first.wait_for()
    page.get_by_text("your lab: plugin hello").first.wait_for()  # visibly theirs
    page.screenshot(path=os.path.join(ARTIFACTS, "start-page-1280x800.png"))
    page.get_by_role("button", name="Hello lab", exact=True).click()  # the one click
    page.get_by_label("Sentences, one per line").wait_for(state="visible")
    assert page.get_by_role("tab", name="Hello lab", exact=True).get_attribute("aria-selected") == "true"
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator(".js-plotly-plot").first.wait_for(state="visible")  # the scaffold's plotly figure


def test_dev_mode_shows_compute_error_and_traceback_in_the_page(student_app, small_page, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DEV", "1")
    page = small_page
    page.goto(student_app)
    page.get_by_role("button", name="Crashy lab", exact=True).click()
    page.get_by_label("Text").fill("hello")
    page.get_by_role("button", name="Go", exact=True).click()
    toast = page.get_by_test_id("toast-text").first
    toast.wait_for()
    text = toast.inner_text()
    page.wait_for_timeout(1000)  # the toast slides in
    page.screenshot(path=os.path.join(ARTIFACTS, "dev-mode-error-1280x800.png"))
    assert "AttributeError: 'str' object has no attribute 'no_such_method'" in text
    assert "in neighbours" in text and "Traceback (most recent call last)" in text
