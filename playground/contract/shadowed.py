"""Load an entry point's module even when a folder of the same name in the current
directory shadows it.

``python -m ...`` puts the current folder first on ``sys.path``. A lab scaffolded
there (``playground new-lab two_cos`` writes ``./two_cos_lab/two_cos_lab.py``) and
installed editable is then found as ``./two_cos_lab``, an empty namespace package,
before setuptools' editable finder gets a say; the plugin then seems to define no
hook. This module detects that case and imports the installed module instead.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from pathlib import Path


def is_empty_namespace(module: object) -> bool:
    """True for a namespace package (no ``__init__.py``, no file of its own)."""
    return getattr(module, "__file__", None) is None and hasattr(module, "__path__")


def _current_folder_entries() -> list[str]:
    """The ``sys.path`` entries that stand for the current folder ('' and its spellings)."""
    cwd = os.path.realpath(os.getcwd())
    return [p for p in sys.path if p in ("", ".") or os.path.realpath(p) == cwd]


def load_entry_point(ep: importlib.metadata.EntryPoint) -> object:
    """``ep.load()``, retried without the current folder on ``sys.path`` when the
    first try gave an empty namespace package from that folder. Returns whatever the
    last try loaded (the namespace package when nothing else provides the module)."""
    loaded = ep.load()
    shadows = _current_folder_entries()
    if not shadows or not is_empty_namespace(_top_module(ep)):
        return loaded
    top = ep.module.split(".")[0]
    saved_path, saved_modules = sys.path[:], {n: m for n, m in sys.modules.items() if n == top or n.startswith(top + ".")}
    for name in saved_modules:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if p not in shadows]
    importlib.invalidate_caches()
    try:
        retried = ep.load()
    except Exception:
        retried = None
    finally:
        sys.path[:] = saved_path
    if retried is None or is_empty_namespace(_top_module(ep)):
        sys.modules.update(saved_modules)  # nothing installed either: keep the first answer
        return loaded
    return retried


def _top_module(ep: importlib.metadata.EntryPoint) -> object:
    return sys.modules.get(ep.module.split(".")[0])


def shadow_error(module: object, name: str) -> ImportError:
    """The error for an entry point whose module is only an empty folder ``name``."""
    where = ", ".join(str(Path(p)) for p in getattr(module, "__path__", []))
    exc = ImportError(
        f"module {name!r} resolved to the folder {where}, an empty namespace package with no hooks; "
        "no installed module of that name was found either"
    )
    exc.fix = f"Install the lab (`pip install -e` on the folder holding its pyproject.toml), or run from a folder without a {name}/ subfolder."
    return exc
