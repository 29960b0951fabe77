"""Every notebook under notebooks/ runs offline from a fresh kernel, as a student opens it:
no cell fails, each ``pg.run`` cell draws its plotly figures, and every notebook opens
with a Colab badge and the install cell that says how to allow Hub downloads."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extras")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extras")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extras")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PLOTLY = "application/vnd.plotly.v1+json"
FAMILIES = {"geometry", "image_text", "simclr", "fine_tune", "objectives", "siglip_variants"}


def test_one_notebook_per_lab_family_each_opening_with_colab_and_install():
    assert {path.stem for path in NOTEBOOKS} == FAMILIES
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        assert "colab.research.google.com/assets/colab-badge.svg" in cells[0].source, path.name
        assert f"notebooks/{path.name}" in cells[0].source, path.name
        assert "pip" in cells[1].source and 'os.environ["PLAYGROUND_HUB"] = "1"' in cells[1].source, path.name
        assert cells[2].source.startswith("from playground import notebook as pg"), path.name
        assert all(not c.get("outputs") for c in cells if c.cell_type == "code"), f"{path.name} is saved with outputs"


def offline_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PLAYGROUND_HUB", "SPACE_ID")}
    env["HF_HUB_OFFLINE"] = "1"  # no cell may reach for the network
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_offline_and_draws_its_figures(path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=540, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=offline_env())  # raises CellExecutionError, with the cell and its traceback, on an error

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert errors == []
    tracebacks = [out.text for cell in code for out in cell.outputs
                  if out.output_type == "stream" and out.name == "stderr" and "Traceback" in out.text]
    assert tracebacks == []
    runs = [cell for cell in code if "pg.run(" in cell.source and "try:" not in cell.source]
    assert runs, f"{path.name} runs no lab"
    for cell in runs:
        figures = [out for out in cell.outputs if PLOTLY in out.get("data", {})]
        assert figures, f"{path.name}: no figure from\n{cell.source}"


def test_every_badge_and_install_cell_points_at_the_declared_repository():
    """One address for the project, declared in pyproject.toml: every notebook's Colab badge
    opens its own file there and its install cell installs from it."""
    import tomllib

    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    path = repository.removeprefix("https://github.com/")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = notebook.read_text()
        assert f"colab.research.google.com/github/{path}/blob/main/notebooks/{notebook.name}" in text, notebook.name
        assert f"git+{repository}" in text, notebook.name
