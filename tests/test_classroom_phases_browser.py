"""Issue 29 in Chromium: a reload after a server restart is the same student, and three
students follow an instructor through voting → show votes → re-vote → reveal, each phase
reaching their pages without a reload, the spread hidden until "show votes"."""
from __future__ import annotations

import contextlib

import pytest

from conftest import free_port, launch, open_tab, screenshotted_page
from playground.classroom import VoteStore
from playground.classroom.phases import RELEASE
from plugins.anisotropy.compute import PREDICT_CHOICES
from test_classroom_app import TOKEN, anisotropy_app

RUN = "Run the experiment"


def predict_and_run(page, choice: str) -> None:
    page.get_by_label(PREDICT_CHOICES[choice]).check()
    page.get_by_role("button", name=RUN).click()


def shown(page, text: str, timeout: float = 60_000) -> None:
    page.get_by_text(text).filter(visible=True).first.wait_for(timeout=timeout)


@pytest.mark.browser
def test_one_browser_votes_the_server_restarts_and_a_reload_is_the_same_student(page, tmp_path):
    path, port = str(tmp_path / "votes.sqlite3"), free_port()
    first = anisotropy_app(VoteStore(path))
    url = launch(first, port)
    try:
        page.goto(url + "?class=bio1")
        open_tab(page, "Text anisotropy")
        predict_and_run(page, "high")
        shown(page, "How class bio1 voted (1 vote)", timeout=180_000)
    finally:
        first.close()
    votes = VoteStore(path)  # a new process would open the same file
    second = anisotropy_app(votes)
    assert launch(second, port) == url  # the same origin, so the browser's localStorage is the same
    try:
        page.reload()
        open_tab(page, "Text anisotropy")
        predict_and_run(page, "middle")
        shown(page, "(1) Somewhere around 0.3 to 0.6 ← you", timeout=180_000)
        assert votes.distribution("anisotropy", "run", "bio1") == {"low": 0, "middle": 1, "high": 0}
        assert votes.count("bio1") == 1  # one student, one vote: the stored id still opened
    finally:
        second.close()


@pytest.mark.browser
def test_three_students_follow_the_instructor_through_the_four_phases(browser, serve, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    votes = VoteStore(str(tmp_path / "votes.sqlite3"))
    url = serve(anisotropy_app(votes)) + "?class=bio1"
    question = votes.questions[("anisotropy", "run")].text
    with contextlib.ExitStack() as pages:
        desk = pages.enter_context(screenshotted_page(browser, "phases-instructor"))
        students = [pages.enter_context(screenshotted_page(browser, f"phases-student-{i}", 1000, 900))
                    for i in range(3)]
        for page in students:  # each student has the lab open before the lecture starts
            page.goto(url)
            shown(page, "You are in class bio1")  # the Start page names the class
            open_tab(page, "Text anisotropy")
        desk.goto(url)
        desk.get_by_role("button", name="Instructor", exact=True).click()
        desk.get_by_label("Instructor token").fill(TOKEN)
        desk.get_by_label("Question to lead").click()
        desk.get_by_role("option", name=f"anisotropy: {question}").click()

        def lead(button: str, on_students: str) -> None:
            desk.get_by_role("button", name=button).click()
            desk.locator(".toast-body", has_text="Students' pages follow").first.wait_for()
            for page in students:  # no reload: the page's poll brings the phase
                shown(page, on_students, timeout=20_000)

        def no_spread() -> None:
            for page in students:
                assert not page.get_by_text("voted, round").count() and not page.get_by_text("← you").count()

        lead("1 · Voting", "Pick your prediction and run")
        for page, choice in zip(students, ("high", "high", "low")):
            predict_and_run(page, choice)
        for page in students:
            shown(page, "Your vote counted", timeout=180_000)
            shown(page, "Your run finished.")  # the answer is held back too, not only the spread
            assert not page.get_by_text("Your prediction was right").count()
        no_spread()
        students[0].get_by_role("button", name=RELEASE).click()  # too early: it says so
        students[0].locator(".toast-body", has_text="held back until your instructor's reveal").first.wait_for()
        assert votes.distribution("anisotropy", "run", "bio1") == {"low": 1, "middle": 0, "high": 2}
        students[2].wait_for_timeout(4_000)  # a poll later: still nothing of the spread
        no_spread()

        lead("2 · Show votes", "How class bio1 voted, round 1 (3 votes)")
        shown(students[2], f"33% (1) {PREDICT_CHOICES['low']} ← you")

        lead("3 · Re-vote (new round)", "Round 2: vote again")
        no_spread()
        predict_and_run(students[2], "high")  # convinced by the discussion
        shown(students[2], "Your vote counted (round 2)", timeout=180_000)

        lead("4 · Reveal", "Measured: Above 0.7")
        for page in students:
            shown(page, "Round 1 (3 votes)")
            shown(page, "Round 2 (1 vote)")
        students[0].get_by_role("button", name=RELEASE).click()  # the run they made while voting, not run again
        shown(students[0], "Your prediction was right")
        assert votes.distribution("anisotropy", "run", "bio1", round_=2) == {"low": 0, "middle": 0, "high": 1}
