"""One decorator for a lab's GPU-bound compute.

On a ZeroGPU Hugging Face Space (``SPACES_ZERO_GPU`` set) it is ``spaces.GPU``:
a GPU is attached only for the duration of each decorated call, and models are
placed on CUDA when they load. Everywhere else (CPU, a dedicated GPU, a laptop)
it returns the function unchanged.

    @gpu                     # or @gpu(duration=120) for long work
    def embed(texts): ...
"""
from __future__ import annotations

from typing import Callable, Optional

from .registry import on_zero_gpu


def gpu(fn: Optional[Callable] = None, *, duration: int = 60):
    """Decorate ``fn`` so it runs with a GPU on ZeroGPU; a no-op elsewhere."""

    def wrap(f: Callable) -> Callable:
        if not on_zero_gpu():
            return f
        import spaces  # only on a Space, where the package is installed

        return spaces.GPU(duration=duration)(f)

    return wrap(fn) if fn is not None else wrap


@gpu
def encode_texts(model, texts, progress=None):
    """``model.encode_texts(texts)``, with a GPU attached on ZeroGPU.

    Only the model and the texts cross into ZeroGPU's worker, never the registry
    (it holds locks). ``progress(done, total)`` is optional.
    """
    return model.encode_texts(list(texts), progress=progress)


def embed_texts(registry, model_id: str, texts, session: Optional[str] = None, progress=None):
    """``texts`` embedded by the registry's model ``model_id`` (a shared one or the
    session's own): float32 rows, L2-normalised, cached per text."""
    return encode_texts(registry.get(model_id, session=session or None), texts, progress)
