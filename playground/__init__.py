"""contrastive-playground: labs that show what geometry each training objective
tends to impose on embeddings, measured rather than told.

The public face for lab authors::

    from playground import hookimpl, Lab, LabContext, ModelSpec

The shell is grouped by layer; each may import only the layers below it (the
import-linter contracts in ``pyproject.toml`` hold this in CI)::

    playground.web        the Gradio app, the CLI, dev server, UI kit for labs (ui), result cache
    playground.classroom  votes, rounds and the instructor's view
    playground.contract   what a lab codes against: hooks, Lab, plugin manager, verdicts, scaffold
    playground.science    geometry, losses, training loops, zero-shot scoring
    playground.models     the model registry, model families, GPU/ZeroGPU dispatch, rehearsal
    playground.data       corpora, generated shapes, photos, uploads
    playground.env, playground.paths   leaf constants and cache folders, importable from anywhere

In a notebook: ``from playground import notebook as pg`` (``playground.web.notebook``,
imported only when asked for: the lab authors' face stays free of the web layer).

Old flat paths (``playground.ui``, ``playground.geometry``, ...) still import, with a
warning that names the new path (see ``playground.contract.old_paths``).
"""
from playground.contract import old_paths
from playground.contract.hookspecs import hookimpl
from playground.contract.lab import Lab, LabContext
from playground.contract.plugins import collect_labs, create_plugin_manager, create_registry
from playground.models.gpu import gpu
from playground.models.registry import ModelRegistry, ModelSpec, ModelUnavailableError, UnknownModelError

__version__ = "0.1.0"

__all__ = [
    "Lab", "LabContext", "ModelRegistry", "ModelSpec", "ModelUnavailableError", "UnknownModelError",
    "collect_labs", "create_plugin_manager", "create_registry", "gpu", "hookimpl",
]

old_paths.install()


def __getattr__(name: str):
    """``playground.notebook``: the notebook API, imported on first use."""
    if name == "notebook":
        import importlib

        return importlib.import_module("playground.web.notebook")
    raise AttributeError(f"module 'playground' has no attribute {name!r}")
