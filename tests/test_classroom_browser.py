"""Classroom mode in a real browser: a student of class bio1 predicts and runs; the
instructor, in a second browser context, types the token and sees that vote."""
from __future__ import annotations

import pytest

from conftest import open_tab
from playground.classroom import VoteStore
from plugins.anisotropy.compute import PREDICT_CHOICES
from test_classroom_app import TOKEN, anisotropy_app, student, vote


@pytest.mark.browser
def test_student_votes_and_runs_and_the_instructor_sees_the_vote(serve, browser, page, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    votes = VoteStore(str(tmp_path / "votes.sqlite3"))
    url = serve(anisotropy_app(votes))

    page.goto(url + "?class=bio1")
    open_tab(page, "Text anisotropy")
    page.get_by_label(PREDICT_CHOICES["high"]).check()
    page.get_by_role("button", name="Run the experiment").click()
    page.get_by_text("Your prediction was right").filter(visible=True).first.wait_for(timeout=180_000)
    page.get_by_text("How class bio1 voted (1 vote)").filter(visible=True).first.wait_for()
    page.get_by_text("← you").filter(visible=True).first.wait_for()
    assert votes.distribution("anisotropy", "run", "bio1")["high"] == 1  # the link's class code reached the store
    # the student reloads and changes their mind: still one student, one vote (the browser kept its id)
    page.reload()
    open_tab(page, "Text anisotropy")
    page.get_by_label(PREDICT_CHOICES["middle"]).check()
    page.get_by_role("button", name="Run the experiment").click()
    page.get_by_text("(1) Somewhere around 0.3 to 0.6 ← you").filter(visible=True).first.wait_for(timeout=180_000)
    assert votes.distribution("anisotropy", "run", "bio1") == {"low": 0, "middle": 1, "high": 0}

    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        desk = teacher.new_page()
        desk.set_default_timeout(60_000)
        desk.goto(url + "?class=bio1")
        desk.get_by_role("button", name="Instructor", exact=True).click()  # from the Start page
        assert desk.get_by_label("Class code").input_value() == "bio1"  # taken from the link
        desk.get_by_label("Instructor token").fill("not-the-token")
        desk.get_by_role("button", name="Show the class's votes").click()
        desk.get_by_text("Wrong or missing instructor token").first.wait_for()
        desk.get_by_label("Instructor token").fill(TOKEN)
        desk.get_by_role("button", name="Show the class's votes").click()
        desk.get_by_text("Class bio1").filter(visible=True).first.wait_for()
        desk.get_by_text("100% (1) Somewhere around 0.3 to 0.6").filter(visible=True).first.wait_for()
        desk.get_by_text("the latest run in this class").filter(visible=True).first.wait_for()
        desk.locator("blockquote", has_text="separation AUC").filter(visible=True).first.wait_for()  # the reveal
        # live: a second student votes while the projected view refreshes itself
        desk.get_by_label("Refresh every 5 s").check()
        vote(student(url, "bio1"), "high")
        desk.get_by_text("(2 votes)").filter(visible=True).first.wait_for(timeout=20_000)
        desk.get_by_label("Refresh every 5 s").uncheck()
        desk.get_by_text("Measured: Above 0.7").filter(visible=True).first.wait_for()  # the run's answer, as a choice
        assert not desk.get_by_text("answer:").count() and not page.get_by_text("answer:").count()  # the note stays unseen

        # Reset without the box ticked: told so, nothing deleted, and the box can still be ticked
        desk.get_by_role("button", name="Reset this class").click()
        desk.locator(".toast-body", has_text="a reset cannot be undone").first.wait_for()
        assert votes.count("bio1") == 2
        sure = desk.get_by_label("Yes, delete this class's votes")
        sure.check(timeout=5_000)  # an error pill over it would make this time out
        assert sure.is_checked()

        # a class code that is none: the students' warning, and no class is shown or reset
        desk.get_by_label("Class code").fill("BIO 101")
        desk.get_by_role("button", name="Reset this class").click()
        desk.locator(".toast-body", has_text="`BIO 101` is not a class code").first.wait_for()
        assert votes.count("bio1") == 2
        desk.get_by_label("Class code").fill("bio1")
        sure.check()
        desk.get_by_role("button", name="Reset this class").click()
        desk.get_by_text("Class bio1: 2 votes deleted.").first.wait_for()
        assert votes.count("bio1") == 0
        desk.wait_for_function("() => !document.querySelector('input[type=checkbox]:checked')")  # unticked again
    finally:
        teacher.close()
