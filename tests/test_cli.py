"""The `playground` command: --help, labs/models as JSON, run, unknown lab."""
import json
import subprocess
import sys

from playground.web.cli import main


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "playground.web.cli", *args], capture_output=True, text=True, timeout=300, env=env)


def test_help_everywhere():
    for args in ([], ["labs"], ["models"], ["new-lab"], ["run"], ["serve"]):
        out = run_cli(*args, "--help")
        assert out.returncode == 0, out.stderr
        assert "usage: playground" in out.stdout
    as_module = subprocess.run([sys.executable, "-m", "playground", "--help"], capture_output=True, text=True, timeout=300)
    assert as_module.returncode == 0 and "usage: playground" in as_module.stdout, as_module.stderr


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    for key in ("id", "kind", "available", "reason", "loaded", "device"):
        assert key in rows["minilm"]
    assert rows["minilm"]["available"] is True and rows["glove"]["kind"] == "text"
    assert rows["clip-vit-b-32"]["available"] is False and rows["clip-vit-b-32"]["kind"] == "image-text"


def test_models_load_shows_what_loading_measures(capsys):
    assert main(["models", "--load", "glove"]) == 0
    out = capsys.readouterr().out
    assert "loaded on cpu, backend numpy" in out  # glove's row, loaded; no other model is
    assert out.count("loaded on") == 1
    assert main(["models", "--load", "no-such-model"]) == 2
    assert "cannot load 'no-such-model'" in capsys.readouterr().err


def test_labs_json_lists_labs_and_failed_plugins(capsys, tmp_path, monkeypatch):
    from test_plugins import install_fake_distribution

    install_fake_distribution(tmp_path, monkeypatch, "broken-lab", "broken", "broken_cli_mod", "import not_a_module_anywhere")
    monkeypatch.setenv("PLAYGROUND_PLUGINS", "broken")
    assert main(["labs", "--json"]) == 1  # a plugin failed
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        assert {"id", "title", "plugin", "error"} <= set(row)
    broken = [r for r in rows if r["plugin"] == "broken"]
    assert len(broken) == 1 and "not_a_module_anywhere" in broken[0]["error"]
    assert broken[0]["fix"].startswith("`pip install not_a_module_anywhere`")
    assert any(r["id"] == "anisotropy" and r["error"] is None for r in rows)


def test_run_unknown_lab_lists_known_labs(capsys):
    assert main(["run", "no_such_lab"]) == 2
    err = capsys.readouterr().err
    assert "unknown lab 'no_such_lab'" in err and "anisotropy" in err


def test_run_lab_help_shows_its_options():
    out = run_cli("run", "anisotropy", "--help")
    assert out.returncode == 0 and "--json" in out.stdout and "--models" in out.stdout
