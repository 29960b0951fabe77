"""The class's database behind one small interface: SQLite (the embedded default) or
PostgreSQL (shared by several replicas), chosen by a URL. No gradio, no votes here.

``PLAYGROUND_DATABASE_URL=postgresql://user:pass@host:5432/db`` selects PostgreSQL through
psycopg 3 (``pip install "contrastive-playground[postgres]"``); unset, empty or
``sqlite:///path`` keeps SQLite, by default the file the vote store has always used.

SQL is written once, with ``?`` placeholders (the sqlite3 style): for psycopg they become
``%s`` (a literal ``%`` is escaped), never inside a quoted string. Write SQL both engines
take: ``INSERT … ON CONFLICT (…) DO UPDATE/NOTHING`` (not ``INSERT OR REPLACE``),
``RETURNING``, ``DOUBLE PRECISION`` for times (PostgreSQL's ``REAL`` is 4 bytes, which
rounds a Unix time to about two minutes), ``BIGINT``/``INTEGER``/``TEXT``.

    db = open_database(database_url())          # or open_database("sqlite:///tmp/x.db")
    db.migrate(MIGRATIONS)                      # idempotent: creates the schema on first start
    db.execute("INSERT INTO t VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", (k, v))
    rows = db.query("SELECT v FROM t WHERE k = ?", (k,))
    with db.transaction() as tx:                # one connection, committed at the end,
        tx.execute(...); tx.query(...)          # rolled back if the block raises

Every driver error (and a SQLite file that cannot be created) is raised as
``DatabaseError``, whose message names the database without its password. On a read-only
disk, ``SQLiteDatabase.read_only_copy()`` still reads the file.

Concurrency: connections are pooled (at most ``pool_size``, ``PLAYGROUND_DATABASE_POOL``,
default 8, per process), borrowed for one statement or one transaction, so any thread may
call. On SQLite a transaction takes the write lock at its start (``BEGIN IMMEDIATE``) and
writers wait ``busy_timeout`` seconds for one another; on PostgreSQL transactions are READ
COMMITTED, so a read-then-write must be a single statement (an upsert with ``RETURNING``)
or the two replicas can both read the old value.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

DATABASE_URL_ENV = "PLAYGROUND_DATABASE_URL"
POOL_ENV = "PLAYGROUND_DATABASE_POOL"
POSTGRES_SCHEMES = ("postgresql", "postgres")
SQLITE_FILE = "classroom.sqlite3"
# Any 64-bit number, the same in every replica: PostgreSQL's lock that lets one replica migrate at a time.
_MIGRATION_LOCK = 0x706C61796772  # "playgr"


class DatabaseError(RuntimeError):
    """The database could not be opened, read or written; the message says which and why."""


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``version`` (1, 2, … in order, never reused) and its SQL
    ``statements``, run in one transaction and recorded in ``schema_migrations``."""

    version: int
    name: str
    statements: tuple[str, ...]


def database_url(data_dir: Optional[str] = None) -> str:
    """``PLAYGROUND_DATABASE_URL`` when set; else ``sqlite:///<data_dir>/classroom.sqlite3``
    (``data_dir`` is the caller's data folder, e.g. the store's ``default_data_dir()``)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    return "sqlite:///" + os.path.abspath(os.path.join(data_dir or "data", SQLITE_FILE))


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def to_format_placeholders(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``, with a literal ``%`` doubled; quoted
    strings and identifiers ('…', "…") are left alone."""
    out, quote = [], ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def split_statements(script: str) -> tuple[str, ...]:
    """A script's statements, split at ``;`` outside quoted strings; empty ones dropped."""
    statements, current, quote = [], [], ""
    for ch in script:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in ("'", '"'):
            quote = ch
        elif ch == ";":
            statements.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    statements.append("".join(current).strip())
    return tuple(s for s in statements if s)


class Transaction:
    """The statements of one ``Database.transaction()`` block, on its one connection."""

    def __init__(self, database: "Database", conn) -> None:
        self._database = database
        self._conn = conn

    def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one statement; returns how many rows it changed (-1 where the driver cannot say)."""
        return self._database._run(self._conn, sql, params, fetch=False)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Run one statement and return its rows as tuples."""
        return self._database._run(self._conn, sql, params, fetch=True)

    def query_one(self, sql: str, params: Sequence = ()) -> Optional[tuple]:
        """The first row, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None


class Database:
    """A pool of connections to one database; see the module's docstring. Subclasses say
    how to connect and how their driver begins a transaction and names its errors."""

    kind = ""
    errors: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, pool_size: Optional[int] = None, busy_timeout: float = 10.0) -> None:
        self.url = url
        self.busy_timeout = busy_timeout  # seconds a connection waits for a lock (SQLite) or a pooled connection
        self.pool_size = pool_size or int(os.environ.get(POOL_ENV) or 8)
        self._idle: "queue.LifoQueue" = queue.LifoQueue()
        self._opened = 0
        self._all: list = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redacted(self.url)}>"

    # --- what a subclass provides ------------------------------------------------------
    def _open(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _begin(self, conn) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _placeholders(self, sql: str) -> str:
        return sql

    def _usable(self, conn) -> bool:
        """Whether a connection may go back to the pool (after a statement, failed or not)."""
        return True

    def _lock_for_migrations(self, tx: Transaction) -> None:
        """Keep other replicas from migrating until this transaction ends (where needed)."""

    # --- connections -------------------------------------------------------------------
    def _failed(self, what: str, exc: BaseException) -> DatabaseError:
        return DatabaseError(f"The database {redacted(self.url)} could not be {what} ({exc}).")

    @contextlib.contextmanager
    def _connection(self) -> Iterator:
        """Borrow a pooled connection (opening one while fewer than ``pool_size`` exist,
        else waiting up to ``busy_timeout`` for one); a connection that failed is closed,
        not returned, so a restarted server is reconnected to."""
        conn = None
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                may_open = self._opened < self.pool_size
                if may_open:
                    self._opened += 1
            if may_open:
                try:
                    conn = self._open()
                except self.errors + (OSError,) as exc:
                    with self._lock:
                        self._opened -= 1
                    raise self._failed("opened", exc) from None
                with self._lock:
                    self._all.append(conn)
            else:
                try:
                    conn = self._idle.get(timeout=self.busy_timeout)
                except queue.Empty:
                    raise DatabaseError(f"The database {redacted(self.url)} is busy: all {self.pool_size} "
                                        f"connections stayed in use for {self.busy_timeout:g} s.") from None
        try:
            yield conn
        finally:
            if self._usable(conn):
                self._idle.put(conn)
            else:
                self._discard(conn)

    def _discard(self, conn) -> None:
        with self._lock:
            self._opened -= 1
            if conn in self._all:
                self._all.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        """Close every connection; the next call opens new ones."""
        with self._lock:
            conns, self._all, self._opened = self._all, [], 0
            self._idle = queue.LifoQueue()
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()

    # --- statements ----------------------------------------------------------------------
    def _run(self, conn, sql: str, params: Sequence, fetch: bool):
        try:
            cur = conn.execute(self._placeholders(sql), tuple(params))
            if fetch:
                return [tuple(row) for row in cur.fetchall()]
            return cur.rowcount
        except self.errors as exc:
            reads = fetch and sql.lstrip()[:6].upper() in ("SELECT", "WITH")  # an upsert … RETURNING writes
            raise self._failed("read" if reads else "written", exc) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """``with db.transaction() as tx:`` — its statements commit together at the end, or
        none does if the block raises (the exception goes on)."""
        with self._connection() as conn:
            try:
                self._begin(conn)
            except self.errors as exc:
                raise self._failed("written", exc) from None
            try:
                yield Transaction(self, conn)
            except BaseException:
                with contextlib.suppress(*self.errors):
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except self.errors as exc:
                with contextlib.suppress(*self.errors):
                    conn.execute("ROLLBACK")
                raise self._failed("written", exc) from None

    # One statement alone runs in autocommit mode: atomic by itself in both engines, one
    # round trip on PostgreSQL, and a SQLite read takes no write lock.
    def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one statement, committed at once; returns how many rows it changed."""
        with self._connection() as conn:
            return self._run(conn, sql, params, fetch=False)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Rows of one statement, committed at once (so an upsert with ``RETURNING`` is kept)."""
        with self._connection() as conn:
            return self._run(conn, sql, params, fetch=True)

    def query_one(self, sql: str, params: Sequence = ()) -> Optional[tuple]:
        """The first row of one statement, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # --- schema ----------------------------------------------------------------------------
    def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply, in version order, the migrations not yet recorded in ``schema_migrations``,
        each in its own transaction; returns the versions applied now ([] when the schema
        is current). Safe to call from every replica at once: on PostgreSQL an advisory
        lock lets one migrate while the others wait, on SQLite the write lock does."""
        versions = [m.version for m in migrations]
        if len(set(versions)) != len(versions):
            raise ValueError(f"Two migrations share a version: {sorted(versions)}")
        applied_now = []
        for migration in sorted(migrations, key=lambda m: m.version):
            with self.transaction() as tx:
                self._lock_for_migrations(tx)
                tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                           "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied DOUBLE PRECISION NOT NULL)")
                if tx.query_one("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)):
                    continue
                for statement in migration.statements:
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
                           (migration.version, migration.name, time.time()))
                applied_now.append(migration.version)
        return applied_now

    def schema_version(self) -> int:
        """The highest migration applied (0 before the first)."""
        try:
            row = self.query_one("SELECT MAX(version) FROM schema_migrations")
        except DatabaseError:
            return 0
        return (row[0] if row else None) or 0


class SQLiteDatabase(Database):
    """A SQLite file, in WAL mode (readers never wait for the writer). ``read_only=True``
    opens an existing file as immutable, for reading only: on a read-only disk SQLite
    cannot make its WAL index beside the file, yet the votes already there can be read."""

    kind = "sqlite"
    errors = (sqlite3.Error,)

    def __init__(self, url: str, read_only: bool = False, **kwargs) -> None:
        super().__init__(url, **kwargs)
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
        self.path = os.path.abspath(path)
        self.read_only = read_only

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            if not os.path.isfile(self.path):
                raise sqlite3.OperationalError(f"no such file: {self.path}")
            uri = pathlib.Path(self.path).as_uri() + "?mode=ro&immutable=1"
            return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # isolation_level=None: no implicit transactions; ours begin and commit explicitly,
        # so DDL in a migration is transactional too.
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False, isolation_level=None)
        # Switching a new file to WAL needs a moment alone with it: several replicas (or threads)
        # opening it at once can get "database is locked" at once, without the busy timeout's wait.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    conn.close()
                    raise
                time.sleep(0.05)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _begin(self, conn) -> None:
        # Take the write lock now, not at the first write (no lock-upgrade deadlock between writers).
        conn.execute("BEGIN" if self.read_only else "BEGIN IMMEDIATE")

    def read_only_copy(self) -> "SQLiteDatabase":
        """The same file, opened for reading only (see the class): what a caller falls back
        to when ``migrate`` or a write fails on a read-only disk."""
        return SQLiteDatabase(self.url, read_only=True, pool_size=self.pool_size, busy_timeout=self.busy_timeout)


class PostgresDatabase(Database):
    """A PostgreSQL server through psycopg 3 (imported only here, so SQLite needs no extra)."""

    kind = "postgresql"

    def __init__(self, url: str, **kwargs) -> None:
        try:
            import psycopg
        except ImportError:
            raise DatabaseError('PostgreSQL needs psycopg 3: pip install "contrastive-playground[postgres]" '
                                '(or psycopg[binary]).') from None
        self._psycopg = psycopg
        self.errors = (psycopg.Error,)
        super().__init__(url, **kwargs)

    def _open(self):
        # autocommit: transactions begin and end explicitly, as on SQLite
        return self._psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.busy_timeout)))

    def _begin(self, conn) -> None:
        conn.execute("BEGIN")

    def _placeholders(self, sql: str) -> str:
        return to_format_placeholders(sql)

    def _usable(self, conn) -> bool:
        # a server restart or a dropped socket breaks the connection: open a new one next time
        return not conn.closed and not conn.broken

    def _lock_for_migrations(self, tx: Transaction) -> None:
        tx.query("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))


def open_database(url: Optional[str] = None, **kwargs) -> Database:
    """The database at ``url`` (default: ``database_url()``): ``postgresql://…`` or
    ``postgres://…`` → PostgreSQL; ``sqlite:///path`` or a plain file path → SQLite.
    Nothing is opened until the first statement. ``kwargs``: ``pool_size``, ``busy_timeout``."""
    url = url or database_url()
    scheme = urlsplit(url).scheme.lower()
    if scheme in POSTGRES_SCHEMES:
        return PostgresDatabase(url, **kwargs)
    if scheme == "sqlite" or "://" not in url:  # a URL of SQLite, or a plain file path
        return SQLiteDatabase(url, **kwargs)
    raise DatabaseError(f"Unknown database URL {redacted(url)!r}: expected postgresql://… or sqlite:///path.")
