"""Issue 29, "class visible": scripted clients vote and read a tally through documented
endpoints that take the class as an explicit argument, and see no more than a page would."""
from __future__ import annotations

import ast

import pytest
from gradio_client import Client

from playground.classroom import VoteStore
from playground.classroom.phases import HELD
from playground.classroom.store import REVEAL, SHOW, VOTING
from test_classroom_app import TOKEN, anisotropy_app, run_anisotropy, student
from test_readme_examples import readme_example


@pytest.fixture
def served(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    votes = VoteStore(str(tmp_path / "votes.sqlite3"))
    return serve(anisotropy_app(votes)), votes


def test_vote_and_tally_take_the_class_as_an_argument(served):
    url, votes = served
    client = Client(url, verbose=False)
    described = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"class_code", "choice"} <= {p["parameter_name"] for p in described["/classroom_vote"]["parameters"]}
    assert "class_code" in {p["parameter_name"] for p in described["/classroom_tally"]["parameters"]}

    text, browser = client.predict("anisotropy", "run", "high", "BIO1", "", api_name="/classroom_vote")
    assert len(browser) == 32 and text.startswith("Class **bio1**") and "How class bio1 voted** (1 vote)" in text
    assert votes.distribution("anisotropy", "run", "bio1")["high"] == 1
    again, same = client.predict("anisotropy", "run", "low", "bio1", browser, api_name="/classroom_vote")
    assert same == browser and votes.count("bio1") == 1  # the same student changed their vote

    tally = client.predict("anisotropy", "run", "bio1", browser, api_name="/classroom_tally")
    assert tally == {"class": "bio1", "lab": "anisotropy", "question": "run", "phase": "self-paced", "round": 1,
                     "votes": 1, "counts": {"low": 1, "middle": 0, "high": 0}}
    # a client that has not voted sees how many voted, not how: as on the page
    assert client.predict("anisotropy", "run", "bio1", "", api_name="/classroom_tally")["counts"] is None
    assert client.predict("anisotropy", "run", "chem2", "", api_name="/classroom_tally")["votes"] == 0

    votes.set_phase("anisotropy", "run", VOTING, "bio1")  # led: hidden even from a voter until "show votes"
    led = client.predict("anisotropy", "run", "bio1", browser, api_name="/classroom_tally")
    assert led["phase"] == VOTING and led["votes"] == 1 and led["counts"] is None
    votes.set_phase("anisotropy", "run", SHOW, "bio1")
    assert client.predict("anisotropy", "run", "bio1", "", api_name="/classroom_tally")["counts"]["low"] == 1
    closed, _ = client.predict("anisotropy", "run", "high", "bio1", browser, api_name="/classroom_vote")
    assert "not counted" in closed and votes.distribution("anisotropy", "run", "bio1")["low"] == 1


def test_a_bad_class_code_or_question_is_refused_with_its_reason(served):
    url, votes = served
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="is not a class code"):
        client.predict("anisotropy", "run", "high", "bio 1", "", api_name="/classroom_vote")
    with pytest.raises(Exception, match="No question 'nope' in lab 'anisotropy'"):
        client.predict("anisotropy", "nope", "bio1", "", api_name="/classroom_tally")
    with pytest.raises(Exception, match="is not one of the choices"):
        client.predict("anisotropy", "run", "maybe", "bio1", "", api_name="/classroom_vote")
    assert votes.count() == 0


def test_the_readmes_api_example_runs_as_written_and_answers_what_it_says(served):
    url, votes = served
    code = readme_example("classroom-api")
    scope: dict = {}
    exec(code.replace("https://YOUR-SPACE.hf.space/", url), scope)  # noqa: S102 (the README's own example)
    said = ast.literal_eval("\n".join(line.lstrip("# ") for line in code.splitlines()[-2:]))
    assert scope["tally"] == said and votes.count("bio101") == 1


def test_a_run_through_the_api_is_held_back_while_its_question_is_led_before_the_reveal(served):
    """The run endpoint answers a scripted student as it answers the page: held while voting,
    the whole answer after the reveal, and always whole in a class nobody leads."""
    url, votes = served
    votes.set_phase("anisotropy", "run", VOTING, "bio1")
    bio = student(url, "bio1")
    held = run_anisotropy(bio)
    assert held[0] == HELD and held[1]["data"] == []  # the reveal, and the figures table as before any run
    with pytest.raises(Exception, match="Run the experiment first"):  # nor can a later button draw it
        bio.predict(api_name="/anisotropy_downloads")
    chem = student(url, "chem2")
    whole = run_anisotropy(chem)  # nobody leads chem2: the same run, whole
    assert "Your prediction was right" in whole[0] and whole[1]["data"]
    assert chem.predict(api_name="/anisotropy_downloads")  # its state came through: the files are written
    noted = votes.measured[("bio1", "anisotropy", "run")]  # the instructor has bio1's answer all the same
    assert len(noted) > 200 and whole[0].startswith(noted)
    votes.set_phase("anisotropy", "run", REVEAL, "bio1")
    assert run_anisotropy(student(url, "bio1"))[0] == whole[0]
