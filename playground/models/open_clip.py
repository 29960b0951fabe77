"""CLIP and SigLIP image-text models through open_clip.

``source`` is an open_clip architecture (``ViT-B-32``) with ``options['pretrained']``
naming the real weights (``openai``), or ``local-dir:PATH`` holding an
``open_clip_config.json`` and weights (how tests load tiny models through this
very loader). A model whose weights carry a ``logit_bias`` (SigLIP) scores with a
sigmoid; one without (CLIP) with a softmax.
"""
from __future__ import annotations

import numpy as np

from ..registry import ModelSpec, hub_allowed
from .base import ImageTextModel, torch_module_bytes
from .hub import HUB_HOWTO, cached_file, local_dir

WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


class OpenClipModel(ImageTextModel):
    def __init__(self, id: str, model, preprocess, tokenizer, device: str) -> None:
        super().__init__(id, device)
        self.model, self.preprocess, self.tokenizer = model, preprocess, tokenizer
        self.dtype = next(model.parameters()).dtype
        self.logit_scale = float(model.logit_scale.exp().item())
        bias = getattr(model, "logit_bias", None)
        self.logit_bias = float(bias.item()) if bias is not None else None
        self.scoring = "sigmoid" if self.logit_bias is not None else "softmax"
        self.image_size = _image_size(model)
        self.patch_size = _patch_size(model)
        with_text = tokenizer(["a"])
        self.context_length = int(with_text.shape[-1])
        self.dim = int(model.encode_text(with_text.to(device)).shape[-1])

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        tokens = self.tokenizer(texts).to(self.device)
        with torch.inference_mode():
            return self.model.encode_text(tokens).float().cpu().numpy()

    def _encode_images(self, images: list) -> np.ndarray:
        import torch

        pixels = torch.stack([self.preprocess(im.convert("RGB")) for im in images]).to(self.device, self.dtype)
        with torch.inference_mode():
            return self.model.encode_image(pixels).float().cpu().numpy()

    def preprocess_view(self, image) -> np.ndarray:
        """Undo the normalisation of the model's own transform, for display."""
        import torch

        x = self.preprocess(image.convert("RGB"))
        norm = next((t for t in getattr(self.preprocess, "transforms", []) if hasattr(t, "mean")), None)
        if norm is not None:
            mean = torch.tensor(norm.mean).view(-1, 1, 1)
            std = torch.tensor(norm.std).view(-1, 1, 1)
            x = x * std + mean
        return (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)

    def memory_bytes(self) -> int:
        return torch_module_bytes(self.model)

    def unload(self) -> None:
        self.model = None


def _image_size(model) -> int:
    size = getattr(model.visual, "image_size", None)
    if size is None:  # timm towers keep it on the patch embedding
        size = getattr(getattr(getattr(model.visual, "trunk", None), "patch_embed", None), "img_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def _patch_size(model):
    size = getattr(model.visual, "patch_size", None)
    if size is None:
        size = getattr(getattr(getattr(model.visual, "trunk", None), "patch_embed", None), "patch_size", None)
    if size is None:
        return None
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def availability(spec: ModelSpec) -> tuple[bool, str]:
    if spec.source.startswith("local-dir:"):
        path = local_dir(spec.source)
        return (True, f"local folder {path}") if path else (False, f"folder {spec.source} does not exist")
    from open_clip.pretrained import get_pretrained_cfg

    tag = spec.options.get("pretrained", "")
    repo = (get_pretrained_cfg(spec.source, tag) or {}).get("hf_hub", "").rstrip("/")
    if not repo:
        return False, f"open_clip knows no pretrained weights {spec.source!r}/{tag!r}"
    if any(cached_file(repo, f) for f in WEIGHT_FILES):
        return True, "in the local Hugging Face cache"
    if hub_allowed():
        return True, f"downloads {repo} from the Hugging Face Hub on first use (about {spec.size_gb:.1f} GB)"
    return False, f"needs the weights {repo} from the Hugging Face Hub, which this machine does not reach. {HUB_HOWTO}"


def load(spec: ModelSpec, device: str) -> OpenClipModel:
    import open_clip

    half = device.startswith("cuda") and spec.options.get("half", True)
    pretrained = None if spec.source.startswith("local-dir:") else spec.options.get("pretrained")
    model, _, preprocess = open_clip.create_model_and_transforms(
        spec.source, pretrained=pretrained, device=device, precision="fp16" if half else "fp32"
    )
    model.eval()
    tokenizer = open_clip.get_tokenizer(spec.source)
    return OpenClipModel(spec.id, model, preprocess, tokenizer, device)
