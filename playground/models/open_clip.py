"""CLIP and SigLIP image-text models through open_clip.

``source`` is an open_clip architecture (``ViT-B-32``) with ``options['pretrained']``
naming the real weights (``openai``), or ``local-dir:PATH`` holding an
``open_clip_config.json`` and weights (how tests load tiny models through this
very loader). A model whose weights carry a ``logit_bias`` (SigLIP) scores with a
sigmoid; one without (CLIP) with a softmax.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from playground.models.registry import ModelSpec
from playground.models.base import ImageTextModel, torch_module_bytes
from playground.models.hub import RepoFiles, hub_availability, local_dir, snapshot_folder
from playground.models.onnx_runtime import OnnxTower, onnx_enabled, onnx_tower_for

WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


class OpenClipModel(ImageTextModel):
    """``onnx_image`` and ``onnx_text``, when set, compute the same rows as the
    model's image and text towers on ONNX Runtime (``attach_onnx``)."""

    def __init__(self, id: str, model, preprocess, tokenizer, device: str) -> None:
        super().__init__(id, device)
        self.model, self.preprocess, self.tokenizer = model, preprocess, tokenizer
        self.onnx_image: Optional[OnnxTower] = None
        self.onnx_text: Optional[OnnxTower] = None
        self.dtype = next(model.parameters()).dtype
        self.logit_scale = float(model.logit_scale.exp().item())
        bias = getattr(model, "logit_bias", None)
        self.logit_bias = float(bias.item()) if bias is not None else None
        self.scoring = "sigmoid" if self.logit_bias is not None else "softmax"
        self.image_size = _image_size(model)
        self.patch_size = _patch_size(model)
        self.preprocessing = _describe_preprocessing(preprocess, self.image_size)
        with_text = tokenizer(["a"])
        self.context_length = int(with_text.shape[-1])
        self.dim = int(model.encode_text(with_text.to(device)).shape[-1])

    @property
    def backend(self) -> str:
        towers = [name for name, tower in (("image", self.onnx_image), ("text", self.onnx_text)) if tower is not None]
        if len(towers) == 2:
            return "onnxruntime"
        return f"torch ({towers[0]} tower on onnxruntime)" if towers else "torch"

    def attach_onnx(self, weights: list[str]) -> None:
        """Export both towers from the loaded weights (or load them from the disk
        cache, keyed by ``weights``); a tower that fails stays on torch (logged)."""
        import torch

        square = torch.zeros(2, 3, self.image_size, self.image_size, dtype=self.dtype)
        self.onnx_image = onnx_tower_for(self.id, self.model, "image", square, weights)
        self.onnx_text = onnx_tower_for(self.id, self.model, "text", self.tokenizer(["a photo", "a cat"]), weights)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        tokens = self.tokenizer(texts)
        if self.onnx_text is not None:
            return self.onnx_text.run(tokens.numpy().astype(np.int64, copy=False))
        with torch.inference_mode():
            return self.model.encode_text(tokens.to(self.device)).float().cpu().numpy()

    def _encode_images(self, images: list) -> np.ndarray:
        import torch

        pixels = torch.stack([self.preprocess(im.convert("RGB")) for im in images])
        if self.onnx_image is not None:
            return self.onnx_image.run(pixels.numpy().astype(np.float32, copy=False))
        with torch.inference_mode():
            return self.model.encode_image(pixels.to(self.device, self.dtype)).float().cpu().numpy()

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
        graphs = sum(t.file_bytes() for t in (self.onnx_image, self.onnx_text) if t is not None)
        return torch_module_bytes(self.model) + graphs

    def unload(self) -> None:
        self.model = self.onnx_image = self.onnx_text = None


def _describe_preprocessing(preprocess, size: int) -> str:
    """How the model's own transform makes its square input: CLIP resizes the short
    side and crops the centre; SigLIP squashes the whole photo (no crop)."""
    names = [type(t).__name__ for t in getattr(preprocess, "transforms", [])]
    if "CenterCrop" in names:
        return f"resize the short side to {size}, then crop the centre {size}×{size}"
    return f"squash the whole photo to {size}×{size}, nothing cropped"


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


def _tag_config(spec: ModelSpec) -> dict:
    """open_clip's record for the spec's pretrained tag (repo, preprocessing, QuickGELU)."""
    from open_clip.pretrained import get_pretrained_cfg

    return dict(get_pretrained_cfg(spec.source, spec.options.get("pretrained", "")) or {})


def _text_config(spec: ModelSpec) -> dict:
    from open_clip import get_model_config

    return dict((get_model_config(spec.source) or {}).get("text_cfg", {}))


def _uses_hf_tokenizer(spec: ModelSpec) -> bool:
    if "hf_tokenizer" in spec.options:  # stated in the spec: no open_clip import needed
        return bool(spec.options["hf_tokenizer"])
    return bool(_text_config(spec).get("hf_tokenizer_name"))


def repo_files(spec: ModelSpec) -> RepoFiles:
    """What this loader reads from the Hub repo: the weights in one of the two
    formats open_clip writes, and, for a model whose text tower uses a Hugging Face
    tokenizer (SigLIP), that tokenizer's files, which live in the same repo."""
    required: tuple[tuple[str, ...], ...] = (WEIGHT_FILES,)
    optional: tuple[str, ...] = ()
    if _uses_hf_tokenizer(spec):
        required += (("tokenizer_config.json",), ("tokenizer.json", "spiece.model"))
        optional = ("special_tokens_map.json", "spiece.model", "tokenizer.json")
    return RepoFiles(required=required, optional=optional)


def hub_repo(spec: ModelSpec) -> str:
    """The Hub repo holding the spec's pretrained weights (``timm/...``): the spec's
    ``hf_hub`` option, else open_clip's record for the tag."""
    return (spec.options.get("hf_hub") or _tag_config(spec).get("hf_hub", "")).rstrip("/")


def availability(spec: ModelSpec) -> tuple[bool, str]:
    if spec.source.startswith("local-dir:"):
        path = local_dir(spec.source)
        return (True, f"local folder {path}") if path else (False, f"folder {spec.source} does not exist")
    repo = hub_repo(spec)
    if not repo:
        return False, f"open_clip knows no pretrained weights {spec.source!r}/{spec.options.get('pretrained', '')!r}"
    return hub_availability(repo, repo_files(spec), f"about {spec.size_gb:.1f} GB")


def _tokenizer(spec: ModelSpec, folder: str):
    """The text tokenizer, read from ``folder`` (no network): open_clip's own BPE
    for CLIP, the repo's Hugging Face tokenizer for SigLIP."""
    import open_clip
    from open_clip.tokenizer import HFTokenizer

    text_cfg = _text_config(spec)
    if not text_cfg.get("hf_tokenizer_name"):
        return open_clip.get_tokenizer(spec.source)
    return HFTokenizer(
        folder, context_length=text_cfg.get("context_length", 77),
        tokenizer_mode=text_cfg.get("tokenizer_mode"), **text_cfg.get("tokenizer_kwargs", {}),
    )


def load(spec: ModelSpec, device: str) -> OpenClipModel:
    """Build the model from open_clip's architecture config and the tag's
    preprocessing, with the weights (and tokenizer) from a local folder.

    This is what ``create_model_and_transforms(arch, pretrained=tag)`` does, with
    the one difference that the files come from ``snapshot_folder`` (cache first,
    downloads only where allowed and bounded in time) instead of open_clip's own
    unbounded Hub calls. QuickGELU follows the tag: OpenAI's weights were trained
    with it, and the plain ``ViT-B-32`` config would silently use GELU.
    """
    import open_clip

    half = device.startswith("cuda") and spec.options.get("half", True)
    precision = "fp16" if half else "fp32"
    if spec.source.startswith("local-dir:"):
        model, _, preprocess = open_clip.create_model_and_transforms(spec.source, device=device, precision=precision)
        tokenizer = open_clip.get_tokenizer(spec.source)
        folder = local_dir(spec.source)
        weights = [os.path.join(folder, f) for f in WEIGHT_FILES if os.path.isfile(os.path.join(folder, f))]
        return with_onnx(OpenClipModel(spec.id, model.eval(), preprocess, tokenizer, device), weights)

    tag = _tag_config(spec)
    folder = snapshot_folder(hub_repo(spec), repo_files(spec))
    tokenizer = _tokenizer(spec, folder)  # before the weights: a broken tokenizer costs no memory
    weights = next(os.path.join(folder, f) for f in WEIGHT_FILES if os.path.isfile(os.path.join(folder, f)))
    model, _, preprocess = open_clip.create_model_and_transforms(
        spec.source, pretrained=weights, device=device, precision=precision,
        force_quick_gelu=bool(tag.get("quick_gelu", False)),
        image_mean=tag.get("mean"), image_std=tag.get("std"),
        image_interpolation=tag.get("interpolation"), image_resize_mode=tag.get("resize_mode"),
    )
    return with_onnx(OpenClipModel(spec.id, model.eval(), preprocess, tokenizer, device), [weights])


def with_onnx(model: OpenClipModel, weights: list[str]) -> OpenClipModel:
    """``model`` with its towers on ONNX Runtime on the CPU (measured about 2× faster,
    ``benchmarks/bench_onnx_towers.py``), unless ``PLAYGROUND_ONNX=0`` or onnxruntime
    is missing; on a GPU, torch."""
    if onnx_enabled(model.device) and weights:
        model.attach_onnx(weights)
    return model
