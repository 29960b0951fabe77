"""A Hugging Face encoder pre-trained to predict tokens (BERT: masked-LM and next-sentence prediction), pooled
into sentence vectors by its [CLS] token (the default, as in the lesson) or by the
mean of its token vectors."""
from __future__ import annotations

from typing import Optional

import numpy as np

from playground.models.registry import ModelSpec
from playground.models.onnx_runtime import OnnxEncoder, onnx_enabled, onnx_encoder_for, weight_files
from playground.models.base import TextModel, torch_module_bytes
from playground.models.hub import RepoFiles, hub_availability, local_dir, missing_in_folder, quiet_transformers, snapshot_folder

POOLINGS = ("cls", "mean")


class HFEncoderModel(TextModel):
    """``onnx``, when set, computes the same pooled vectors on ONNX Runtime."""

    def __init__(self, id: str, model, tokenizer, device: str, pooling: str, max_length: int,
                 onnx: Optional[OnnxEncoder] = None) -> None:
        super().__init__(id, device)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.model, self.tokenizer = model, tokenizer
        self.pooling, self.max_length = pooling, max_length
        self.onnx = onnx
        self.dim = int(model.config.hidden_size)

    @property
    def backend(self) -> str:
        return "onnxruntime" if self.onnx is not None else "torch"

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if self.onnx is not None:
            return self.onnx.encode(texts)
        import torch

        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return pooled.float().cpu().numpy()

    def memory_bytes(self) -> int:
        return torch_module_bytes(self.model) + (self.onnx.file_bytes() if self.onnx is not None else 0)

    def unload(self) -> None:
        self.model = self.onnx = None


# What AutoTokenizer and AutoModel read from a BERT-style repo.
REPO_FILES = RepoFiles(
    required=(("config.json",), ("model.safetensors", "pytorch_model.bin"), ("vocab.txt", "tokenizer.json")),
    optional=("tokenizer_config.json", "tokenizer.json", "vocab.txt", "special_tokens_map.json"),
)


def availability(spec: ModelSpec) -> tuple[bool, str]:
    folder = local_dir(spec.source)
    if folder:
        missing = missing_in_folder(folder, REPO_FILES)
        return (False, f"local folder {folder} lacks {'; '.join(missing)}") if missing else (True, f"local folder {folder}")
    return hub_availability(spec.source, REPO_FILES, f"about {spec.size_gb:.2f} GB")


def load(spec: ModelSpec, device: str) -> HFEncoderModel:
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = local_dir(spec.source) or snapshot_folder(spec.source, REPO_FILES)
    dtype = torch.float16 if device.startswith("cuda") and spec.options.get("half", True) else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    with quiet_transformers():  # BERT's checkpoint carries its pre-training heads, unused by an encoder
        model, info = AutoModel.from_pretrained(folder, local_files_only=True, dtype=dtype, output_loading_info=True)
    if info.get("missing_keys"):
        raise ValueError(
            f"the checkpoint in {folder} lacks {len(info['missing_keys'])} of the encoder's weights "
            f"({', '.join(sorted(info['missing_keys'])[:5])}, ...): it is not a {model.config.model_type} encoder checkpoint."
        )
    model = model.to(device).eval()
    pooling = spec.options.get("pooling", "cls")
    max_length = int(spec.options.get("max_length", 128))
    onnx = None
    if onnx_enabled(device):
        weights = weight_files(folder)
        onnx = onnx_encoder_for(spec.source.replace("/", "--"), model, tokenizer, weights, pooling, max_length)
    return HFEncoderModel(spec.id, model, tokenizer, device, pooling=pooling, max_length=max_length, onnx=onnx)
