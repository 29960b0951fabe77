"""Old import paths, kept for one release: ``playground.ui`` is now ``playground.web.ui``,
and so on (``MOVED``). A student's lab written against an old path still imports, and
Python warns once, naming the new path::

    from playground.ui import friendly_errors
    # MovedModuleWarning: playground.ui moved to playground.web.ui; import it from there
    # (the old path goes away in the next release).

The old name is a thin module that hands every attribute over from the new one (and,
for a name that moved elsewhere, such as ``create_registry``, from ``playground``).
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

MOVED = {
    "playground.app": "playground.web.app",
    "playground.cli": "playground.web.cli",
    "playground.devserver": "playground.web.devserver",
    "playground.downloads": "playground.web.downloads",
    "playground.gradio_fixes": "playground.web.gradio_fixes",
    "playground.result_cache": "playground.web.result_cache",
    "playground.ui": "playground.web.ui",
    "playground.hookspecs": "playground.contract.hookspecs",
    "playground.lab": "playground.contract.lab",
    "playground.plugins": "playground.contract.plugins",
    "playground.scaffold": "playground.contract.scaffold",
    "playground.testing": "playground.contract.testing",
    "playground.unregistered": "playground.contract.unregistered",
    "playground.verdict": "playground.contract.verdict",
    "playground.geometry": "playground.science.geometry",
    "playground.losses": "playground.science.losses",
    "playground.threads": "playground.science.threads",
    "playground.training": "playground.science.training",
    "playground.zero_shot": "playground.science.zero_shot",
    "playground.zero_shot_figures": "playground.science.zero_shot_figures",
    "playground.gpu": "playground.models.gpu",
    "playground.lazy": "playground.models.lazy",
    "playground.registry": "playground.models.registry",
    "playground.zero_gpu": "playground.models.zero_gpu",
    "playground.rehearsal": "playground.models.rehearsal",
    "playground.rehearsal.build": "playground.models.rehearsal.build",
    "playground.rehearsal.hub_server": "playground.models.rehearsal.hub_server",
    "playground.images": "playground.data.images",
    "playground.models.defaults": "playground.contract.default_models",
}


class MovedModuleWarning(DeprecationWarning):
    """An import through an old path of the playground's shell."""


def new_path(old: str) -> str | None:
    """Where the module once imported as ``old`` lives now; None if it did not move."""
    return MOVED.get(old)


class _OldPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers only for the names in ``MOVED``; every other import goes on as usual."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=fullname == "playground.rehearsal")

    def create_module(self, spec):
        return None  # a plain module, filled in by exec_module

    def exec_module(self, module: types.ModuleType) -> None:
        old, new = module.__name__, MOVED[module.__name__]
        warnings.warn(f"{old} moved to {new}; import it from there (the old path goes away in the next "
                      "release).", MovedModuleWarning, stacklevel=2)  # the warnings module skips importlib's frames
        target = importlib.import_module(new)
        face = sys.modules["playground"]

        def __getattr__(name: str):
            if hasattr(target, name):
                return getattr(target, name)
            if not name.startswith("__") and hasattr(face, name):  # e.g. create_registry, once in playground.registry
                return getattr(face, name)
            raise AttributeError(f"module {old!r} (now {new!r}) has no attribute {name!r}")

        module.__getattr__ = __getattr__
        module.__dir__ = lambda: sorted(set(dir(target)))
        module.__doc__ = f"Moved to {new}."
        if hasattr(target, "__path__"):
            module.__path__ = []  # a package: its submodules are found through MOVED too


_FINDER = _OldPathFinder()


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once), and show its warning once per
    place even where deprecation warnings are hidden by default."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    warnings.filterwarnings("default", category=MovedModuleWarning)
