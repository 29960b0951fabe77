"""A throwaway PostgreSQL server for the tests: ``initdb`` in a temporary folder, ``pg_ctl``
on a free loopback port, stopped and deleted at the end. No mock, no network.

The binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<v>/bin``,
or ``initdb``/``pg_ctl`` on PATH). PostgreSQL refuses to run as root ("cannot be run as
root"), so under root the server runs as the ``postgres`` system user the package
creates (else ``nobody``) through ``runuser``, in a folder handed to that user.

Missing binaries skip the tests that need the server, with the reason, unless
``PLAYGROUND_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from typing import Optional

REQUIRE_ENV = "PLAYGROUND_REQUIRE_POSTGRES"
SUPERUSER = "playground"


def postgres_bin_dir() -> Optional[str]:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: PATH's, else the newest Debian one."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(on_path))
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.isfile(os.path.join(folder, "initdb")):
            return folder
    return None


def _run_as() -> Optional[str]:
    """The user the server runs as when we are root; None when we are not (it runs as us)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("Running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL.")


class PostgresServer:
    """``with PostgresServer() as pg: pg.url`` — a running server (trust authentication on
    127.0.0.1 only) and the URL of its ``postgres`` database; ``pg.new_database()``
    makes an empty database and returns its URL."""

    def __init__(self, port: int, bin_dir: Optional[str] = None) -> None:
        self.port = port
        self.bin_dir = bin_dir or postgres_bin_dir()
        if not self.bin_dir:
            raise FileNotFoundError("initdb/pg_ctl not found (Debian: apt-get install postgresql)")
        self.user = _run_as()
        self.folder = ""
        self._databases = 0

    @property
    def url(self) -> str:
        return self.url_of("postgres")

    def url_of(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        exe = [os.path.join(self.bin_dir, args[0]), *args[1:]]
        return ["runuser", "-u", self.user, "--", *exe] if self.user else exe

    def start(self) -> "PostgresServer":
        """initdb, then start the server and wait until it accepts connections; on any
        failure nothing is left running or on disk."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "PostgresServer":
        # Not under pytest's tmp_path: its parents are 0700 root, which the server's user cannot enter.
        self.folder = tempfile.mkdtemp(prefix="playground-pg-")
        data = os.path.join(self.folder, "data")
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        subprocess.run(self._cmd("initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                                 "--no-sync", "--no-instructions"),
                       check=True, capture_output=True, text=True, timeout=120)
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        started = subprocess.run(self._cmd("pg_ctl", "-D", data, "-l", os.path.join(self.folder, "log"),
                                           "-o", options, "-w", "-t", "60", "start"),
                                 capture_output=True, text=True, timeout=90)
        if started.returncode:
            log = self.log_tail()
            raise RuntimeError(f"pg_ctl start failed: {started.stderr or started.stdout}\n{log}")
        return self

    def log_tail(self, chars: int = 2000) -> str:
        try:
            with open(os.path.join(self.folder, "log"), encoding="utf-8", errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def new_database(self) -> str:
        """An empty database of its own (so tests do not see each other's tables); its URL."""
        import psycopg

        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_of(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are closed) and delete its folder."""
        if not self.folder:
            return
        data = os.path.join(self.folder, "data")
        if os.path.isfile(os.path.join(data, "postmaster.pid")):
            subprocess.run(self._cmd("pg_ctl", "-D", data, "-m", "fast", "-w", "stop"),
                           capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = ""

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def unavailable_reason() -> str:
    """Why a PostgreSQL server cannot be started here ("" when it can)."""
    if not postgres_bin_dir():
        return "PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql)"
    if importlib.util.find_spec("psycopg") is None:
        return 'psycopg 3 is not installed (pip install "psycopg[binary]")'
    return ""
