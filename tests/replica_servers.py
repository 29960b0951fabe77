"""Replicas of ``playground serve --no-dev`` for the tests that put them behind nginx
(tests/test_replicas.py, tests/test_replicas_postgres.py): start one, wait until it answers,
a student's sticky client, a vote, the count the page shows, stop them all."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

from playground.contract.testing import student_client

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
START_SECONDS = 240
API = "/anisotropy_class_run"  # the vote (and the class's bars) of the anisotropy lab's question


def start_replica(port: int, data_dir: str, log_path: str, **env: str) -> subprocess.Popen:
    """``python -m playground serve --no-dev`` on 127.0.0.1:``port``, this checkout's code,
    the class's votes in ``data_dir`` unless ``env`` (more environment variables) names a
    ``PLAYGROUND_DATABASE_URL``."""
    env = dict(os.environ, PYTHONPATH=REPO, PLAYGROUND_DATA_DIR=data_dir, **env)
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


def student(url: str, i: int):
    """Student ``i``'s gradio_client, with the sticky cookie a browser would keep (a
    Python client keeps no cookie jar, so it sends one of its own)."""
    return student_client(url, headers={"Cookie": f"playground_replica=student-{i}"})


def vote(client, api_name: str, choice: str, i: int) -> str:
    """Student ``i`` votes ``choice`` (their browser id fixed, as a page's localStorage keeps
    it); returns the class's bars the page shows."""
    text, _ = client.predict(choice, f"{i:032x}", api_name=api_name)
    return text


def total_shown(text: str) -> int:
    return int(re.search(r"\((\d+) votes?\)", text).group(1))


def stop(processes) -> None:
    """Stop every process still running (SIGTERM, then SIGKILL after 20 s)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
