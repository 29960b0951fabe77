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


def test_readme_cpu_torch_command_asks_for_pyprojects_torch_range():
    """The README's CPU-only install names the torch range pyproject.toml requires: a CPU build
    outside it would be replaced by PyPI's (CUDA) torch at `pip install -e .`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_spec = next(d for d in project["dependencies"] if re.match(r"torch\b(?!vision)", d))
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- cpu-torch-command -->\n```bash\n(.*?)\n```", readme, re.S).group(1)
    assert f'pip install "{torch_spec}" --index-url https://download.pytorch.org/whl/cpu' in block
    assert block.endswith("pip install -e .")
