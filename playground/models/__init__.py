"""Where vectors come from: the shared registry (``registry.py``), GPU and ZeroGPU dispatch
(``gpu.py``, ``zero_gpu.py``), the Hub rehearsal (``rehearsal/``), and the model families:
one loader module each, found by family name (below).

Each family module has ``load(spec, device) -> model`` and
``availability(spec) -> (bool, reason)``; ``catalog.py`` lists the standard ids, which the
built-in plugin ``playground.contract.default_models`` offers.
"""
from __future__ import annotations

import importlib
from typing import Callable


FAMILIES = {
    "sentence-transformers": "playground.models.sentence_transformers",
    "hf-encoder": "playground.models.hf_encoder",
    "glove": "playground.models.glove",
    "open_clip": "playground.models.open_clip",
}


def _family(name: str):
    if name not in FAMILIES:
        raise ValueError(f"Unknown model family {name!r}. Known families: {', '.join(FAMILIES)}.")
    return importlib.import_module(FAMILIES[name])


def loader_for(family: str) -> Callable:
    """``load(spec, device) -> model`` for a family."""
    return _family(family).load


def availability_for(family: str) -> Callable:
    """``availability(spec) -> (bool, reason)`` for a family."""
    return _family(family).availability
