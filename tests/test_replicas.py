"""Two `playground serve --no-dev` replicas behind nginx (the shipped deploy/nginx.conf) on
loopback, every process started here and stopped at the end: both replicas answer through
nginx, sticky by the cookie nginx hands out, a Gradio API call works through it, every
vote counts in the one class, and with one replica killed the other answers its students.

The replicas share the class through one SQLite file here (one machine); on several
machines they share it through PostgreSQL (``PLAYGROUND_DATABASE_URL``).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port
from nginx_server import NginxServer, nginx_or_skip
from playground.contract.testing import call_api
from plugins.anisotropy.compute import PREDICT_CHOICES

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STUDENTS = 16
START_SECONDS = 240
API = "/anisotropy_class_run"  # the vote (and the class's bars) of the anisotropy lab's question
CHOICES = list(PREDICT_CHOICES)[:2]  # two replicas importing torch and building every lab at once, on two shared cores


def start_replica(port: int, data_dir: str, log_path: str) -> subprocess.Popen:
    """``python -m playground serve --no-dev`` on 127.0.0.1:``port``, this checkout's code,
    the class's votes in ``data_dir``."""
    env = dict(os.environ, PYTHONPATH=REPO, PLAYGROUND_DATA_DIR=data_dir)
    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, "-m", "playground", "serve", "--no-dev", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, process: subprocess.Popen, log_path: str, deadline: float) -> None:
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica exited ({process.returncode}):\n{open(log_path).read()[-3000:]}")
        try:
            urllib.request.urlopen(url + "gradio_api/info", timeout=5)
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"replica {url} not up in {START_SECONDS} s:\n{open(log_path).read()[-3000:]}")


def student_client(url: str, i: int):
    """Student ``i``'s gradio_client, with the sticky cookie a browser would keep (a
    Python client keeps no cookie jar, so it sends one of its own)."""
    from gradio_client import Client

    return Client(url, headers={"Cookie": f"playground_replica=student-{i}"}, verbose=False)


def vote(client, api_name: str, choice: str, i: int) -> str:
    """Student ``i`` votes ``choice`` (their browser id fixed, as a page's localStorage keeps
    it); returns the class's bars the page shows."""
    text, _ = client.predict(choice, f"{i:032x}", api_name=api_name)
    return text


def total_shown(text: str) -> int:
    return int(re.search(r"\((\d+) votes?\)", text).group(1))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_replicas_behind_nginx_serve_one_class_and_survive_one_dying(tmp_path):
    nginx_or_skip()

    from playground.classroom import VoteStore

    data_dir = str(tmp_path / "class")
    ports = [free_port(), free_port()]
    logs = [str(tmp_path / f"replica{n}.log") for n in range(2)]
    replicas = [start_replica(port, data_dir, log) for port, log in zip(ports, logs)]
    try:
        deadline = time.time() + START_SECONDS
        for process, port, log in zip(replicas, ports, logs):
            wait_until_up(f"http://127.0.0.1:{port}/", process, log, deadline)
        with NginxServer(free_port(), ports) as nginx:
            # A browser's first visit gets the sticky cookie, and its own replica.
            with urllib.request.urlopen(nginx.url, timeout=30) as first:
                assert first.status == 200 and "playground_replica=" in (first.headers.get("Set-Cookie") or "")

            clients = [student_client(nginx.url, i) for i in range(STUDENTS)]
            assert "/anisotropy_class_run" in clients[0].view_api(return_format="dict", print_info=False)[
                "named_endpoints"]  # a Gradio API call through nginx
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda i: vote(clients[i], API, CHOICES[i % 2], i), range(STUDENTS), timeout=300))
            # A queued run: Gradio's queue and its server-sent events through nginx.
            call_api(clients[0], "/anisotropy_run", a="glove", b="minilm", prediction=CHOICES[0])
            served = {u for u in nginx.upstreams_seen() if u}
            assert served >= {f"127.0.0.1:{p}" for p in ports}, served  # the students spread over both
            # Every replica sees the whole class: a re-vote (it replaces, not adds) through each shows all.
            totals = {total_shown(vote(clients[i], API, CHOICES[i % 2], i)) for i in range(4)}
            assert totals == {STUDENTS}, totals

            # One replica dies mid-class (SIGKILL: no goodbye); every later request is answered.
            replicas[0].send_signal(signal.SIGKILL)
            replicas[0].wait(timeout=30)
            logged_before = len(nginx.upstreams_seen())
            with ThreadPoolExecutor(max_workers=4) as pool:
                after = list(pool.map(
                    lambda i: vote(clients[i], API, CHOICES[(i + 1) % 2], i),
                    range(STUDENTS), timeout=300))
            # The dead replica's students start a fresh session on the survivor: their runs work too.
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda c: call_api(c, "/anisotropy_run", a="glove", b="minilm", prediction=CHOICES[0]),
                              clients, timeout=300))
            assert all(total_shown(text) == STUDENTS for text in after)  # changed votes: still one per student
            survivor = f"127.0.0.1:{ports[1]}"
            for upstream in nginx.upstreams_seen()[logged_before:]:
                assert upstream.split(", ")[-1] == survivor, upstream  # answered by the survivor in the end
    finally:
        for process in replicas:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
    store = VoteStore(os.path.join(data_dir, "classroom.sqlite3"))
    assert store.count() == STUDENTS
    csv_rows = store.export_csv().strip().splitlines()[1:]
    assert len(csv_rows) == STUDENTS
    kept = {row.split(",")[4]: row.split(",")[5] for row in csv_rows}  # student -> choice
    assert sorted(kept.values()) == sorted(CHOICES[(i + 1) % 2] for i in range(STUDENTS))  # the votes after the kill
    store.close()
