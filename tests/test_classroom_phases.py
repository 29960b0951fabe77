"""Issue 29 without a server: the secret that signs stored ids lives in the vote database,
an instructor's phases are stored per class and question, and each phase's student panel
shows only what the phase allows (no spread while voting)."""
from __future__ import annotations

import pytest
from conftest import read_only

from playground.classroom.phases import CLOSED, led_panel
from playground.contract.verdict import judge
from playground.classroom.store import PHASES, REVEAL, REVOTE, SHOW, VOTING, VoteStore

# a reveal as a lab's run writes it: the student's verdict (which notes the measured choice), then the measurement
REVEAL_TEXT = judge("Choice A", "Choice B") + "\n\nMeasured AUC 0.93."


def store_at(path) -> VoteStore:
    store = VoteStore(str(path))
    store.register("lab", "q", "Which?", ["a", "b"], ["Choice A", "Choice B"])
    return store


def test_the_browser_secret_is_kept_in_the_database_across_restarts(database_url, tmp_path):
    first = store_at(database_url)
    secret = first.secret("browser-state")
    assert len(secret) == 32 and first.secret("browser-state") == secret
    first.close()
    assert store_at(database_url).secret("browser-state") == secret  # a new process, the same file
    assert store_at(tmp_path / "other.sqlite3").secret("browser-state") != secret  # another file, another secret


def test_a_read_only_database_still_gives_its_secret(tmp_path):
    first = store_at(tmp_path / "v.sqlite3")
    secret = first.secret("browser-state")
    first.close()
    with read_only(tmp_path):
        again = store_at(tmp_path / "v.sqlite3")
        assert again.secret("browser-state") == secret


def test_phases_are_stored_per_class_and_a_revote_starts_a_round(database_url):
    store = store_at(database_url)
    assert store.phase("lab", "q", "bio1") == ("", 1, "")  # self-paced until an instructor leads it
    assert store.set_phase("lab", "q", VOTING, "bio1") == 1
    assert store.set_phase("lab", "q", SHOW, "bio1") == 1
    assert store.set_phase("lab", "q", REVOTE, "bio1") == 2
    assert store.set_phase("lab", "q", REVEAL, "bio1", measured=REVEAL_TEXT) == 2
    assert store.phase("lab", "q", "bio1") == (REVEAL, 2, REVEAL_TEXT)
    assert store.phases_of("bio1") == {("lab", "q"): (REVEAL, 2)}
    assert store.phases_of("chem2") == {} and store.phase("lab", "q", "chem2") == ("", 1, "")
    with pytest.raises(ValueError, match="not a phase"):
        store.set_phase("lab", "q", "discuss", "bio1")
    store.reset("bio1")
    assert store.phases_of("bio1") == {} and store.current_round("lab", "q", "bio1") == 1
    assert PHASES == (VOTING, SHOW, REVOTE, REVEAL)


def test_each_phase_shows_students_only_what_it_allows(database_url):
    store = store_at(database_url)
    q = store.questions[("lab", "q")]
    store.record("lab", "q", "a", "s1", "bio1")
    store.record("lab", "q", "b", "s2", "bio1")

    voting = led_panel(store, q, "bio1", "s1", VOTING, 1, "")
    assert "Your vote counted" in voting and "Choice A" in voting
    assert "%" not in voting and "Choice B" not in voting  # no spread, not even the other choice
    assert "not voted in round 1" in led_panel(store, q, "bio1", "s3", VOTING, 1, "")

    shown = led_panel(store, q, "bio1", "s3", SHOW, 1, "")  # every student sees it, voter or not
    assert "How class bio1 voted, round 1** (2 votes)" in shown and "50% (1) Choice A" in shown

    store.set_phase("lab", "q", REVOTE, "bio1")
    revote = led_panel(store, q, "bio1", "s1", REVOTE, 2, "")
    assert "Round 2: vote again" in revote and "not voted in round 2" in revote and "%" not in revote
    store.record("lab", "q", "b", "s1", "bio1")

    reveal = led_panel(store, q, "bio1", "s1", REVEAL, 2, REVEAL_TEXT)
    assert "**Round 1** (2 votes)" in reveal and "**Round 2** (1 vote)" in reveal
    assert "**Measured: Choice B**" in reveal and "Measured AUC 0.93." in reveal
    assert "Not quite" not in reveal and "not quite" not in reveal  # the verdict was one student's own
    assert "No run in this class" in led_panel(store, q, "bio1", "s1", REVEAL, 2, "")
    assert "not counted" in CLOSED


def test_a_poll_that_reaches_a_server_without_the_pages_session_says_trained_models_are_gone(tmp_path):
    """Behind a load balancer a student's replica may die: the survivor answers the page's next
    poll without the session the page's load filled, so the panel says what was lost."""
    from types import SimpleNamespace

    import gradio as gr

    from playground.classroom.ui import SESSION_LOST, ClassVotes, Classroom

    store = VoteStore(str(tmp_path / "v.sqlite3"))
    with gr.Blocks():
        room = Classroom(store, led=True)
        ClassVotes(SimpleNamespace(lab_id="lab", classroom=room), "q",
                   gr.Radio([("Choice A", "a"), ("Choice B", "b")], label="Which?"), gr.Markdown())
    store.set_phase("lab", "q", SHOW)
    *panels, seen = room.redraw(None, {}, None)  # the page's load, on its own server
    assert seen and SESSION_LOST not in panels[0]
    assert room.poll(None, seen, None)[0] == gr.skip()  # a poll on the same server: nothing changed, nothing redrawn
    *panels, seen_again = room.poll(None, {}, None)  # a poll on a server that never saw the page
    assert panels[0].startswith(SESSION_LOST) and "Class **default**" in panels[0] and seen_again == seen


def test_a_run_led_before_its_reveal_holds_its_answer_back_and_gives_it_at_the_reveal(tmp_path):
    """Peer instruction needs the class to vote and discuss before anyone sees the answer, yet a
    vote is cast by running. While an instructor leads a question of a run in voting, show votes
    or re-vote, the run's reveals say it is held and its figures stay empty (what it keeps, a
    ``gr.State``, still arrives); at the reveal the student's own result is given back without a
    second run. Two questions on one run (as in the objectives lab): either one led holds it."""
    from types import SimpleNamespace

    import gradio as gr
    from gradio.context import LocalContext

    from playground.classroom.phases import HELD, RELEASE
    from playground.classroom.ui import ClassVotes, Classroom

    store = VoteStore(str(tmp_path / "v.sqlite3"))
    with gr.Blocks() as demo:
        room = Classroom(store, led=True)
        ctx = SimpleNamespace(lab_id="lab", classroom=room)
        panels = [ClassVotes(ctx, q, gr.Radio([("Choice A", "a"), ("Choice B", "b")], label=q), gr.Markdown())
                  for q in ("q1", "q2")]
        plot, kept, table = gr.Plot(), gr.State(), gr.Dataframe(value={"headers": ["(empty)"], "data": []})
        models = gr.Dropdown(["glove"], allow_custom_value=True)
        event = gr.Button().click(lambda: None, None, [panels[0].reveal, plot, panels[1].reveal, kept, table, models])
        for panel in panels:
            panel.after(event)
    block_fn = demo.fns[event["id"]]
    watch = block_fn.playground_watch
    assert watch.shown == [panels[0].reveal, plot, panels[1].reveal, kept, table]
    assert panels[0].release.value == RELEASE
    answer = ("First: " + REVEAL_TEXT, {"data": [1]}, "Second: measured 0.5.", "the run's state",
              {"headers": ["AUC"], "data": [[0.9]]}, gr.update(choices=["glove", "my-model"]))
    watch.run = lambda: answer

    def request_of(code: str, session: str):
        return SimpleNamespace(session_hash=session, query_params={"class": code}, headers={})

    def run_in(code: str, session: str):
        LocalContext.request.set(request_of(code, session))
        return block_fn.fn()

    assert run_in("bio1", "s1") == answer  # nobody leads yet: self-paced, all shown
    store.set_phase("lab", "q2", VOTING, "bio1")  # only the second question is led: the run is held
    # held: the reveals say so, the rest as the page was before any run (no state a later button
    # could draw the answer from), the model list passes
    assert run_in("bio1", "s1") == (HELD, None, HELD, None, table.value, answer[5])
    assert run_in("chem2", "s2") == answer  # another class, not led
    assert store.measured[("bio1", "lab", "q1")].startswith("First: ")  # the instructor still gets both answers
    assert store.measured[("bio1", "lab", "q2")] == "Second: measured 0.5."
    request = request_of("bio1", "s1")
    assert watch.holds(request) and watch.released(request) == [gr.skip()] * 5  # not before the reveal
    assert not watch.holds(request_of("chem2", "s2"))

    for phase in (SHOW, REVOTE):
        store.set_phase("lab", "q2", phase, "bio1")
        assert run_in("bio1", "s1")[:3] == (HELD, None, HELD)
    store.set_phase("lab", "q2", REVEAL, "bio1")
    assert watch.released(request) == list(answer[:5]) and not watch.holds(request)  # given once, then gone
    assert run_in("bio1", "s1") == answer  # at the reveal a run shows everything
    assert not watch.holds(request)
