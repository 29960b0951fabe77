"""Issue 32's acceptance: PostgreSQL, two `playground serve --no-dev` replicas sharing it
(``PLAYGROUND_DATABASE_URL``) and nginx in front (deploy/nginx.conf), all on loopback,
every process started here and stopped at the end. A class of ``STUDENTS`` simulated
students (gradio_client, each with the sticky cookie a browser keeps, at most ``WORKERS``
at once) votes and runs across both replicas; the instructor view and the CSV, read
through either replica, count exactly the votes sent. Then one replica is killed (SIGKILL)
halfway: the other half of the class votes, the first half changes its votes, and every
request is answered, by the survivor, and the count stays exact.
"""
from __future__ import annotations

import csv
import io
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port
from nginx_server import NginxServer, nginx_or_skip
from replica_servers import API, START_SECONDS, start_replica, stop, student, total_shown, vote, wait_until_up
from playground.contract.testing import call_api, student_client
from plugins.anisotropy.compute import PREDICT_CHOICES

STUDENTS = 100
WORKERS = 8  # simulated students at once: the load is bounded, the class is not
HALF = STUDENTS // 2
TOKEN = "replica-test-token"
CHOICES = list(PREDICT_CHOICES)[:2]


def each(fn, items) -> list:
    """``fn`` of every item, ``WORKERS`` at a time; an exception in any fails the test."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, items, timeout=600))


def instructor_counts(url: str) -> tuple[int, list[dict]]:
    """Through the replica at ``url``: the votes the instructor view shows for the anisotropy
    question of the class ``default``, and the rows of the class's CSV download."""
    teacher = student_client(url)
    view = teacher.predict(TOKEN, "", api_name="/classroom_votes")
    shown = re.search(r"\*\*Votes\*\* \((\d+) votes?\)", view)
    path = teacher.predict(TOKEN, "", api_name="/classroom_export")
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    return (int(shown.group(1)) if shown else 0), rows


def vote_and_run(clients, i: int, choice: str) -> str:
    """Student ``i`` votes ``choice`` and runs the lab (a queued run, its events through nginx);
    returns the bars their vote showed."""
    text = vote(clients[i], API, choice, i)
    call_api(clients[i], "/anisotropy_run", a="glove", b="minilm", prediction=choice)
    return text


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_class_of_100_on_postgresql_across_two_replicas_loses_no_vote_when_one_dies(tmp_path, postgres_server):
    nginx_or_skip()
    database = postgres_server.new_database()
    ports = [free_port(), free_port()]
    logs = [str(tmp_path / f"replica{n}.log") for n in range(2)]
    replicas = [start_replica(port, str(tmp_path / f"data{n}"), log, PLAYGROUND_DATABASE_URL=database,
                              PLAYGROUND_INSTRUCTOR_TOKEN=TOKEN) for n, (port, log) in enumerate(zip(ports, logs))]
    direct = [f"http://127.0.0.1:{port}/" for port in ports]
    timings = {}
    try:
        started = time.time()
        for process, url, log in zip(replicas, direct, logs):
            wait_until_up(url, process, log, started + START_SECONDS)
        timings["start"] = time.time() - started
        with NginxServer(free_port(), ports) as nginx:
            started = time.time()
            clients = each(lambda i: student(nginx.url, i), range(STUDENTS))
            timings["clients"] = time.time() - started

            # The first half of the class votes and runs, spread over both replicas.
            started = time.time()
            each(lambda i: vote_and_run(clients, i, CHOICES[i % 2]), range(HALF))
            timings["first half"] = time.time() - started
            served = {u.split(", ")[-1] for u in nginx.upstreams_seen() if u}
            assert served >= {f"127.0.0.1:{p}" for p in ports}, served
            for url in direct:  # either replica shows the whole class, in its view and its CSV
                shown, rows = instructor_counts(url)
                assert shown == len(rows) == HALF, (url, shown, len(rows))

            # One replica dies mid-class (SIGKILL: no goodbye).
            replicas[0].send_signal(signal.SIGKILL)
            replicas[0].wait(timeout=30)
            logged_before = len(nginx.upstreams_seen())
            started = time.time()
            # The second half votes and runs; the first half changes its votes (a re-vote replaces).
            each(lambda i: vote_and_run(clients, i, CHOICES[i % 2]) if i >= HALF
                         else vote(clients[i], API, CHOICES[(i + 1) % 2], i), range(STUDENTS))
            timings["second half, one replica"] = time.time() - started
            survivor = f"127.0.0.1:{ports[1]}"
            later = nginx.upstreams_seen()[logged_before:]
            assert later and all(u.split(", ")[-1] == survivor for u in later)  # every request answered, by the survivor

            shown, rows = instructor_counts(direct[1])
            assert shown == len(rows) == STUDENTS
            kept = {row["student"]: row["choice"] for row in rows}
            assert len(kept) == STUDENTS  # one row per student: nothing lost, nothing twice
            expected = sorted([CHOICES[(i + 1) % 2] for i in range(HALF)] + [CHOICES[i % 2] for i in range(HALF, STUDENTS)])
            assert sorted(kept.values()) == expected  # the first half's changed votes, the second half's first
            assert total_shown(vote(clients[0], API, CHOICES[1], 0)) == STUDENTS  # and the students' page says so
    finally:
        stop(replicas)
    print(f"\n{STUDENTS} students, {WORKERS} at once; seconds: "
          + ", ".join(f"{name} {seconds:.0f}" for name, seconds in timings.items()))
