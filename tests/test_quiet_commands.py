"""Issue 30, items 9 and 10: `playground labs` writes nothing where it runs (the
classroom's database opens on first use), and a `--json` headless run keeps stderr
free of progress bars unless `--verbose`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.classroom import VoteStore
from playground.web.cli import QUIET_ENV

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PLAYGROUND_DATA_DIR", None)  # the default: ./data, where the command runs
    for name in QUIET_ENV:  # a shell that already silenced the bars would hide what is tested
        env.pop(name, None)
    return env


def test_playground_labs_writes_nothing_in_its_folder(tmp_path):
    labs = subprocess.run([sys.executable, "-m", "playground", "labs"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=_env())
    assert labs.returncode == 0, labs.stdout + labs.stderr
    assert "ok    anisotropy" in labs.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_vote_store_opens_its_file_on_first_use(tmp_path):
    path = tmp_path / "data" / "classroom.sqlite3"
    store = VoteStore(str(path))
    store.register("lab", "q", "Which?", ["a", "b"])
    assert not path.exists()
    assert store.record("lab", "q", "a", "s1") and path.exists()
    assert store.distribution("lab", "q") == {"a": 1, "b": 0}


def test_problem_reports_an_unopenable_database_before_any_vote(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert "not being recorded" in VoteStore(str(blocker / "sub" / "v.sqlite3")).problem


@pytest.mark.slow
def test_json_run_is_quiet_on_stderr_unless_verbose(tmp_path):
    command = [sys.executable, "-m", "playground", "run", "anisotropy", "--json"]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env())
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout) and quiet.stderr == ""
    verbose = subprocess.run([*command, "--verbose"], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env())
    assert verbose.returncode == 0 and json.loads(verbose.stdout) == json.loads(quiet.stdout)
    assert "Loading weights" in verbose.stderr  # the bars are still there when asked for
