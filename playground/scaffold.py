"""``playground new-lab NAME``: write a student lab package that installs and passes its own test.

The files come from ``templates/lab/``; ``examples/hello_lab`` is exactly what
``write_lab("hello")`` writes (a test keeps the two equal).
"""
from __future__ import annotations

import re
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).parent / "templates" / "lab"


def lab_names(name: str) -> dict[str, str]:
    """The names derived from NAME: lab id ``hello``, module/folder ``hello_lab``, ..."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    lab_id = re.sub(r"_lab$", "", slug)
    if not lab_id or not lab_id[0].isalpha():
        raise ValueError(
            f"{name!r} cannot name a lab: use letters, digits and '_', starting with a letter (e.g. my_probe)."
        )
    return {
        "lab_id": lab_id,
        "module": f"{lab_id}_lab",
        "dist_name": lab_id.replace("_", "-") + "-lab",
        "title": lab_id.replace("_", " ").capitalize() + " lab",
    }


def render_lab(name: str) -> dict[str, str]:
    """File name -> content of the package for NAME."""
    names = lab_names(name)
    module = names["module"]
    out_names = {
        "pyproject.toml.tmpl": "pyproject.toml",
        "module.py.tmpl": f"{module}.py",
        "test_module.py.tmpl": f"test_{module}.py",
        "README.md.tmpl": "README.md",
    }
    return {out: Template((TEMPLATES / tmpl).read_text()).substitute(names) for tmpl, out in out_names.items()}


def write_lab(name: str, parent: str = ".") -> Path:
    """Write the package folder ``<parent>/<lab_id>_lab``; refuses to overwrite."""
    files = render_lab(name)
    folder = Path(parent) / lab_names(name)["module"]
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; choose another name or remove it.")
    folder.mkdir(parents=True)
    for filename, content in files.items():
        (folder / filename).write_text(content)
    return folder
