"""The repository runs as a Hugging Face Space unchanged, and CI runs the README's test command."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_requirements_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["space"]  # spaces: ZeroGPU's decorator
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert sorted(lines) == sorted(deps)


def test_readme_front_matter_names_the_space_entry():
    head = (ROOT / "README.md").read_text().split("---")[1]
    assert re.search(r"^sdk: gradio$", head, re.M) and re.search(r"^app_file: app.py$", head, re.M)
    assert re.search(r"^hf_oauth: true$", head, re.M)  # the optional login (playground/web/login.py)
    assert (ROOT / "app.py").exists()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"<!-- test-command -->\s*```(?:bash)?\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in ci
