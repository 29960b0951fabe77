"""The built-in plugin that offers the shell's models (``playground.models.catalog``).

A plugin like any student's: its ``register_models`` hook registers each standard id
through the same ``register`` callback.
"""
from __future__ import annotations

from playground.contract.hookspecs import hookimpl
from playground.models.catalog import DEFAULT_MODELS

__all__ = ["DEFAULT_MODELS", "register_models"]


@hookimpl
def register_models(register):
    for spec in DEFAULT_MODELS:
        register(spec)
