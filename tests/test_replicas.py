"""Two `playground serve --no-dev` replicas behind nginx (the shipped deploy/nginx.conf) on
loopback, every process started here and stopped at the end: both replicas answer through
nginx, sticky by the cookie nginx hands out, a Gradio API call works through it, every
vote counts in the one class, and with one replica killed the other answers its students.

The replicas share the class through one SQLite file here (one machine); on several
machines they share it through PostgreSQL (``PLAYGROUND_DATABASE_URL``).
"""
from __future__ import annotations

import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port
from nginx_server import NginxServer, nginx_or_skip
from replica_servers import API, START_SECONDS, start_replica, stop, student, total_shown, vote, wait_until_up
from playground.contract.testing import call_api
from plugins.anisotropy.compute import PREDICT_CHOICES

STUDENTS = 16
CHOICES = list(PREDICT_CHOICES)[:2]  # two replicas importing torch and building every lab at once, on two shared cores


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

            clients = [student(nginx.url, i) for i in range(STUDENTS)]
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
        stop(replicas)
    store = VoteStore(os.path.join(data_dir, "classroom.sqlite3"))
    assert store.count() == STUDENTS
    csv_rows = store.export_csv().strip().splitlines()[1:]
    assert len(csv_rows) == STUDENTS
    kept = {row.split(",")[4]: row.split(",")[5] for row in csv_rows}  # student -> choice
    assert sorted(kept.values()) == sorted(CHOICES[(i + 1) % 2] for i in range(STUDENTS))  # the votes after the kill
    store.close()
