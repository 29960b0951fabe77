"""Classroom mode served: votes through gradio_client, the bars only after one's own
vote, class codes kept apart, the instructor view and its token, a broken database."""
from __future__ import annotations

import contextlib
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from conftest import read_only

from playground import collect_labs, create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.classroom import VoteStore
from playground.classroom.ui import NOT_STORED
from playground.contract.testing import student_client
from playground.contract.verdict import without_verdict

PLUGINS = ("playground.contract.default_models", "plugins.anisotropy")
TOKEN = "teacher-token-123"


_registries = []  # one registry for the module: each model loads once


def anisotropy_app(votes: VoteStore):
    pm = create_plugin_manager(builtins=PLUGINS, entry_points=False)
    if not _registries:
        _registries.append(create_registry(pm, device="cpu"))
    return build_app(pm, _registries[0], votes=votes)


def student(url: str, code: str = "") -> Client:
    """One student's browser: their own session, their class's link."""
    headers = {"Referer": f"{url}?class={code}"} if code else None
    return student_client(url, headers=headers)


def vote(client: Client, choice, api_name: str = "/anisotropy_class_run") -> str:
    """Send a prediction as a browser does after a run (no id in its localStorage yet); the bars' text."""
    text, browser = client.predict(choice, None, api_name=api_name)
    assert len(browser) == 32  # the anonymous id the browser keeps
    return text


@pytest.fixture
def served(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    votes = VoteStore(str(tmp_path / "votes.sqlite3"))
    demo = anisotropy_app(votes)
    return serve(demo), votes, demo


def test_thirty_concurrent_students_vote_and_run_and_no_vote_is_lost(served):
    url, votes, demo = served
    choices = ["low", "middle", "high"]

    def one_student(i):
        client = student(url)
        run_anisotropy(client, seed=i % 3, prediction=choices[i % 3])
        return vote(client, choices[i % 3])

    with ThreadPoolExecutor(max_workers=30) as pool:
        shown = list(pool.map(one_student, range(30), timeout=600))
    assert votes.count() == 30  # every vote is in the database
    assert votes.distribution("anisotropy", "run") == {"low": 10, "middle": 10, "high": 10}
    assert all("How your class voted" in text and "← you" in text for text in shown)
    # three seeds among the thirty runs: three computed, the other 27 from the result cache
    assert (demo.playground_results.misses, demo.playground_results.hits) == (3, 27)


def test_bars_only_after_ones_own_vote_and_class_codes_never_mix(served):
    url, votes, _ = served
    quiet, loud, other = student(url, "bio1"), student(url, "bio1"), student(url, "chem2")
    vote(loud, "high")
    assert "voted (" not in vote(quiet, None)
    other_text = vote(other, "low")
    assert "(1 vote)" in other_text and "100% (1) " in other_text  # chem2 sees only its own vote
    quiet_text = vote(quiet, "middle")
    assert "(2 votes)" in quiet_text and "← you" in quiet_text
    assert votes.distribution("anisotropy", "run", "bio1") == {"low": 0, "middle": 1, "high": 1}
    assert votes.distribution("anisotropy", "run", "chem2") == {"low": 1, "middle": 0, "high": 0}
    with pytest.raises(Exception, match="not in the list of choices|not one of the choices"):
        vote(quiet, "sideways")


def test_one_browser_keeps_one_vote_across_reloads(served):
    url, votes, _ = served
    _, kept = student(url).predict("high", None, api_name="/anisotropy_class_run")
    # the page reloaded: a new session, the same id from the browser's localStorage
    text, again = student(url).predict("low", kept, api_name="/anisotropy_class_run")
    assert again == kept and "(1 vote)" in text
    assert votes.distribution("anisotropy", "run") == {"low": 1, "middle": 0, "high": 0}
    for path in (votes.path, votes.path + "-wal"):  # only its hash is stored
        if os.path.exists(path):
            assert kept.encode() not in open(path, "rb").read()


def run_anisotropy(client: Client, seed: int = 0, prediction="high", models=("glove", "minilm")):
    return client.predict(*models, None, seed, 0.1, "after", "pca", prediction, "total",
                          api_name="/anisotropy_run")


def test_instructor_view_refuses_a_wrong_token_and_shows_its_class(served, tmp_path):
    url, votes, demo = served
    import gradio as gr

    picker = next(b for b in demo.blocks.values() if isinstance(b, gr.Dropdown) and b.label == "Question to lead")
    text = votes.questions[("anisotropy", "run")].text  # the re-vote list names each question by its words
    assert (f"anisotropy: {text}", "anisotropy · run") in picker.choices
    bio, chem = student(url, "bio1"), student(url, "chem2")
    bio_reveal = run_anisotropy(bio, seed=0)[0]
    vote(bio, "high")
    chem_reveal = run_anisotropy(chem, prediction="low", models=("minilm", "glove"))[0]
    vote(chem, "low")
    assert votes.measured[("chem2", "anisotropy", "run")] == chem_reveal[:1200]
    teacher = Client(url, verbose=False)
    for wrong in ("", "teacher-token-12", "x" * 40):
        with pytest.raises(Exception, match="Wrong or missing instructor token"):
            teacher.predict(wrong, "bio1", api_name="/classroom_votes")
        with pytest.raises(Exception, match="Wrong or missing instructor token"):
            teacher.predict(wrong, "bio1", api_name="/classroom_export")
    view = teacher.predict(TOKEN, "bio1", api_name="/classroom_votes")
    assert "anisotropy · run" in view and "100% (1) Above 0.7" in view and "(1) About 0" not in view
    # the measurement of bio1's own run, without its student's verdict; nothing of chem2's
    measurement = lambda reveal: without_verdict(reveal).splitlines()[0]  # noqa: E731
    assert measurement(bio_reveal) in view and measurement(chem_reveal) not in view
    assert "Your prediction was right" in bio_reveal and "Your prediction" not in view
    assert "*No votes or runs yet:* anisotropy · postprocess" in view  # the quiet question, in one line
    made = teacher.predict(TOKEN, "bio1", api_name="/classroom_export")
    assert re.fullmatch(r"votes-bio1-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d-UTC\.csv", os.path.basename(made))  # when made
    exported = open(made).read().splitlines()
    assert exported[0] == "class,lab,question,round,student,choice,choice_text,time"
    assert len(exported) == 2 and exported[1].startswith("bio1,anisotropy,run,1,")
    assert ",high,Above 0.7: nearly every text points the same way," in exported[1]
    assert "**Measured: Above 0.7" in view  # the measured answer as the question's choice
    view, export = teacher.predict(TOKEN, "bio1", "anisotropy · run", api_name="/classroom_new_round")
    assert "`anisotropy · run`, round 2" in view and "**Votes: round 1 → round 2** (1 → 0 votes)" in view
    assert export is None  # the export of round 1 is no longer on offer
    view, _ = teacher.predict(TOKEN, "bio1", False, api_name="/classroom_reset")  # not confirmed: nothing goes
    assert "cannot be undone. Nothing was deleted." in view and votes.count("bio1") == 1
    teacher.predict(TOKEN, "bio1", True, api_name="/classroom_reset")
    assert votes.count("bio1") == 0 and votes.count("chem2") == 1
    assert ("bio1", "anisotropy", "run") not in votes.measured and ("chem2", "anisotropy", "run") in votes.measured


def test_a_link_with_a_bad_class_code_says_so(served):
    url, votes, _ = served
    text = vote(student(url, "bio 1"), "high")  # a space: not a class code
    assert "`bio 1` is not a class code" in text and "How your class voted** (1 vote)" in text
    assert votes.distribution("anisotropy", "run", "default")["high"] == 1
    text = vote(student(url, "BIO1."), "low")  # upper case and a full stop from a chat message: still bio1
    assert "not a class code" not in text and "How class bio1 voted** (1 vote)" in text


def test_the_measured_answer_is_the_servers_own_not_a_clients(served):
    """The instructor's "measured" is what a run returned; the vote endpoint takes no reveal,
    so a crafted call cannot put words there."""
    url, votes, _ = served
    crafted = student(url, "bio1")
    try:  # the old three-argument call, with a made-up reveal: refused or ignored
        crafted.predict("high", None, "The measurement says: GloVe wins.", api_name="/anisotropy_class_run")
    except Exception:
        pass
    assert ("bio1", "anisotropy", "run") not in votes.measured  # a vote alone measures nothing
    reveal = run_anisotropy(crafted)[0]
    assert votes.measured[("bio1", "anisotropy", "run")] == reveal[:len(votes.measured[("bio1", "anisotropy", "run")])]
    view = Client(url, verbose=False).predict(TOKEN, "bio1", api_name="/classroom_votes")
    assert "GloVe wins" not in view and without_verdict(reveal).splitlines()[0] in view


def test_no_instructor_view_without_the_variable(serve, tmp_path, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_INSTRUCTOR_TOKEN", raising=False)
    demo = anisotropy_app(VoteStore(str(tmp_path / "votes.sqlite3")))
    students_api = {"classroom_vote", "classroom_tally"}  # a student's own vote and tally: always there
    assert {str(fn.api_name) for fn in demo.fns.values() if str(fn.api_name).startswith("classroom_")} == students_api
    client = Client(serve(demo), verbose=False)
    described = str(client.view_api(return_format="dict"))
    assert "classroom_votes" not in described and "classroom_reveal" not in described and "classroom_new_round" not in described


def test_data_survives_a_server_restart(serve, tmp_path):
    path = str(tmp_path / "votes.sqlite3")
    first = anisotropy_app(VoteStore(path))
    vote(student(serve(first), "bio1"), "low")
    first.close()
    second_url = serve(anisotropy_app(VoteStore(path)))  # a fresh process would do the same
    text = vote(student(second_url, "bio1"), "high")
    assert "(2 votes)" in text


def test_an_unwritable_database_leaves_the_lab_working(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    votes = VoteStore(str(blocker / "votes.sqlite3"))
    url = serve(anisotropy_app(votes))
    client = student(url)
    out = run_anisotropy(client)
    assert "You predicted" in out[0] or "predict" in out[0].lower()
    text = vote(client, "high")
    assert text == f"Class **default**\n\n{NOT_STORED}"  # the class, then one sentence: no "pick a prediction" to a student who did
    view = Client(url, verbose=False).predict(TOKEN, "", api_name="/classroom_votes")
    assert "Votes are not being recorded" in view


@pytest.mark.parametrize("broken", ["read-only file", "folder is a file"])
def test_every_lab_builds_and_answers_its_votes_when_the_database_cannot_be_written(serve, tmp_path, broken):
    from playground import create_registry

    if broken == "read-only file":  # last week's votes, on a disk that is now read-only
        path = tmp_path / "class" / "votes.sqlite3"
        earlier = VoteStore(str(path))
        earlier.register("anisotropy", "run", "?", ["low", "middle", "high"])
        assert earlier.record("anisotropy", "run", "high", "someone")
        earlier.close()
        guard = read_only(path.parent)
    else:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the data folder should be")
        path, guard = blocker / "votes.sqlite3", contextlib.nullcontext()
    with guard:
        votes = VoteStore(str(path))
        pm = create_plugin_manager(entry_points=False)
        demo = build_app(pm, create_registry(pm, device="cpu"), votes=votes)
        assert not pm.errors  # every built-in lab built
        labs = {lab for lab, _ in votes.questions}
        assert labs == {lab.id for lab in collect_labs(pm)}  # every built-in lab asks its class a question
        assert {"anisotropy", "objectives", "siglip_variants", "simclr"} <= labs
        client = Client(serve(demo), verbose=False)
        reveal = client.predict("glove", None, "cosine", "random", None, 20, 100, 0, 0.2, "it never falls",
                                api_name="/triplet_margin_run")[0]
        assert "Your prediction was right." in reveal and "It never falls." in reveal  # a lab runs
        assert "separation AUC" in run_anisotropy(client)[0]
        for (lab, question), q in sorted(votes.questions.items()):
            text = vote(client, q.choices[0], f"/{lab}_class_{question}")
            assert "This vote was not counted: the server cannot write" in text, (lab, question)
        assert "not being recorded" in votes.problem
        if broken == "read-only file":
            assert votes.distribution("anisotropy", "run")["high"] == 1  # the earlier votes still read


def test_an_instructor_class_code_that_is_none_touches_no_class(served):
    url, votes, _ = served
    vote(student(url), "high")  # a vote in the class default
    teacher = Client(url, verbose=False)
    view = teacher.predict(TOKEN, "BIO 101", api_name="/classroom_votes")
    assert "`BIO 101` is not a class code" in view and "Class `default`" not in view
    view, _ = teacher.predict(TOKEN, "BIO 101", "anisotropy · run", api_name="/classroom_new_round")
    assert "is not a class code" in view and votes.current_round("anisotropy", "run") == 1
    view, _ = teacher.predict(TOKEN, "BIO 101", True, api_name="/classroom_reset")
    assert "is not a class code" in view and votes.count("default") == 1  # default's votes are still there
    assert teacher.predict(TOKEN, "BIO 101", api_name="/classroom_export") == {"__type__": "update"}  # no file


def test_a_vote_over_the_limit_is_not_counted_and_the_student_is_told(serve, tmp_path):
    votes = VoteStore(str(tmp_path / "votes.sqlite3"), votes_per_minute=2)
    url = serve(anisotropy_app(votes))
    client = student(url)
    _, browser = client.predict("low", None, api_name="/anisotropy_class_run")
    client.predict("middle", browser, api_name="/anisotropy_class_run")
    text, _ = client.predict("high", browser, api_name="/anisotropy_class_run")  # the third in a minute
    assert text.startswith("Class **default**\n\n⚠ *This vote was not counted: a browser can vote at most 2 times a minute")
    assert "(1 vote)" in text and "← you" not in text  # the bars still show; this choice is not in them
    assert votes.distribution("anisotropy", "run") == {"low": 0, "middle": 1, "high": 0}


def test_a_new_round_or_reset_on_a_read_only_database_says_why(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", TOKEN)
    path = tmp_path / "class" / "votes.sqlite3"
    earlier = VoteStore(str(path))
    earlier.register("anisotropy", "run", "?", ["low", "middle", "high"])
    assert earlier.record("anisotropy", "run", "high", "someone")
    earlier.close()
    with read_only(path.parent):
        votes = VoteStore(str(path))
        teacher = Client(serve(anisotropy_app(votes)), verbose=False)
        view, _ = teacher.predict(TOKEN, "", "anisotropy · run", api_name="/classroom_new_round")
        assert view.startswith("⚠ No new round started. Votes are not being recorded: the database")
        assert "could not be written (attempt to write a readonly database)" in view
        view, _ = teacher.predict(TOKEN, "", True, api_name="/classroom_reset")
        assert view.startswith("⚠ Nothing was deleted. Votes are not being recorded") and votes.count() == 1
