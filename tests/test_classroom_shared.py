"""Issue 32 without a server: two VoteStores on one database stand for two replicas; what
must agree across them (votes, rounds, phases, measured answers, the rate limiter, the
signing secret) is read back through the other. Runs on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import threading

import pytest

from playground.classroom.store import REVEAL, REVOTE, TooManyVotes, VoteStore


def replicas(url, n=2, **kwargs) -> list[VoteStore]:
    stores = [VoteStore(url, **kwargs) for _ in range(n)]
    for store in stores:
        store.register("lab", "q", "Which?", ["a", "b"])
    return stores


def test_the_database_url_comes_from_the_environment(database_url, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATABASE_URL", database_url)
    store = VoteStore()
    assert store.db.kind == ("postgresql" if database_url.startswith("postgresql") else "sqlite")
    store.register("lab", "q", "Which?", ["a", "b"])
    assert store.record("lab", "q", "a", "s1") and replicas(database_url)[0].count() == 1


def test_without_a_url_the_store_is_a_sqlite_file_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DATABASE_URL", raising=False)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    store = VoteStore()
    assert store.db.kind == "sqlite" and store.path == str(tmp_path / "classroom.sqlite3")


def test_two_replicas_share_votes_rounds_phases_and_measured_answers(database_url):
    one, two = replicas(database_url)
    assert one.record("lab", "q", "a", "s1", code="c") and two.record("lab", "q", "b", "s2", code="c")
    assert one.distribution("lab", "q", "c") == two.distribution("lab", "q", "c") == {"a": 1, "b": 1}
    two.note_measured("lab", "q", "Measured: b.", "c")
    assert one.measured[("c", "lab", "q")] == "Measured: b." and ("c", "lab", "q") in one.measured
    assert one.set_phase("lab", "q", REVOTE, "c") == 2 and two.phase("lab", "q", "c") == (REVOTE, 2, "")
    assert two.new_round("lab", "q", "c") == 3 and one.current_round("lab", "q", "c") == 3
    two.set_phase("lab", "q", REVEAL, "c", measured=one.measured[("c", "lab", "q")])
    assert one.phases_of("c") == {("lab", "q"): (REVEAL, 3)} and one.phase("lab", "q", "c")[2] == "Measured: b."
    assert one.reset("c") == 2 and ("c", "lab", "q") not in two.measured and two.current_round("lab", "q", "c") == 1


def test_the_rate_limit_holds_across_replicas(database_url):
    one, two = replicas(database_url, votes_per_minute=4)
    refused = []

    def vote(store, i):
        try:
            store.record("lab", "q", "ab"[i % 2], "s1")
        except TooManyVotes:
            refused.append(i)

    threads = [threading.Thread(target=vote, args=((one, two)[i % 2], i)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refused) == 6  # 4 counted, whichever replica each went to
    with pytest.raises(TooManyVotes):
        one.record("lab", "q", "a", "s1")
    assert two.record("lab", "q", "a", "s2")  # another student is not held back


def test_replicas_started_together_agree_on_one_signing_secret(database_url):
    stores = replicas(database_url, n=4)
    found = []
    threads = [threading.Thread(target=lambda s=s: found.append(s.secret("browser-state"))) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 4 and len(set(found)) == 1 and len(found[0]) == 32
