"""Issue 30, item 1: a lab scaffolded and installed editable in the current folder
stays healthy when the playground runs as ``python -m playground`` from that folder,
where ``./two_cos_lab/`` would otherwise shadow the installed module as an empty
namespace package."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.web.devserver import child_command

ROOT = Path(__file__).resolve().parents[1]
HEALTHY = "ok    two_cos            Two cos lab                        (two_cos)"


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_scaffolded_editable_lab_is_healthy_from_its_parent_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    scaffold = subprocess.run([sys.executable, "-m", "playground", "new-lab", "two_cos"],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert scaffold.returncode == 0, scaffold.stderr
    install = _pip("install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(tmp_path / "two_cos_lab"))
    assert install.returncode == 0, install.stderr
    try:
        # The user's own `python -m playground labs`: the current folder is on sys.path.
        plain = subprocess.run([sys.executable, "-m", "playground", "labs"],
                               capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
        assert HEALTHY in plain.stdout.splitlines(), plain.stdout + plain.stderr
        # The dev server's child, as the devserver builds its command.
        child = subprocess.run([*child_command(), "labs"], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
        assert HEALTHY in child.stdout.splitlines(), child.stdout + child.stderr
        assert child.returncode == plain.returncode == 0
    finally:
        _pip("uninstall", "--yes", "playground-two-cos-lab")


def test_an_empty_folder_without_an_installed_module_is_named_as_such(tmp_path, monkeypatch):
    """No installed module behind the folder: the error says the name resolved to
    the folder, rather than 'the plugin defines no hook function'."""
    import importlib.metadata

    from playground.contract.plugins import create_plugin_manager

    (tmp_path / "ghost_lab").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = importlib.metadata.EntryPoint(name="ghost", value="ghost_lab", group="playground")
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: [ep] if group == "playground" else [])
    monkeypatch.delitem(sys.modules, "ghost_lab", raising=False)
    pm = create_plugin_manager(builtins=())
    error = pm.infos["ghost"].error
    assert error is not None and error.stage == "import"
    assert "resolved to the folder" in error.message and "empty namespace package" in error.message
    assert "pip install -e" in error.fix
