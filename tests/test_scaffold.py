"""`playground new-lab`: what it writes installs with pip and passes its own tests;
examples/hello_lab is exactly that output."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.cli import main
from playground.scaffold import lab_names, render_lab

ROOT = Path(__file__).resolve().parents[1]


def test_names():
    assert lab_names("hello")["module"] == "hello_lab"
    assert lab_names("My-Probe")["lab_id"] == "my_probe"
    assert lab_names("probe_lab")["lab_id"] == "probe"
    with pytest.raises(ValueError):
        lab_names("9lives")


def test_example_hello_lab_is_the_scaffold_output():
    for filename, content in render_lab("hello").items():
        assert (ROOT / "examples" / "hello_lab" / filename).read_text() == content, filename


def test_new_lab_refuses_to_overwrite(tmp_path, capsys):
    assert main(["new-lab", "foo", "--dir", str(tmp_path)]) == 0
    assert main(["new-lab", "foo", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_new_lab_installs_and_passes_its_own_tests(tmp_path):
    assert main(["new-lab", "foo", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "foo_lab"
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    assert list(site.glob("playground_foo_lab-*.dist-info"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "test_foo_lab.py")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
