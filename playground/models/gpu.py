"""GPU-bound compute, and what crosses into it on ZeroGPU.

On a ZeroGPU Hugging Face Space (``SPACES_ZERO_GPU`` set), ``spaces.GPU`` runs each
decorated call in a worker forked from the main process: the worker inherits every
model loaded before the fork, but the call's arguments and its result travel
through a queue, pickled, and anything the worker caches is gone when it ends.
Everywhere else (CPU, a dedicated GPU, a laptop) ``@gpu`` returns the function
unchanged.

So what crosses is kept small and plain. A model is never an argument: each model
the registry hands out carries a ``locator`` (registry key, model id, session),
and ``encode_texts_on_gpu`` / ``encode_images_on_gpu`` take that locator with the
texts or images, find the model in the worker's (inherited) registry, and return
the rows. ``TextModel.encode_texts`` calls them only for the texts its cache (in
the main process) lacks, and caches what comes back. Training runs return their
figures and weights as plain data.

    @gpu                     # or @gpu(duration=120) for long work
    def train(settings): ...

Where the ``spaces`` package is not installed but ``SPACES_ZERO_GPU=1`` is set
(tests, a rehearsal on a laptop), ``playground.models.zero_gpu`` stands in for it with the
same semantics: a forked child, pickled arguments and result, the duration
enforced.
"""
from __future__ import annotations

import functools
import os
import uuid
import weakref
from typing import Callable, Optional, Sequence

from playground.models import zero_gpu

ZERO_GPU_ENV = "SPACES_ZERO_GPU"

# Registries of this process, by key, so a forked worker finds the one a locator names.
_REGISTRIES: "weakref.WeakValueDictionary[str, object]" = weakref.WeakValueDictionary()
_inside = {"call": False}  # True in a worker, while a decorated call runs


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Hugging Face Space (a GPU attached per decorated call)."""
    return os.environ.get(ZERO_GPU_ENV, "").lower() in ("1", "true")


def inside_gpu_call() -> bool:
    """True while a ``@gpu`` call runs in its worker (a nested call must not fork again)."""
    return _inside["call"]


def dispatch_to_gpu(locator) -> bool:
    """Whether work on the model at ``locator`` goes through a ``@gpu`` call now."""
    return locator is not None and on_zero_gpu() and not inside_gpu_call()


def _spaces_gpu():
    try:
        import spaces  # on a Space, where the package is installed

        return spaces.GPU
    except ImportError:
        return zero_gpu.GPU


def gpu(fn: Optional[Callable] = None, *, duration: int = 60):
    """Decorate ``fn`` so it runs with a GPU on ZeroGPU; a no-op elsewhere."""

    def wrap(f: Callable) -> Callable:
        if not on_zero_gpu():
            return f

        @functools.wraps(f)
        def in_worker(*args, **kwargs):
            _inside["call"] = True
            try:
                return f(*args, **kwargs)
            finally:
                _inside["call"] = False

        return _spaces_gpu()(duration=duration)(in_worker)

    return wrap(fn) if fn is not None else wrap


# -- models, found by locator -------------------------------------------------------
def track(registry) -> str:
    """Remember ``registry`` under a new key (called by ``ModelRegistry``)."""
    key = uuid.uuid4().hex
    _REGISTRIES[key] = registry
    return key


def model_at(locator):
    """The model a locator ``(registry key, model id, session)`` names, in this process."""
    key, model_id, session = locator
    registry = _REGISTRIES.get(key)
    if registry is None:
        raise RuntimeError(f"no registry {key!r} in this process: was the worker forked from the app?")
    return registry.peek(model_id, session)


@gpu
def encode_texts_on_gpu(locator, texts: Sequence[str], batch_size: int = 64):
    """Rows for ``texts`` from the model at ``locator`` (not L2-normalised, not cached:
    the caller in the main process does both)."""
    model = model_at(locator)
    texts = list(texts)
    import numpy as np

    return np.concatenate([model._encode(texts[i : i + batch_size], batch_size) for i in range(0, len(texts), batch_size)])


@gpu
def encode_images_on_gpu(locator, images: Sequence, batch_size: int = 16):
    """Rows for PIL ``images`` from the model at ``locator`` (not L2-normalised)."""
    model = model_at(locator)
    images = list(images)
    import numpy as np

    return np.concatenate([model._encode_images(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def embed_texts(registry, model_id: str, texts, session: Optional[str] = None, progress=None):
    """``texts`` embedded by the registry's model ``model_id`` (a shared one or the
    session's own): float32 rows, L2-normalised, cached per text in this process."""
    return registry.get(model_id, session=session or None).encode_texts(list(texts), progress=progress)
