"""The vote store and the instructor's token check, without a server."""
from __future__ import annotations

import contextlib
import threading

import pytest
from conftest import read_only

from playground.classroom import DEFAULT_CLASS, VoteRefused, VoteStore, class_code
from playground.classroom.instructor import overview, token_ok
from playground.classroom.ui import bars


def store_at(path, **kwargs) -> VoteStore:
    """A store at ``path`` (a SQLite file or a database URL, e.g. the ``database_url`` fixture's) with question lab·q."""
    store = VoteStore(str(path), **kwargs)
    store.register("lab", "q", "Which?", ["a", "b", "c"])
    return store


@contextlib.contextmanager
def read_only_store(folder):
    """A store in ``folder`` holding s1's vote "a", opened again after its files were made read-only."""
    path = folder / "v.sqlite3"
    first = store_at(path)
    assert first.record("lab", "q", "a", "s1")
    first.close()
    with read_only(folder):
        store = store_at(path)
        yield store
        store.close()


def test_latest_vote_counts_once_per_student(database_url):
    store = store_at(database_url)
    assert store.record("lab", "q", "a", "s1")
    assert store.record("lab", "q", "b", "s1")  # changed their mind: only the latest counts
    assert store.record("lab", "q", "b", "s2")
    assert store.distribution("lab", "q") == {"a": 0, "b": 2, "c": 0}
    assert store.has_voted("lab", "q", "s1") and not store.has_voted("lab", "q", "s3")


def test_unknown_question_choice_or_class_code_is_refused(database_url):
    store = store_at(database_url)
    with pytest.raises(VoteRefused, match="Unknown question"):
        store.record("lab", "nope", "a", "s1")
    with pytest.raises(VoteRefused, match="not one of the choices"):
        store.record("lab", "q", "z", "s1")
    with pytest.raises(VoteRefused, match="class code"):
        store.record("lab", "q", "a", "s1", code="no spaces; drop table")
    assert store.count() == 0
    assert class_code("x' OR 1=1") == DEFAULT_CLASS and class_code("bio-101") == "bio-101"


def test_rate_limit_per_student(database_url):
    store = store_at(database_url, votes_per_minute=3)
    for _ in range(3):
        store.record("lab", "q", "a", "s1")
    with pytest.raises(VoteRefused, match="Too many votes"):
        store.record("lab", "q", "a", "s1")
    assert store.record("lab", "q", "a", "s2")  # another student is not held back


def test_two_class_codes_never_mix(database_url):
    store = store_at(database_url)
    store.record("lab", "q", "a", "s1", code="morning")
    store.record("lab", "q", "c", "s2", code="evening")
    assert store.distribution("lab", "q", "morning") == {"a": 1, "b": 0, "c": 0}
    assert store.distribution("lab", "q", "evening") == {"a": 0, "b": 0, "c": 1}
    assert "s2" not in store.export_csv("morning") and "s1" in store.export_csv("morning")
    store.reset("morning")
    assert store.count("morning") == 0 and store.count("evening") == 1


def test_new_round_keeps_the_first_and_counts_revotes_apart(database_url):
    store = store_at(database_url)
    store.record("lab", "q", "a", "s1")
    assert store.new_round("lab", "q") == 2
    assert not store.has_voted("lab", "q", "s1")
    store.record("lab", "q", "c", "s1")
    assert store.distribution("lab", "q", round_=1)["a"] == 1
    assert store.distribution("lab", "q") == {"a": 0, "b": 0, "c": 1}
    assert store.count() == 2


def test_votes_survive_a_restart(database_url):
    path = database_url
    store_at(path).record("lab", "q", "b", "s1", code="c1")
    again = store_at(path)  # a new store on the same file: the server restarted
    assert again.distribution("lab", "q", "c1")["b"] == 1


def test_concurrent_writers_lose_no_vote(database_url):
    store = store_at(database_url)

    def vote(i):
        store.record("lab", "q", "abc"[i % 3], f"s{i}")

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 40
    assert store.distribution("lab", "q") == {"a": 14, "b": 13, "c": 13}


def test_read_only_database_records_nothing_and_says_why(tmp_path):
    with read_only_store(tmp_path) as store:
        assert store.record("lab", "q", "b", "s2") is False
        assert "not being recorded" in store.problem and "could not be written" in store.problem
        assert "not being recorded" in overview(store, DEFAULT_CLASS)
        assert store.distribution("lab", "q") == {"a": 1, "b": 0, "c": 0}  # the earlier votes still read
        assert store.has_voted("lab", "q", "s1") and not store.has_voted("lab", "q", "s2")
    again = store_at(tmp_path / "v.sqlite3")  # writable again: recording resumes
    assert again.record("lab", "q", "b", "s2") and again.problem == ""


def test_unwritable_folder_records_nothing_and_says_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = store_at(blocker / "sub" / "v.sqlite3")  # cannot be created, even as root
    assert store.record("lab", "q", "a", "s1") is False
    assert "not being recorded" in store.problem
    assert store.distribution("lab", "q") == {"a": 0, "b": 0, "c": 0}


def test_token_is_compared_only_when_set(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_INSTRUCTOR_TOKEN", raising=False)
    assert not token_ok("") and not token_ok("anything")
    monkeypatch.setenv("PLAYGROUND_INSTRUCTOR_TOKEN", "s3cret")
    assert token_ok("s3cret") and not token_ok("s3cre") and not token_ok(None)


def test_bars_mark_the_students_own_vote():
    text = bars({"a": 3, "b": 1}, mine="b")
    assert "75% (3) a" in text and "25% (1) b ← you" in text and "4 votes" in text


def test_locked_database_records_nothing_and_recovers(tmp_path):
    import sqlite3

    path = tmp_path / "v.sqlite3"
    store = store_at(path, busy_timeout=0.2)
    store.record("lab", "q", "a", "s1")
    other = sqlite3.connect(str(path))
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        assert store.record("lab", "q", "b", "s2") is False
        assert "locked" in store.problem
    finally:
        other.rollback()
        other.close()
    assert store.record("lab", "q", "b", "s2") and store.problem == ""


def test_full_database_records_nothing_and_says_why(tmp_path):
    store = store_at(tmp_path / "v.sqlite3", busy_timeout=1)
    store.db.pool_size = 1  # one connection, so the cap below holds for every write
    assert store.problem == ""  # the schema is made
    with store.db._connection() as conn:  # cap the file at its present size, as a full disk would
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
    results = [store.record("lab", "q", "a", f"student-{i:04d}-{'x' * 200}") for i in range(200)]
    assert False in results  # the bound is 200 rows of 200+ bytes: a few pages
    assert "full" in store.problem and "not being recorded" in store.problem


def test_class_codes_ignore_case_and_a_trailing_full_stop_and_bad_ones_are_named():
    from playground.classroom.store import class_code_problem

    assert class_code("BIO1") == class_code("bio1.") == "bio1"
    assert class_code("bio 1") == DEFAULT_CLASS and "`bio 1` is not a class code" in class_code_problem("bio 1")
    assert class_code_problem("bio1") == class_code_problem("") == class_code_problem("default") == ""


def test_the_instructor_sees_the_measurement_without_the_students_verdict():
    from playground.contract.verdict import verdict, without_verdict

    reveal = verdict("**Your prediction was right:** above 0.7.") + "\n\nglove: 0.82 between domains."
    assert without_verdict(reveal) == "glove: 0.82 between domains."
    inline = verdict("You predicted *x*: right.") + " The most uniform τ was 0.1."
    assert without_verdict(inline) == "The most uniform τ was 0.1."
    assert without_verdict("no verdict at all") == "no verdict at all"


def test_every_verdict_is_worded_the_same_and_left_out_of_the_instructor_view():
    from playground.contract.verdict import judge, verdict, without_verdict

    assert "Your prediction was right:** *above 0.7*.<!--answer:other" in judge("above 0.7", "other", right=True)
    assert "Your prediction was right:** *above 0.7*" in judge("above 0.7", "above 0.7")
    wrong = judge("about 0", "above 0.7")
    assert "Not quite.** You predicted *about 0*; this run says *above 0.7*" in wrong
    assert "Not quite" in judge("it grows", "it did not grow", right=False)
    assert "You did not predict" in judge(None, "above 0.7") and "You did not predict" in judge("", "x")
    assert "This run says *above 0.7: nearly every text*" in judge(None, "Above 0.7: nearly every text")
    # a reveal that states the answer itself: the verdict does not repeat it
    assert judge("a", "a", answer_shown=True) == verdict("**Your prediction was right.**<!--answer:a-->")
    assert judge("a", "b", answer_shown=True) == verdict("**Not quite.** You predicted *a*.<!--answer:b-->")
    assert "This run says" not in judge(None, "b", answer_shown=True)
    # a choice reads as part of the sentence; names in capitals keep them
    assert judge("It rises: it learns", "It falls").endswith("You predicted *it rises: it learns*; this run says *it falls*."
                                                             "<!--answer:It falls--></span>")
    assert "*softmax (CLIP)*" in judge("softmax (CLIP)", "x") and "*SigLIP wins*" in judge("SigLIP wins", "x")
    for text in (wrong, judge(None, "x"), judge("x", "x")):
        assert without_verdict(text + " Measured: 0.82.") == "Measured: 0.82."


def test_the_export_names_the_class_the_choice_and_the_time_in_utc(database_url):
    store = VoteStore(database_url)
    store.register("lab", "q", "Which?", ["a", "b"], ["Answer A", "Answer B"])
    store.record("lab", "q", "b", "s1", "bio1")
    header, row = store.export_csv("bio1").splitlines()
    assert header == "class,lab,question,round,student,choice,choice_text,time"
    assert row.startswith("bio1,lab,q,1,s1,b,Answer B,") and row.endswith("+00:00")


def test_the_instructor_sees_the_measured_answer_as_the_questions_choice(database_url):
    from playground.contract.verdict import judge, measured_answer

    store = VoteStore(database_url)
    store.register("lab", "q", "Which?", ["lo", "hi"], ["Below 0.3", "Above 0.7: nearly all"])
    assert measured_answer(judge("x", "A & <b>", answer_shown=True)) == "A & <b>"  # escaped in, unescaped out
    store.note_measured("lab", "q", judge("Below 0.3", "Above 0.7: nearly all") + "\n\nglove: 0.82.", "c1")
    view = overview(store, "c1")
    assert "**Measured: Above 0.7: nearly all**" in view and "> glove: 0.82." in view
    store.note_measured("lab", "q", judge("hi", "below 0.3 or hi", answer_shown=True) + " tie.", "c2")
    assert "**Measured: Below 0.3 or Above 0.7: nearly all**" in overview(store, "c2")  # a tie, by value or text
    store.note_measured("lab", "q", judge(None, "sideways") + " odd.", "c3")  # no choice of this question
    assert "**Measured:**\n" in overview(store, "c3") and "> odd." in overview(store, "c3")


def test_after_a_new_round_the_instructor_sees_the_round_before_beside_it(database_url):
    store = store_at(database_url)
    for student, choice in (("s1", "a"), ("s2", "a"), ("s3", "b"), ("s4", "c")):
        store.record("lab", "q", choice, student)
    assert "**Votes** (4 votes)" in overview(store, DEFAULT_CLASS)
    store.new_round("lab", "q")
    store.record("lab", "q", "b", "s1")
    view = overview(store, DEFAULT_CLASS)
    assert "round 2" in view and "**Votes: round 1 → round 2** (4 → 1 vote):" in view
    lines = {line.rsplit(" ", 1)[-1]: line for line in view.splitlines() if line.startswith("- ")}
    assert "50% (2)" in lines["a"] and lines["a"].endswith("0% (0) a")  # round 1 → round 2, one line per choice
    assert "25% (1)" in lines["b"] and lines["b"].endswith("100% (1) b")


def test_a_new_round_or_reset_on_a_read_only_database_says_why(tmp_path):
    from playground.classroom.store import VotesUnwritable

    with read_only_store(tmp_path) as store:
        for action in (lambda: store.new_round("lab", "q"), lambda: store.reset()):
            with pytest.raises(VotesUnwritable, match="not being recorded: the database .* could not be written"):
                action()
        assert store.count() == 1 and store.current_round("lab", "q") == 1


def test_the_instructor_is_told_a_typed_class_code_is_none():
    from playground.classroom.instructor import typed_class

    assert typed_class("BIO1") == ("bio1", "") and typed_class("") == (DEFAULT_CLASS, "")
    code, problem = typed_class("BIO 101")
    assert code == DEFAULT_CLASS and "`BIO 101` is not a class code" in problem and "nothing was" in problem
