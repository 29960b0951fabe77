"""A Hugging Face encoder trained only to predict tokens (BERT's masked-LM), pooled
into sentence vectors by its [CLS] token (the default, as in the lesson) or by the
mean of its token vectors."""
from __future__ import annotations

import numpy as np

from ..registry import ModelSpec
from .base import TextModel, torch_module_bytes
from .hub import hub_availability, pretrained_location

POOLINGS = ("cls", "mean")


class HFEncoderModel(TextModel):
    def __init__(self, id: str, model, tokenizer, device: str, pooling: str, max_length: int) -> None:
        super().__init__(id, device)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.model, self.tokenizer = model, tokenizer
        self.pooling, self.max_length = pooling, max_length
        self.dim = int(model.config.hidden_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
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
        return torch_module_bytes(self.model)

    def unload(self) -> None:
        self.model = None


def availability(spec: ModelSpec) -> tuple[bool, str]:
    return hub_availability(spec, spec.source, "config.json", f"about {spec.size_gb:.2f} GB")


def load(spec: ModelSpec, device: str) -> HFEncoderModel:
    import torch
    from transformers import AutoModel, AutoTokenizer

    location, offline = pretrained_location(spec)
    dtype = torch.float16 if device.startswith("cuda") and spec.options.get("half", True) else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=offline)
    model = AutoModel.from_pretrained(location, local_files_only=offline, dtype=dtype).to(device).eval()
    return HFEncoderModel(
        spec.id, model, tokenizer, device,
        pooling=spec.options.get("pooling", "cls"),
        max_length=int(spec.options.get("max_length", 128)),
    )
