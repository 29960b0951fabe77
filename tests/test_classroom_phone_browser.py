"""Issue 29, "a phone is enough": at 390 × 844 (a phone held upright) the Start page, a
lab's predict → run → vote flow and the vote panel through the instructor's phases show
no text outside its box and no word broken letter by letter (the `settled` overflow check
of test_layout_browser), and nothing runs off the screen sideways. Screenshots go to
artifacts/phone-*.png."""
from __future__ import annotations

import os

import pytest

from conftest import ARTIFACTS, open_tab, screenshotted_page
from playground.classroom import VoteStore
from playground.classroom.store import REVOTE, SHOW, VOTING
from plugins.anisotropy.compute import PREDICT_CHOICES
from test_classroom_app import TOKEN, anisotropy_app
from test_layout_browser import settled

PHONE = {"width": 390, "height": 844}
WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth - window.innerWidth"


def shot(page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"phone-{name}.png"), full_page=True)


def fits(locator) -> None:
    """No overflow in ``locator``, and the page does not scroll sideways."""
    assert settled(locator) == []
    assert locator.page.evaluate(WIDER_THAN_SCREEN) <= 1


@pytest.mark.browser
def test_start_page_lab_and_vote_panel_fit_a_phone(browser, serve, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    votes = VoteStore(str(tmp_path / "votes.sqlite3"))
    url = serve(anisotropy_app(votes)) + "?class=bio1"
    with screenshotted_page(browser, "phone-last", **PHONE) as page:
        page.goto(url)
        page.get_by_text("You are in class bio1").filter(visible=True).first.wait_for()
        fits(page.locator("body"))
        shot(page, "start")

        open_tab(page, "Text anisotropy")
        guess = page.get_by_label(PREDICT_CHOICES["high"])
        guess.check()
        fits(page.locator("body"))
        page.get_by_role("button", name="Run the experiment").click()
        panel = page.locator(".prose", has_text="How class bio1 voted").filter(visible=True).first
        panel.wait_for(timeout=180_000)
        panel.scroll_into_view_if_needed()
        fits(page.locator("body"))
        shot(page, "lab-voted")

        # the phases as an instructor sets them: each panel fits too
        for phase, says in ((VOTING, "Pick your prediction and run"), (SHOW, "How class bio1 voted, round 1"),
                            (REVOTE, "Round 2: vote again")):
            votes.set_phase("anisotropy", "run", phase, "bio1")
            panel = page.locator(".prose", has_text=says).filter(visible=True).first
            panel.wait_for(timeout=20_000)
            panel.scroll_into_view_if_needed()
            fits(panel)
            shot(page, f"panel-{phase}")
        assert page.evaluate(WIDER_THAN_SCREEN) <= 1
