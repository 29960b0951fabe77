"""`playground new-lab`: what it writes installs with pip and passes its own tests;
examples/hello_lab is exactly that output."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.web.cli import main
from playground.contract.scaffold import lab_names, render_lab

ROOT = Path(__file__).resolve().parents[1]


def test_names_keep_the_id_typed():
    assert lab_names("hello") == {"lab_id": "hello", "module": "hello_lab", "dist_name": "hello-lab", "title": "Hello lab"}
    assert lab_names("probe_lab")["lab_id"] == "probe_lab" and lab_names("probe_lab")["module"] == "probe_lab"


@pytest.mark.parametrize("name, suggestion", [("My-Lab", "my_lab"), ("9lives", "lives"), ("nearest neighbours", "nearest_neighbours")])
def test_new_lab_refuses_an_id_that_is_not_a_slug_with_the_rule(name, suggestion, tmp_path, capsys):
    assert main(["new-lab", name, "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{name!r} is not a lab id: use lowercase letters, digits and '_', starting with a letter." in err
    assert f"Try `playground new-lab {suggestion}`." in err
    assert list(tmp_path.iterdir()) == []


def test_new_lab_refuses_an_id_taken_by_an_installed_lab(tmp_path, capsys):
    assert main(["new-lab", "anisotropy", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "lab id 'anisotropy' is already taken by an installed lab" in err
    assert "`playground new-lab my_anisotropy`" in err
    assert list(tmp_path.iterdir()) == []


def test_new_lab_prints_the_id_it_kept(tmp_path, capsys):
    assert main(["new-lab", "nearest", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Created {tmp_path / 'nearest_lab'} (lab id 'nearest')")
    assert "id=\"nearest\"" in (tmp_path / "nearest_lab" / "nearest_lab.py").read_text()


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
    assert "4 passed" in result.stdout
    labs = subprocess.run(
        [sys.executable, "-m", "playground.web.cli", "labs"], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert labs.returncode == 0, labs.stdout + labs.stderr
    assert "ok    foo                Foo lab                            (foo)" in labs.stdout.splitlines()


# Each mistake a student makes in the scaffolded module, and a phrase of the fix that
# the scaffold's own tests must print when they fail because of it.
SCAFFOLD_MISTAKES = {
    "noep": (None, "Add `[project.entry-points.playground]`"),  # pyproject without the entry point
    "nohook": (("@hookimpl\ndef register_labs", "def register_labs"), "Did you forget @hookimpl?"),
    "returned": (("def register_labs(register):\n    register(", "def register_labs():\n    return ("),
                 "instead of `return Lab(...)`"),
    "typo": (("def register_labs(register):", "def register_lab(register):"), "did you mean `register_labs`?"),
    "raising": (('    gr.Markdown("Type', '    raise RuntimeError("half-finished tab")\n    gr.Markdown("Type'),
                "Fix the lab's `build(ctx)`"),
    "badid": (('id="badid"', 'id="Bad-Id"'), "Use `Lab(id='bad_id', ...)`"),
    "clash": (('id="clash"', 'id="anisotropy"'), "Choose another id in `Lab(id=...)`"),
    "unpref": (('api_name="unpref_compare"', 'api_name="compare"'), 'Pass `api_name="unpref_compare"`'),
    "compute": ((".encode_texts(sentences)", ".encode_text(sentences)"), "Fix that line and save"),
}


@pytest.mark.slow
def test_scaffold_tests_print_each_mistake_with_its_fix(tmp_path):
    """Scaffold one lab per mistake, break it, and run all their tests at once: each
    lab's failing tests show the plugin error and its fix, not `assert [] == [...]`."""
    import xml.etree.ElementTree as ET

    packages = tmp_path / "labs"
    for name, (edit, _) in SCAFFOLD_MISTAKES.items():
        assert main(["new-lab", name, "--dir", str(packages)]) == 0
        module = packages / f"{name}_lab" / f"{name}_lab.py"
        if edit is not None:
            assert edit[0] in module.read_text(), name
            module.write_text(module.read_text().replace(edit[0], edit[1]))
    pyproject = packages / "noep_lab" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('[project.entry-points.playground]\nnoep = "noep_lab"\n', ""))
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(packages / "noep_lab")],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr

    report = tmp_path / "report.xml"
    folders = [str(packages / f"{name}_lab") for name in SCAFFOLD_MISTAKES]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *folders, str(ROOT)])}
    env.pop("PLAYGROUND_PLUGINS", None)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *folders],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env,
    )
    failures: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        for failure in [*case.iter("failure"), *case.iter("error")]:
            module = case.get("classname").rsplit(".", 1)[-1]
            failures[module] = failures.get(module, "") + (failure.get("message") or "") + (failure.text or "")
    for name, (_, fix) in SCAFFOLD_MISTAKES.items():
        text = failures.get(f"test_{name}_lab", "")
        assert fix in text, f"{name}: {fix!r} not in the scaffold tests' failures:\n{text[-3000:]}"
        assert "assert [] ==" not in text, name


def test_readme_shows_what_new_lab_prints(tmp_path, monkeypatch, capsys):
    """The README's "Write your own lab" quotes new-lab's output and refusals verbatim."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Write your own lab"):readme.index("### The plugin contract")]
    monkeypatch.chdir(tmp_path)
    assert main(["new-lab", "my_probe"]) == 0
    assert f"```\n{capsys.readouterr().out}```" in section
    for refused in ("My-Probe", "anisotropy"):
        assert main(["new-lab", refused]) == 2
        assert capsys.readouterr().err in section


def test_scaffold_declares_a_test_extra_with_pytest_and_says_to_install_it(tmp_path, capsys):
    """Issue 30, item 8: `pytest my_lab` works after the install the lab's README names."""
    import tomllib

    files = render_lab("probe")
    project = tomllib.loads(files["pyproject.toml"])["project"]
    assert any(req.startswith("pytest") for req in project["optional-dependencies"]["test"])
    assert 'pip install -e ".[test]"' in files["README.md"]
    assert main(["new-lab", "probe", "--dir", str(tmp_path)]) == 0
    assert f'pip install -e "{tmp_path / "probe_lab"}[test]"' in capsys.readouterr().out
    assert 'pip install -e "./my_probe_lab[test]"' in (ROOT / "README.md").read_text()
