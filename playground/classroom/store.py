"""The class's votes in a database: who (an anonymous id) predicted what, for which lab
question, in which class and round. No gradio here.

The database is SQLite by default (a file in the data folder) or, with
``PLAYGROUND_DATABASE_URL=postgresql://…``, a PostgreSQL server that several replicas share
(playground/classroom/database.py). Everything the replicas must agree on is in it: votes,
rounds and phases, the measured answers, the vote rate limiter and the signing secret.

A vote is ``(lab, question, choice, student, time, class_code, round)``; only a
student's latest vote per question and round counts. An instructor may lead a question
through phases (``PHASES``: voting, show votes, re-vote, reveal); a question no instructor
has touched in a class has no phase and is self-paced. The secret that signs the
browsers' stored ids lives in the same database (``secret``), so a restart keeps every student.
All SQL is in this module. Questions and their choices are
registered first (``register``); a vote for anything else is refused. A database that
cannot be opened or written never raises into a lab: ``record`` then returns False and
``problem`` says why, for the instructor view; the instructor's changes raise
``VotesUnwritable`` with that reason.
"""
from __future__ import annotations

import csv
import io
import logging
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from playground.classroom.database import (Database, DatabaseError, Migration, SQLiteDatabase, database_url,
                                          open_database, redacted)

log = logging.getLogger("playground")

DATA_ENV = "PLAYGROUND_DATA_DIR"
DEFAULT_CLASS = "default"
VOTES_PER_MINUTE = int(os.environ.get("PLAYGROUND_VOTES_PER_MINUTE", "20"))
MEASURED_CHARS = 1200
_CLASS_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

# The schema, created on first start by ``Database.migrate`` (playground/classroom/database.py),
# the same SQL on SQLite and PostgreSQL. Version 1 is the schema the SQLite file has always had
# (``IF NOT EXISTS``: an existing file is adopted as it is); version 2 moves what lived in one
# process's memory into the database, so that every replica behind a load balancer shares it.
MIGRATIONS = (
    Migration(1, "votes, rounds, phases, secrets", (
        "CREATE TABLE IF NOT EXISTS votes ("
        " class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, round INTEGER NOT NULL,"
        " student TEXT NOT NULL, choice TEXT NOT NULL, time DOUBLE PRECISION NOT NULL,"
        " PRIMARY KEY (class_code, lab, question, round, student))",
        "CREATE TABLE IF NOT EXISTS rounds ("
        " class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, round INTEGER NOT NULL,"
        " PRIMARY KEY (class_code, lab, question))",
        "CREATE TABLE IF NOT EXISTS phases ("
        " class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, phase TEXT NOT NULL,"
        " measured TEXT NOT NULL DEFAULT '', PRIMARY KEY (class_code, lab, question))",
        "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )),
    Migration(2, "measured answers and the vote rate limiter, shared by replicas", (
        # the latest run's reveal per class and question, for the instructor view
        "CREATE TABLE IF NOT EXISTS measured ("
        " class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, reveal TEXT NOT NULL,"
        " time DOUBLE PRECISION NOT NULL, PRIMARY KEY (class_code, lab, question))",
        # one row per student who voted lately: a vote locks it, so a replica counts the
        # student's recent votes (vote_times) while no other replica adds one
        "CREATE TABLE IF NOT EXISTS voters (student TEXT PRIMARY KEY, time DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE IF NOT EXISTS vote_times (student TEXT NOT NULL, time DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX IF NOT EXISTS vote_times_student ON vote_times (student, time)",
    )),
)

# An instructor-led question's phases, in teaching order: students vote alone (the spread
# hidden), see the spread and discuss, vote again in a new round, then see the measured answer.
VOTING, SHOW, REVOTE, REVEAL = "voting", "show", "revote", "reveal"
PHASES = (VOTING, SHOW, REVOTE, REVEAL)
OPEN_PHASES = (VOTING, REVOTE)  # phases in which a vote counts


class VoteRefused(ValueError):
    """A vote for an unregistered question or choice, a bad class code, or too many votes."""


class TooManyVotes(VoteRefused):
    """A student's vote beyond ``votes_per_minute``: not counted; their earlier votes stand."""


class VotesUnwritable(OSError):
    """An instructor's change (new round, reset) that the database cannot take; the message says why."""


@dataclass(frozen=True)
class Question:
    lab: str
    question: str
    text: str
    choices: tuple[str, ...]
    labels: tuple[str, ...] = ()  # what the page shows for each choice; the choices themselves by default

    def label_of(self) -> dict[str, str]:
        return dict(zip(self.choices, self.labels or self.choices))


def default_data_dir() -> str:
    """``PLAYGROUND_DATA_DIR``; else ``/data`` (a Space's persistent storage) when it is
    a writable folder; else ``data`` in the working directory."""
    if os.environ.get(DATA_ENV):
        return os.environ[DATA_ENV]
    if os.path.isdir("/data") and os.access("/data", os.W_OK):
        return "/data"
    return os.path.abspath("data")


CLASS_CODE_RULE = "letters, digits, '-' and '_', up to 40"


def class_code(raw: Optional[str]) -> str:
    """The class code from ``?class=CODE``: letters, digits, '-' and '_' (up to 40), in
    lower case (``BIO1`` is ``bio1``; a '.' or ',' that a chat message stuck to the link's
    end is dropped), else the default class."""
    raw = (raw or "").strip().rstrip(".,;:!?)").lower()
    return raw if _CLASS_CODE.match(raw) else DEFAULT_CLASS


def not_a_class_code(raw: Optional[str]) -> str:
    """"`raw` is not a class code (the rule)" when ``raw`` is typed but is no class code; "" when
    it is one (``default`` included), or when there is none."""
    if not (raw or "").strip() or class_code(raw) != DEFAULT_CLASS or (raw or "").strip().lower() == DEFAULT_CLASS:
        return ""
    shown = raw.strip()[:40] + ("…" if len(raw.strip()) > 40 else "")
    return f"`{shown}` is not a class code ({CLASS_CODE_RULE})"


def class_code_problem(raw: Optional[str]) -> str:
    """Why ``raw`` (a link's ``?class=``) is not a class code, for the student; "" when it is one, or when there is none."""
    problem = not_a_class_code(raw)
    return (f"The link's class code {problem}, so your vote counts in the class `{DEFAULT_CLASS}`. "
            "Ask your instructor for the class's link.") if problem else ""


class MeasuredAnswers(Mapping):
    """``store.measured[(class, lab, question)]``: the latest measured answer (a run's reveal),
    read from the database, so every replica sees the runs of every other."""

    def __init__(self, store: "VoteStore") -> None:
        self._store = store

    def __getitem__(self, key: tuple[str, str, str]) -> str:
        code, lab, question = key
        row = self._store._read_one("SELECT reveal FROM measured WHERE class_code=? AND lab=? AND question=?",
                                    (code, lab, question))
        if row is None:
            raise KeyError(key)
        return row[0]

    def __iter__(self):
        return iter([tuple(row) for row in self._store._read(
            "SELECT class_code, lab, question FROM measured ORDER BY time")])

    def __len__(self) -> int:
        row = self._store._read_one("SELECT COUNT(*) FROM measured")
        return row[0] if row else 0


class VoteStore:
    """The class's state in one database (SQLite or PostgreSQL), safe to call from any thread
    and from several processes (replicas) at once: every read-then-write is one statement or
    one transaction. The database is opened, and its schema migrated, on first use."""

    def __init__(self, path: Optional[str] = None, votes_per_minute: int = VOTES_PER_MINUTE,
                 busy_timeout: float = 10.0) -> None:
        """``path``: a SQLite file or a database URL (``postgresql://…``, ``sqlite:///…``); by
        default ``PLAYGROUND_DATABASE_URL``, else ``classroom.sqlite3`` in ``default_data_dir()``."""
        self.db: Database = open_database(path or database_url(default_data_dir()), busy_timeout=busy_timeout)
        # where the votes are, for messages: the SQLite file, or the URL without its password
        self.path = self.db.path if isinstance(self.db, SQLiteDatabase) else redacted(self.db.url)
        self.votes_per_minute = votes_per_minute
        self.busy_timeout = busy_timeout
        self.questions: dict[tuple[str, str], Question] = {}
        self.measured = MeasuredAnswers(self)
        self._problem = ""
        self._ready: Optional[Database] = None  # the database once migrated (or its read-only copy)
        self._lock = threading.Lock()
        self._process_secrets: dict[str, str] = {}  # only where the database cannot keep them

    @property
    def problem(self) -> str:
        """Why votes are not being recorded, for the instructor view; "" when all is well.
        Reading it opens the database if nothing has yet, so it answers for the real one."""
        if self._ready is None:
            self._database()
        return self._problem

    @problem.setter
    def problem(self, value: str) -> None:
        self._problem = value

    # --- questions -------------------------------------------------------------------
    def register(self, lab: str, question: str, text: str, choices, labels=()) -> Question:
        """Declare a lab's prediction question, its allowed choices (strings) and, when the
        page shows them otherwise, their labels."""
        q = Question(lab, question, text, tuple(str(c) for c in choices), tuple(str(label) for label in labels))
        self.questions[(lab, question)] = q
        return q

    def note_measured(self, lab: str, question: str, reveal: str, code: str = DEFAULT_CLASS) -> None:
        """Keep the latest measured answer (a run's reveal text) of ``question`` in class ``code``
        in the database, for the instructor view of any replica. A database that cannot be
        written loses it (``problem`` says why); the run itself is unaffected."""
        db = self._database()
        if db is None:
            return
        try:
            db.execute("INSERT INTO measured (class_code, lab, question, reveal, time) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (class_code, lab, question) DO UPDATE SET reveal = excluded.reveal, "
                       "time = excluded.time", (code, lab, question, str(reveal)[:MEASURED_CHARS], time.time()))
        except DatabaseError as exc:
            self._fail(exc)

    # --- the database ----------------------------------------------------------------
    def _database(self) -> Optional[Database]:
        """The database, its schema migrated on the first call. Where it cannot be opened or
        migrated, ``problem`` says why; a SQLite file on a read-only disk is then read as it
        is, and otherwise None is returned and the next call tries again (a PostgreSQL server
        that was not up yet is found when it is)."""
        if self._ready is not None:
            return self._ready
        try:
            self.db.migrate(MIGRATIONS)
            self._ready = self.db
        except (DatabaseError, OSError) as exc:
            self._fail(exc)
            if isinstance(self.db, SQLiteDatabase) and os.path.isfile(self.db.path):
                copy = self.db.read_only_copy()
                try:
                    copy.query("SELECT COUNT(*) FROM votes")
                    self._ready = copy
                except DatabaseError:
                    copy.close()
        return self._ready

    def _read(self, sql: str, params=()) -> list[tuple]:
        """Rows of a read; [] when the database cannot be read."""
        db = self._database()
        if db is None:
            return []
        try:
            return db.query(sql, params)
        except DatabaseError:
            return []

    def _read_one(self, sql: str, params=()) -> Optional[tuple]:
        rows = self._read(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        """Close the database's connections (the next call opens new ones)."""
        if self._ready is not None and self._ready is not self.db:
            self._ready.close()
        self.db.close()

    def _fail(self, exc: Exception) -> None:
        reason = str(exc)
        if isinstance(exc, DatabaseError) and reason.startswith("The "):
            reason = "t" + reason[1:]  # "the database … could not be written (…)."
        else:
            reason = f"the database {self.path} could not be opened ({exc})."
        problem = f"Votes are not being recorded: {reason}"
        if problem != self._problem:
            log.warning(problem)
        self.problem = problem

    # --- votes -----------------------------------------------------------------------
    def _check(self, lab: str, question: str, choice: str, code: str) -> None:
        q = self.questions.get((lab, question))
        if q is None:
            raise VoteRefused(f"Unknown question {question!r} of lab {lab!r}: votes go only to registered questions.")
        if choice not in q.choices:
            raise VoteRefused(f"{choice!r} is not one of the choices of this question: {', '.join(q.choices)}.")
        if not _CLASS_CODE.match(code):
            raise VoteRefused("A class code is letters, digits, '-' or '_', up to 40 characters.")

    def _count_vote_or_refuse(self, tx, student: str, now: float) -> None:
        """Within the vote's transaction: raise ``TooManyVotes`` when ``student`` already voted
        ``votes_per_minute`` times in the last minute, else note this vote. The student's row
        in ``voters`` is locked first, so two replicas cannot both count the same old votes."""
        tx.execute("INSERT INTO voters (student, time) VALUES (?, ?) "
                   "ON CONFLICT (student) DO UPDATE SET time = excluded.time", (student, now))
        tx.execute("DELETE FROM vote_times WHERE student=? AND time < ?", (student, now - 60))
        recent = tx.query_one("SELECT COUNT(*) FROM vote_times WHERE student=?", (student,))[0]
        if recent >= self.votes_per_minute:
            raise TooManyVotes(f"Too many votes: at most {self.votes_per_minute} a minute. Wait a moment.")
        tx.execute("INSERT INTO vote_times (student, time) VALUES (?, ?)", (student, now))

    def record(self, lab: str, question: str, choice: str, student: str, code: str = DEFAULT_CLASS) -> bool:
        """Store ``student``'s vote (replacing their earlier one this round). Raises
        ``VoteRefused`` for an unknown question or choice or too many votes a minute;
        returns False, and sets ``problem``, when the database cannot be written."""
        self._check(lab, question, choice, code)
        db = self._database()
        if db is None:
            return False
        now = time.time()
        try:
            with db.transaction() as tx:
                self._count_vote_or_refuse(tx, student, now)
                # the round is read in the same statement: a new round started meanwhile counts it there
                tx.execute(
                    "INSERT INTO votes (class_code, lab, question, round, student, choice, time) VALUES "
                    "(?, ?, ?, COALESCE((SELECT round FROM rounds WHERE class_code=? AND lab=? AND question=?), 1), "
                    "?, ?, ?) ON CONFLICT (class_code, lab, question, round, student) "
                    "DO UPDATE SET choice = excluded.choice, time = excluded.time",
                    (code, lab, question, code, lab, question, student, choice, now))
            if random.random() < 0.01:  # now and then, not on every vote
                self._forget_quiet_voters(db, now)
        except DatabaseError as exc:
            self._fail(exc)
            return False
        self.problem = ""
        return True

    @staticmethod
    def _forget_quiet_voters(db: Database, now: float) -> None:
        """Drop the rate limiter's rows of students quiet for a minute (about once a minute)."""
        db.execute("DELETE FROM vote_times WHERE time < ?", (now - 60,))
        db.execute("DELETE FROM voters WHERE time < ?", (now - 60,))

    def current_round(self, lab: str, question: str, code: str = DEFAULT_CLASS) -> int:
        row = self._read_one("SELECT round FROM rounds WHERE class_code=? AND lab=? AND question=?",
                             (code, lab, question))
        return row[0] if row else 1

    def has_voted(self, lab: str, question: str, student: str, code: str = DEFAULT_CLASS) -> bool:
        return self.choice_of(lab, question, student, code) is not None

    def choice_of(self, lab: str, question: str, student: str, code: str = DEFAULT_CLASS) -> Optional[str]:
        """``student``'s counted choice this round; None before they vote (or when nothing can be read)."""
        row = self._read_one(
            "SELECT choice FROM votes WHERE class_code=? AND lab=? AND question=? AND student=? AND round="
            "COALESCE((SELECT round FROM rounds WHERE class_code=? AND lab=? AND question=?), 1)",
            (code, lab, question, student, code, lab, question))
        return row[0] if row else None

    def distribution(self, lab: str, question: str, code: str = DEFAULT_CLASS, round_: Optional[int] = None) -> dict:
        """``{choice: count}`` for every registered choice, in this class and round (the current one by default)."""
        q = self.questions.get((lab, question))
        counts = {c: 0 for c in (q.choices if q else ())}
        round_ = round_ or self.current_round(lab, question, code)
        for choice, n in self._read("SELECT choice, COUNT(*) FROM votes WHERE class_code=? AND lab=? AND question=? "
                                    "AND round=? GROUP BY choice", (code, lab, question, round_)):
            counts[choice] = counts.get(choice, 0) + n
        return counts

    # --- the instructor's actions ----------------------------------------------------
    def _writable(self) -> Database:
        db = self._database()
        if db is None:
            raise VotesUnwritable(self.problem)
        return db

    def _write_failed(self, exc: DatabaseError) -> VotesUnwritable:
        self._fail(exc)
        return VotesUnwritable(self.problem)

    @staticmethod
    def _next_round(tx, code: str, lab: str, question: str) -> int:
        """Start the question's next round in one statement (two replicas' clicks make two rounds, never one twice)."""
        return tx.query_one("INSERT INTO rounds (class_code, lab, question, round) VALUES (?, ?, ?, 2) "
                            "ON CONFLICT (class_code, lab, question) DO UPDATE SET round = rounds.round + 1 "
                            "RETURNING round", (code, lab, question))[0]

    def new_round(self, lab: str, question: str, code: str = DEFAULT_CLASS) -> int:
        """Start the next round of ``question`` for ``code`` (re-voting after discussion); returns its
        number. Raises ``VotesUnwritable`` (its message says why) when the database cannot be written."""
        db = self._writable()
        try:
            with db.transaction() as tx:
                return self._next_round(tx, code, lab, question)
        except DatabaseError as exc:
            raise self._write_failed(exc) from None

    def set_phase(self, lab: str, question: str, phase: str, code: str = DEFAULT_CLASS, measured: str = "") -> int:
        """Put ``question`` of class ``code`` in ``phase`` (one of ``PHASES``); ``REVOTE`` also starts
        the next round. ``measured`` (a run's reveal) is kept with it, for ``REVEAL``. Returns the
        question's round. Raises ``VotesUnwritable`` when the database cannot be written."""
        if phase not in PHASES:
            raise ValueError(f"{phase!r} is not a phase: {', '.join(PHASES)}.")
        db = self._writable()
        try:
            with db.transaction() as tx:
                if phase == REVOTE:
                    round_ = self._next_round(tx, code, lab, question)
                else:
                    row = tx.query_one("SELECT round FROM rounds WHERE class_code=? AND lab=? AND question=?",
                                       (code, lab, question))
                    round_ = row[0] if row else 1
                tx.execute("INSERT INTO phases (class_code, lab, question, phase, measured) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (class_code, lab, question) DO UPDATE SET phase = excluded.phase, "
                           "measured = excluded.measured", (code, lab, question, phase, str(measured)[:MEASURED_CHARS]))
        except DatabaseError as exc:
            raise self._write_failed(exc) from None
        return round_

    def phase(self, lab: str, question: str, code: str = DEFAULT_CLASS) -> tuple[str, int, str]:
        """``(phase, round, measured)`` of ``question`` in class ``code``; the phase is "" while
        no instructor leads it (self-paced)."""
        row = self._read_one(
            "SELECT p.phase, p.measured, (SELECT round FROM rounds r WHERE r.class_code=? AND r.lab=? AND r.question=?) "
            "FROM (SELECT 1 AS one) AS anchor LEFT JOIN phases p ON p.class_code=? AND p.lab=? AND p.question=?",
            (code, lab, question, code, lab, question))
        if row is None:
            return "", 1, ""
        phase, measured, round_ = row
        return (phase or "", round_ or 1, measured or "")

    def phases_of(self, code: str = DEFAULT_CLASS) -> dict[tuple[str, str], tuple[str, int]]:
        """``{(lab, question): (phase, round)}`` of every instructor-led question of class ``code``,
        in one query (students' pages poll it)."""
        rows = self._read(
            "SELECT p.lab, p.question, p.phase, COALESCE(r.round, 1) FROM phases p LEFT JOIN rounds r "
            "ON r.class_code = p.class_code AND r.lab = p.lab AND r.question = p.question "
            "WHERE p.class_code=?", (code,))
        return {(lab, question): (phase, round_) for lab, question, phase, round_ in rows}

    def secret(self, name: str) -> str:
        """A random secret kept in the database under ``name``, made on first use, the same for
        every process that opens the database (so ids signed with it survive a restart and hold
        on every replica). Where the database cannot be written, one for this process only
        (and ``problem`` says why)."""
        db = self._database()
        if db is not None:
            try:
                db.execute("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                           (name, secrets.token_hex(16)))
            except DatabaseError as exc:
                self._fail(exc)  # a read-only file may still hold it
            row = self._read_one("SELECT value FROM secrets WHERE name=?", (name,))
            if row:
                return row[0]
        with self._lock:
            return self._process_secrets.setdefault(name, secrets.token_hex(16))

    def reset(self, code: str = DEFAULT_CLASS) -> int:
        """Delete every vote, round, phase and measured answer of class ``code``; returns how many
        votes went. Raises ``VotesUnwritable`` (its message says why) when the database cannot be written."""
        db = self._writable()
        try:
            with db.transaction() as tx:
                n = tx.execute("DELETE FROM votes WHERE class_code=?", (code,))
                for table in ("rounds", "phases", "measured"):
                    tx.execute(f"DELETE FROM {table} WHERE class_code=?", (code,))
        except DatabaseError as exc:
            raise self._write_failed(exc) from None
        return n

    def export_csv(self, code: str = DEFAULT_CLASS) -> str:
        """Class ``code``'s votes as CSV text: class, lab, question, round, student (the
        anonymous hash), choice (its key), choice_text (as the page showed it), time (UTC, ISO 8601)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["class", "lab", "question", "round", "student", "choice", "choice_text", "time"])
        for lab, question, round_, student, choice, when in self._read(
                "SELECT lab, question, round, student, choice, time FROM votes WHERE class_code=? "
                "ORDER BY lab, question, round, time", (code,)):
            q = self.questions.get((lab, question))
            text = q.label_of().get(choice, choice) if q else choice
            stamp = datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="seconds")
            writer.writerow([code, lab, question, round_, student, choice, text, stamp])
        return out.getvalue()

    def count(self, code: Optional[str] = None) -> int:
        """How many votes are counted (every round), in class ``code`` or in all; 0 when nothing can be read."""
        if code is None:
            row = self._read_one("SELECT COUNT(*) FROM votes")
        else:
            row = self._read_one("SELECT COUNT(*) FROM votes WHERE class_code=?", (code,))
        return row[0] if row else 0
