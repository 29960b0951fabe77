"""``playground new-lab NAME``: write a student lab package that installs and passes its own test.

The files come from ``templates/lab/``; ``examples/hello_lab`` is exactly what
``write_lab("hello")`` writes (a test keeps the two equal).
"""
from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Iterable

from playground.contract.lab import _SLUG, SLUG_RULE, slug_suggestion

TEMPLATES = Path(__file__).parent / "templates" / "lab"


def lab_names(name: str) -> dict[str, str]:
    """The names derived from NAME, which is the lab id exactly as typed: lab id
    ``hello``, module/folder ``hello_lab``, ...; a NAME that already ends in ``_lab`` is
    also the module's name. A NAME that is not a valid id is refused with the rule."""
    if not _SLUG.match(name):
        raise ValueError(
            f"{name!r} is not a lab id: use {SLUG_RULE}. "
            f"Try `playground new-lab {slug_suggestion(name)}`."
        )
    module = name if name.endswith("_lab") else f"{name}_lab"
    title = name.replace("_", " ").capitalize()
    return {
        "lab_id": name,
        "module": module,
        "dist_name": module.replace("_", "-"),
        "title": title if name.endswith("_lab") else f"{title} lab",
    }


def check_id_free(name: str, taken: Iterable[str]) -> None:
    """Refuse an id another installed lab (a built-in one included) already uses."""
    taken = set(taken)
    if name in taken:
        raise ValueError(
            f"lab id {name!r} is already taken by an installed lab (`playground labs` lists them). "
            f"Choose another, e.g. `playground new-lab my_{name}`."
        )


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


def write_lab(name: str, parent: str = ".", taken: Iterable[str] = ()) -> Path:
    """Write the package folder ``<parent>/<module>``; refuses to overwrite, and
    refuses an id in ``taken`` (the ids of the installed labs)."""
    check_id_free(name, taken)
    files = render_lab(name)
    folder = Path(parent) / lab_names(name)["module"]
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; choose another name or remove it.")
    folder.mkdir(parents=True)
    for filename, content in files.items():
        (folder / filename).write_text(content)
    return folder
