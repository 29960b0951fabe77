"""Heavy libraries imported on first use, not at start-up.

The app's first page should not wait for torch (seconds to import): a lab's compute
module writes ``from playground.models.lazy import torch, F`` instead of ``import torch``,
uses them as usual inside its functions, and torch is imported the first time one
of them is called. ``warm_up()`` imports them in the background once the page is up,
so the first click rarely waits at all. (A class that subclasses ``torch.nn.Module``
needs the real torch when it is defined: keep such classes in a module that the
compute functions import inside their bodies.)
"""
from __future__ import annotations

import functools
import importlib
import os
import threading
import time
import types
from typing import Optional


class LazyModule(types.ModuleType):
    """Stands in for the module ``name`` and imports it on first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self.__dict__["_lazy_name"]), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


torch = LazyModule("torch")
F = LazyModule("torch.nn.functional")


def no_grad(fn):
    """``@torch.no_grad()`` without importing torch when the function is defined."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        with torch.no_grad():
            return fn(*args, **kwargs)

    return call

HEAVY = ("torch", "transformers", "sentence_transformers", "open_clip", "timm", "sklearn", "umap")
WARMUP_ENV = "PLAYGROUND_WARMUP"


def warm_up(
    modules: tuple[str, ...] = ("torch", "sklearn", "transformers", "sentence_transformers", "onnxruntime"),
    delay: float = 5.0,
) -> Optional[threading.Thread]:
    """Import ``modules`` in a background thread, ``delay`` seconds from now (the app
    builds and serves its first page undisturbed meanwhile). A lab clicked before it
    finishes simply imports what it needs itself, under its progress bar. Skipped
    (None) when ``PLAYGROUND_WARMUP=0``."""
    if os.environ.get(WARMUP_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return None

    def work() -> None:
        time.sleep(max(delay, 0.0))
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # a warm-up must never take the app down; the lab will say what is missing
                pass

    thread = threading.Thread(target=work, name="import warm-up", daemon=True)
    thread.start()
    return thread
