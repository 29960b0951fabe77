"""The hook contract between the playground and its plugins.

Every hook receives a ``register`` callback and calls it once per thing it
contributes. A hookimpl may take only the arguments it uses (pluggy's opt-in
arguments), so hooks can grow new arguments without breaking plugins.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    from playground.contract.lab import Lab
    from playground.models.registry import ModelSpec

PROJECT_NAME = "playground"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_labs(register: Callable[["Lab"], None]) -> None:
    """Contribute labs (each becomes one tab of the app).

    :param register: call ``register(Lab(...))`` once for each lab.
    :return: nothing; the return value is ignored.
    """


@hookspec
def register_models(register: Callable[["ModelSpec"], None]) -> None:
    """Contribute models to the shared model registry.

    :param register: call ``register(ModelSpec(...))`` once for each model.
        A model id or alias already taken by another plugin is an error
        reported against the later plugin.
    :return: nothing; the return value is ignored.
    """
