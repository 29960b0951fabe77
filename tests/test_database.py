"""playground.classroom.database: the same SQL against SQLite and a real PostgreSQL
(started on loopback by tests/pg_server.py), concurrent writers, transactions, migrations."""
from __future__ import annotations

import threading
import time

import pytest

from conftest import free_port, read_only
from playground.classroom.database import (
    DATABASE_URL_ENV, DatabaseError, Migration, PostgresDatabase, SQLiteDatabase, database_url, open_database,
    redacted, split_statements, to_format_placeholders,
)

SCHEMA = (
    Migration(1, "counters", (
        "CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)",
        "CREATE TABLE events (who TEXT NOT NULL, what TEXT NOT NULL, time DOUBLE PRECISION NOT NULL, "
        "PRIMARY KEY (who, what))",
    )),
)


@pytest.fixture
def db(database_url):
    database = open_database(database_url)
    database.migrate(SCHEMA)
    yield database
    database.close()


# --- without a database -------------------------------------------------------------------
def test_placeholders_become_psycopg_style_outside_quotes_and_percent_is_escaped():
    assert to_format_placeholders("SELECT ? , 'a?b%' FROM t WHERE x LIKE '%?' AND y = ?") == \
        "SELECT %s , 'a?b%%' FROM t WHERE x LIKE '%%?' AND y = %s"
    assert to_format_placeholders('SELECT "we?ird" , 5 % 2') == 'SELECT "we?ird" , 5 %% 2'


def test_a_script_splits_at_semicolons_outside_strings():
    assert split_statements("CREATE TABLE a (x TEXT);\n INSERT INTO a VALUES ('x;y');;\n") == \
        ("CREATE TABLE a (x TEXT)", "INSERT INTO a VALUES ('x;y')")


def test_the_url_picks_the_engine(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert database_url(str(tmp_path)) == f"sqlite:///{tmp_path}/classroom.sqlite3"
    assert isinstance(open_database(database_url(str(tmp_path))), SQLiteDatabase)
    assert isinstance(open_database(str(tmp_path / "x.db")), SQLiteDatabase)
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://u:secret@db:5432/class")
    assert database_url(str(tmp_path)) == "postgresql://u:secret@db:5432/class"
    pg = open_database()
    assert isinstance(pg, PostgresDatabase) and "secret" not in repr(pg)
    with pytest.raises(DatabaseError, match="Unknown database URL"):
        open_database("mysql://u@h/db")


def test_an_unreachable_server_is_a_database_error_without_the_password():
    pg = open_database(f"postgresql://u:hunter2@127.0.0.1:{free_port()}/class", busy_timeout=2)
    with pytest.raises(DatabaseError) as raised:
        pg.query("SELECT 1")
    assert "could not be opened" in str(raised.value) and "hunter2" not in str(raised.value)
    assert redacted("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"


# --- against both engines ---------------------------------------------------------------------
def test_an_upsert_inserts_then_updates_and_times_keep_their_precision(db):
    now = time.time()
    upsert = ("INSERT INTO events (who, what, time) VALUES (?, ?, ?) "
              "ON CONFLICT (who, what) DO UPDATE SET time = excluded.time")
    assert db.execute(upsert, ("ada", "vote", now)) == 1
    db.execute(upsert, ("ada", "vote", now + 0.25))
    assert db.query("SELECT who, what, time FROM events") == [("ada", "vote", now + 0.25)]
    assert db.query_one("SELECT time FROM events WHERE who = ?", ("nobody",)) is None


def test_quoted_question_marks_and_percents_reach_the_database_as_written(db):
    assert db.query("SELECT 'is it 50%?', ?", ("yes",)) == [("is it 50%?", "yes")]
    assert db.query("SELECT 'no parameters: 100%'") == [("no parameters: 100%",)]


def test_returning_gives_the_new_value_of_an_atomic_increment(db):
    bump = ("INSERT INTO counters (name, n) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET n = counters.n + 1 RETURNING n")
    assert [db.query_one(bump, ("round",))[0] for _ in range(3)] == [1, 2, 3]


def test_a_transaction_commits_together_or_not_at_all(db):
    with db.transaction() as tx:
        tx.execute("INSERT INTO counters VALUES (?, ?)", ("a", 1))
        tx.execute("INSERT INTO counters VALUES (?, ?)", ("b", 2))
        assert tx.query("SELECT COUNT(*) FROM counters") == [(2,)]  # its own writes, before commit
    with pytest.raises(ZeroDivisionError):
        with db.transaction() as tx:
            tx.execute("INSERT INTO counters VALUES (?, ?)", ("c", 3))
            1 / 0
    with pytest.raises(DatabaseError, match="could not be written"):
        with db.transaction() as tx:
            tx.execute("INSERT INTO counters VALUES (?, ?)", ("d", 4))
            tx.execute("INSERT INTO counters VALUES (?, ?)", ("a", 5))  # primary key taken
    assert db.query("SELECT name, n FROM counters ORDER BY name") == [("a", 1), ("b", 2)]
    db.execute("INSERT INTO counters VALUES (?, ?)", ("e", 5))  # the pool still serves after the failures
    assert db.query_one("SELECT COUNT(*) FROM counters") == (3,)


def test_concurrent_writers_from_threads_lose_nothing(database_url):
    """8 threads, each with 40 increments of one shared counter, 40 rows of its own and 10
    read-modify-write transactions, through two Database objects (as two replicas would)."""
    replicas = [open_database(database_url, pool_size=4), open_database(database_url, pool_size=4)]
    replicas[0].migrate(SCHEMA)
    bump = "INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1"
    errors = []

    def writer(i: int) -> None:
        db = replicas[i % 2]
        try:
            for j in range(40):
                db.execute(bump, ("shared",))
                db.execute("INSERT INTO events VALUES (?, ?, ?)", (f"w{i}", f"e{j}", time.time()))
            for _ in range(10):
                with db.transaction() as tx:
                    tx.execute(bump, ("pairs",))
                    tx.execute(bump, ("pairs",))
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db = replicas[0]
    assert db.query_one("SELECT n FROM counters WHERE name = ?", ("shared",)) == (8 * 40,)
    assert db.query_one("SELECT n FROM counters WHERE name = ?", ("pairs",)) == (8 * 10 * 2,)
    assert db.query_one("SELECT COUNT(*) FROM events") == (8 * 40,)
    for replica in replicas:
        replica.close()


def test_migrations_run_once_and_only_the_new_ones_later(database_url):
    db = open_database(database_url)
    assert db.schema_version() == 0
    assert db.migrate(SCHEMA) == [1]
    assert db.migrate(SCHEMA) == []  # a restart: nothing to do
    db.execute("INSERT INTO counters VALUES (?, ?)", ("kept", 7))
    grown = SCHEMA + (Migration(2, "notes", ("CREATE TABLE notes (text TEXT)",
                                              "ALTER TABLE counters ADD COLUMN label TEXT")),)
    assert db.migrate(grown) == [2]
    assert db.schema_version() == 2
    assert db.query("SELECT name, n, label FROM counters") == [("kept", 7, None)]
    assert db.query("SELECT version, name FROM schema_migrations ORDER BY version") == [(1, "counters"), (2, "notes")]
    with pytest.raises(ValueError, match="share a version"):
        db.migrate(grown + (Migration(2, "again", ()),))
    db.close()


def test_a_failing_migration_leaves_no_half_schema(database_url):
    db = open_database(database_url)
    broken = (Migration(1, "broken", ("CREATE TABLE half (x TEXT)", "CREATE TABLE oops (")),)
    with pytest.raises(DatabaseError):
        db.migrate(broken)
    assert db.schema_version() == 0
    assert db.migrate(SCHEMA) == [1]  # no table 'half' left behind to trip over
    with pytest.raises(DatabaseError):
        db.query("SELECT * FROM half")
    db.close()


def test_replicas_starting_together_migrate_once(database_url):
    """Four replicas run the migrations at the same moment: one applies them, none fails."""
    replicas = [open_database(database_url) for _ in range(4)]
    results, errors = [], []
    start = threading.Barrier(len(replicas))

    def boot(db) -> None:
        start.wait()
        try:
            results.append(db.migrate(SCHEMA))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=boot, args=(db,)) for db in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == [[], [], [], [1]]
    assert replicas[0].query_one("SELECT COUNT(*) FROM schema_migrations") == (1,)
    for db in replicas:
        db.close()


def test_on_a_read_only_disk_the_votes_already_there_are_still_read(tmp_path):
    db = open_database("sqlite:///" + str(tmp_path / "class" / "classroom.sqlite3"))
    db.migrate(SCHEMA)
    db.execute("INSERT INTO counters VALUES (?, ?)", ("kept", 3))
    db.close()
    with read_only(tmp_path / "class"):
        writable = open_database("sqlite:///" + str(tmp_path / "class" / "classroom.sqlite3"))
        with pytest.raises(DatabaseError):
            writable.execute("INSERT INTO counters VALUES (?, ?)", ("new", 1))
        reader = writable.read_only_copy()
        assert reader.query("SELECT name, n FROM counters") == [("kept", 3)]
        with pytest.raises(DatabaseError, match="could not be written"):
            reader.execute("INSERT INTO counters VALUES (?, ?)", ("new", 1))
        writable.close()
        reader.close()
    assert open_database(str(tmp_path / "missing.sqlite3")).read_only_copy().schema_version() == 0


def test_a_dropped_postgres_connection_fails_one_statement_then_is_replaced(postgres_server):
    """A server restart or a network cut breaks pooled connections: the statement that meets
    one raises DatabaseError, the broken connection leaves the pool, the next one reconnects."""
    import psycopg

    db = open_database(postgres_server.new_database(), pool_size=1)
    db.migrate(SCHEMA)
    (pid,) = db.query_one("SELECT pg_backend_pid()")
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DatabaseError):
        db.query("SELECT 1")
    assert db.query_one("SELECT 1") == (1,)
    assert db.query_one("SELECT pg_backend_pid()") != (pid,)
    db.close()
