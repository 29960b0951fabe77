"""The class's votes in SQLite: who (an anonymous id) predicted what, for which lab
question, in which class and round. No gradio here.

A vote is ``(lab, question, choice, student, time, class_code, round)``; only a
student's latest vote per question and round counts. An instructor may lead a question
through phases (``PHASES``: voting, show votes, re-vote, reveal); a question no instructor
has touched in a class has no phase and is self-paced. The secret that signs the
browsers' stored ids lives in the same file (``secret``), so a restart keeps every student.
All SQL is in this module. Questions and their choices are
registered first (``register``); a vote for anything else is refused. A database that
cannot be opened or written never raises into a lab: ``record`` then returns False and
``problem`` says why, for the instructor view; the instructor's changes raise
``VotesUnwritable`` with that reason.
"""
from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import pathlib
import re
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

log = logging.getLogger("playground")

DATA_ENV = "PLAYGROUND_DATA_DIR"
DEFAULT_CLASS = "default"
VOTES_PER_MINUTE = int(os.environ.get("PLAYGROUND_VOTES_PER_MINUTE", "20"))
MEASURED_CHARS = 1200
_CLASS_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, round INTEGER NOT NULL,
    student TEXT NOT NULL, choice TEXT NOT NULL, time REAL NOT NULL,
    PRIMARY KEY (class_code, lab, question, round, student)
);
CREATE TABLE IF NOT EXISTS rounds (
    class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, round INTEGER NOT NULL,
    PRIMARY KEY (class_code, lab, question)
);
CREATE TABLE IF NOT EXISTS phases (
    class_code TEXT NOT NULL, lab TEXT NOT NULL, question TEXT NOT NULL, phase TEXT NOT NULL,
    measured TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (class_code, lab, question)
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

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


class VoteStore:
    """Thread-safe: one connection per thread, WAL mode, a busy timeout for concurrent writers."""

    def __init__(self, path: Optional[str] = None, votes_per_minute: int = VOTES_PER_MINUTE,
                 busy_timeout: float = 10.0) -> None:
        self.path = path or os.path.join(default_data_dir(), "classroom.sqlite3")
        self.votes_per_minute = votes_per_minute
        self.busy_timeout = busy_timeout  # seconds a writer waits for another's lock
        self.questions: dict[tuple[str, str], Question] = {}
        self._problem = ""
        self._tried = False  # the database is opened on first use, so a command that only lists writes nothing
        self.measured: OrderedDict[tuple[str, str, str], str] = OrderedDict()  # (class, lab, question) -> reveal
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []  # every thread's, for close()
        self._lock = threading.Lock()
        self._recent: dict[str, deque] = defaultdict(deque)
        self._process_secrets: dict[str, str] = {}  # only where the database cannot keep them

    @property
    def problem(self) -> str:
        """Why votes are not being recorded, for the instructor view; "" when all is well.
        Reading it opens the database if nothing has yet, so it answers for the real file."""
        if not self._tried:
            self._connect()
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
        """Keep the latest measured answer (a run's reveal text) of ``question`` in class ``code``,
        in memory only, for the instructor view; bounded to the most recent 1000."""
        with self._lock:
            self.measured[(code, lab, question)] = str(reveal)[:MEASURED_CHARS]
            self.measured.move_to_end((code, lab, question))
            while len(self.measured) > 1000:
                self.measured.popitem(last=False)

    # --- connection ------------------------------------------------------------------
    def _connect(self) -> Optional[sqlite3.Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        self._tried = True
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            conn.commit()
        except (sqlite3.Error, OSError) as exc:
            self._fail("opened", exc)
            conn = self._open_read_only()
            if conn is None:
                return None
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _open_read_only(self) -> Optional[sqlite3.Connection]:
        """On a read-only disk the file can still be read (the votes already there), though
        SQLite cannot make its WAL index beside it: open it as immutable, for reading only."""
        if not os.path.isfile(self.path):
            return None
        try:
            uri = pathlib.Path(os.path.abspath(self.path)).as_uri() + "?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.execute("SELECT COUNT(*) FROM votes").fetchone()
        except sqlite3.Error:
            return None
        return conn

    def close(self) -> None:
        """Close every thread's connection (a thread that votes afterwards opens a new one)."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
        for conn in connections:
            conn.close()

    def _fail(self, what: str, exc: Exception) -> None:
        self.problem = f"Votes are not being recorded: the database {self.path} could not be {what} ({exc})."
        log.warning(self.problem)

    # --- votes -----------------------------------------------------------------------
    def _check(self, lab: str, question: str, choice: str, code: str) -> None:
        q = self.questions.get((lab, question))
        if q is None:
            raise VoteRefused(f"Unknown question {question!r} of lab {lab!r}: votes go only to registered questions.")
        if choice not in q.choices:
            raise VoteRefused(f"{choice!r} is not one of the choices of this question: {', '.join(q.choices)}.")
        if not _CLASS_CODE.match(code):
            raise VoteRefused("A class code is letters, digits, '-' or '_', up to 40 characters.")

    def _rate_ok(self, student: str, now: float) -> bool:
        with self._lock:
            recent = self._recent[student]
            while recent and recent[0] < now - 60:
                recent.popleft()
            if len(self._recent) > 10_000:  # a long-running Space: forget students quiet for a minute
                for key in [k for k, q in self._recent.items() if not q or q[-1] < now - 60]:
                    del self._recent[key]
                recent = self._recent[student]
            if len(recent) >= self.votes_per_minute:
                return False
            recent.append(now)
            return True

    def record(self, lab: str, question: str, choice: str, student: str, code: str = DEFAULT_CLASS) -> bool:
        """Store ``student``'s vote (replacing their earlier one this round). Raises
        ``VoteRefused`` for an unknown question or choice or too many votes a minute;
        returns False, and sets ``problem``, when the database cannot be written."""
        self._check(lab, question, choice, code)
        now = time.time()
        if not self._rate_ok(student, now):
            raise TooManyVotes(f"Too many votes: at most {self.votes_per_minute} a minute. Wait a moment.")
        conn = self._connect()
        if conn is None:
            return False
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (code, lab, question, self._round(conn, code, lab, question), student, choice, now),
                )
        except sqlite3.Error as exc:
            self._fail("written", exc)
            return False
        self.problem = ""
        return True

    def _round(self, conn, code: str, lab: str, question: str) -> int:
        row = conn.execute("SELECT round FROM rounds WHERE class_code=? AND lab=? AND question=?",
                           (code, lab, question)).fetchone()
        return row[0] if row else 1

    def current_round(self, lab: str, question: str, code: str = DEFAULT_CLASS) -> int:
        conn = self._connect()
        try:
            return self._round(conn, code, lab, question) if conn else 1
        except sqlite3.Error:
            return 1

    def has_voted(self, lab: str, question: str, student: str, code: str = DEFAULT_CLASS) -> bool:
        return self.choice_of(lab, question, student, code) is not None

    def choice_of(self, lab: str, question: str, student: str, code: str = DEFAULT_CLASS) -> Optional[str]:
        """``student``'s counted choice this round; None before they vote (or when nothing can be read)."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT choice FROM votes WHERE class_code=? AND lab=? AND question=? AND round=? AND student=?",
                (code, lab, question, self._round(conn, code, lab, question), student)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def distribution(self, lab: str, question: str, code: str = DEFAULT_CLASS, round_: Optional[int] = None) -> dict:
        """``{choice: count}`` for every registered choice, in this class and round (the current one by default)."""
        q = self.questions.get((lab, question))
        counts = {c: 0 for c in (q.choices if q else ())}
        conn = self._connect()
        if conn is None:
            return counts
        try:
            round_ = round_ or self._round(conn, code, lab, question)
            rows = conn.execute(
                "SELECT choice, COUNT(*) FROM votes WHERE class_code=? AND lab=? AND question=? AND round=? "
                "GROUP BY choice", (code, lab, question, round_)).fetchall()
        except sqlite3.Error:
            return counts
        for choice, n in rows:
            counts[choice] = counts.get(choice, 0) + n
        return counts

    # --- the instructor's actions ----------------------------------------------------
    def _writable(self) -> sqlite3.Connection:
        conn = self._connect()
        if conn is None:
            raise VotesUnwritable(self.problem)
        return conn

    def _write_failed(self, exc: sqlite3.Error) -> VotesUnwritable:
        self._fail("written", exc)
        return VotesUnwritable(self.problem)

    def new_round(self, lab: str, question: str, code: str = DEFAULT_CLASS) -> int:
        """Start the next round of ``question`` for ``code`` (re-voting after discussion); returns its
        number. Raises ``VotesUnwritable`` (its message says why) when the database cannot be written."""
        conn = self._writable()
        try:
            with conn:
                nxt = self._round(conn, code, lab, question) + 1
                conn.execute("INSERT OR REPLACE INTO rounds VALUES (?, ?, ?, ?)", (code, lab, question, nxt))
        except sqlite3.Error as exc:
            raise self._write_failed(exc) from None
        return nxt

    def set_phase(self, lab: str, question: str, phase: str, code: str = DEFAULT_CLASS, measured: str = "") -> int:
        """Put ``question`` of class ``code`` in ``phase`` (one of ``PHASES``); ``REVOTE`` also starts
        the next round. ``measured`` (a run's reveal) is kept with it, for ``REVEAL``. Returns the
        question's round. Raises ``VotesUnwritable`` when the database cannot be written."""
        if phase not in PHASES:
            raise ValueError(f"{phase!r} is not a phase: {', '.join(PHASES)}.")
        conn = self._writable()
        try:
            with conn:
                round_ = self._round(conn, code, lab, question)
                if phase == REVOTE:
                    round_ += 1
                    conn.execute("INSERT OR REPLACE INTO rounds VALUES (?, ?, ?, ?)", (code, lab, question, round_))
                conn.execute("INSERT OR REPLACE INTO phases VALUES (?, ?, ?, ?, ?)",
                             (code, lab, question, phase, str(measured)[:MEASURED_CHARS]))
        except sqlite3.Error as exc:
            raise self._write_failed(exc) from None
        return round_

    def phase(self, lab: str, question: str, code: str = DEFAULT_CLASS) -> tuple[str, int, str]:
        """``(phase, round, measured)`` of ``question`` in class ``code``; the phase is "" while
        no instructor leads it (self-paced)."""
        conn = self._connect()
        if conn is None:
            return "", 1, ""
        try:
            row = conn.execute("SELECT phase, measured FROM phases WHERE class_code=? AND lab=? AND question=?",
                               (code, lab, question)).fetchone()
            round_ = self._round(conn, code, lab, question)
        except sqlite3.Error:
            return "", 1, ""
        return (row[0], round_, row[1]) if row else ("", round_, "")

    def phases_of(self, code: str = DEFAULT_CLASS) -> dict[tuple[str, str], tuple[str, int]]:
        """``{(lab, question): (phase, round)}`` of every instructor-led question of class ``code``,
        in one query (students' pages poll it)."""
        conn = self._connect()
        if conn is None:
            return {}
        try:
            rows = conn.execute(
                "SELECT p.lab, p.question, p.phase, COALESCE(r.round, 1) FROM phases p LEFT JOIN rounds r "
                "ON r.class_code = p.class_code AND r.lab = p.lab AND r.question = p.question "
                "WHERE p.class_code=?", (code,)).fetchall()
        except sqlite3.Error:
            return {}
        return {(lab, question): (phase, round_) for lab, question, phase, round_ in rows}

    def secret(self, name: str) -> str:
        """A random secret kept in the database under ``name``, made on first use, the same for
        every process that opens the file (so ids signed with it survive a restart). Where the
        database cannot be written, one for this process only (and ``problem`` says why)."""
        conn = self._connect()
        try:
            if conn is not None:
                with conn:
                    conn.execute("INSERT OR IGNORE INTO secrets VALUES (?, ?)", (name, secrets.token_hex(16)))
                    return conn.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()[0]
        except sqlite3.Error as exc:
            self._fail("written", exc)
            with contextlib.suppress(sqlite3.Error, TypeError):  # a read-only file may still hold it
                return conn.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()[0]
        with self._lock:
            return self._process_secrets.setdefault(name, secrets.token_hex(16))

    def reset(self, code: str = DEFAULT_CLASS) -> int:
        """Delete every vote, round and phase of class ``code``; returns how many votes went. Raises
        ``VotesUnwritable`` (its message says why) when the database cannot be written."""
        conn = self._writable()
        try:
            with conn:
                n = conn.execute("DELETE FROM votes WHERE class_code=?", (code,)).rowcount
                conn.execute("DELETE FROM rounds WHERE class_code=?", (code,))
                conn.execute("DELETE FROM phases WHERE class_code=?", (code,))
        except sqlite3.Error as exc:
            raise self._write_failed(exc) from None
        with self._lock:
            for key in [key for key in self.measured if key[0] == code]:
                del self.measured[key]
        return n

    def export_csv(self, code: str = DEFAULT_CLASS) -> str:
        """Class ``code``'s votes as CSV text: class, lab, question, round, student (the
        anonymous hash), choice (its key), choice_text (as the page showed it), time (UTC, ISO 8601)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["class", "lab", "question", "round", "student", "choice", "choice_text", "time"])
        conn = self._connect()
        if conn is not None:
            for lab, question, round_, student, choice, when in conn.execute(
                    "SELECT lab, question, round, student, choice, time FROM votes WHERE class_code=? "
                    "ORDER BY lab, question, round, time", (code,)):
                q = self.questions.get((lab, question))
                text = q.label_of().get(choice, choice) if q else choice
                stamp = datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="seconds")
                writer.writerow([code, lab, question, round_, student, choice, text, stamp])
        return out.getvalue()

    def count(self, code: Optional[str] = None) -> int:
        conn = self._connect()
        if conn is None:
            return 0
        if code is None:
            return conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM votes WHERE class_code=?", (code,)).fetchone()[0]
