"""The dual encoder: an image tower and a text tower projecting into one normalised space.

Image towers: ``vit`` (a tiny Vision Transformer: the image is cut into square
patches, each patch becomes a token) or ``cnn`` (three small conv layers).
Text towers: ``minilm`` (the bundled MiniLM, frozen, with a trainable projection
on top: it already knows English) or ``bow`` (a trainable bag of words over the
vocabulary of the training captions: it knows only the words it was shown).

``TrainedClip`` wraps a trained pair as an ``ImageTextModel`` so the registry,
and every image-text tab, can use it like CLIP or SigLIP.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from playground.models.base import ImageTextModel, torch_module_bytes

from .options import IMAGE_TOWERS, TEXT_TOWERS, UNK, tokenize  # noqa: F401  (their home is options.py)

# Pixels are scaled to roughly zero mean, unit spread before the image tower.
PIXEL_MEAN, PIXEL_STD = 0.5, 0.25


def pixels_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, h, w, 3) -> float32 (n, 3, h, w), normalised."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    return (x - PIXEL_MEAN) / PIXEL_STD


class TinyViT(nn.Module):
    """A Vision Transformer small enough to train on a CPU in a minute.

    The image is cut into ``patch`` x ``patch`` squares; each is flattened and
    projected to a ``width``-wide token, a learned position is added, a [CLS]
    token joins them, and ``depth`` transformer layers mix the tokens. The [CLS]
    token's final state, projected to ``out_dim``, is the image's embedding.
    """

    def __init__(self, image_size: int = 32, patch: int = 8, width: int = 64, depth: int = 2,
                 heads: int = 4, out_dim: int = 64) -> None:
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image size {image_size} is not a multiple of the patch size {patch}")
        self.image_size, self.patch = image_size, patch
        tokens = (image_size // patch) ** 2
        self.patch_embed = nn.Conv2d(3, width, kernel_size=patch, stride=patch)  # = a linear map per patch
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=2 * width, dropout=0.0, activation="gelu", batch_first=True, norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.proj = nn.Linear(width, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)  # (n, patches, width)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1) + self.pos
        return self.proj(self.norm(self.blocks(tokens)[:, 0]))


class SmallCNN(nn.Module):
    """Three conv + pool stages, then a linear map of the whole 4x4 feature grid
    (flattened, so where a thing is still counts)."""

    def __init__(self, image_size: int = 32, width: int = 16, out_dim: int = 64) -> None:
        super().__init__()
        self.image_size, self.patch = image_size, None
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.GELU(), nn.AdaptiveAvgPool2d(4),
        )
        self.proj = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 16, 128), nn.GELU(), nn.Linear(128, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.features(x))


class BagOfWords(nn.Module):
    """A trainable text tower: the mean of learned word vectors, then an MLP.

    Its vocabulary is the set of words in the training captions; any other word
    maps to one shared ``<unk>`` vector, so it cannot know a word it never saw.
    """

    def __init__(self, vocab: Sequence[str], width: int = 64, out_dim: int = 64) -> None:
        super().__init__()
        self.vocab = [UNK, *sorted(set(vocab) - {UNK})]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.embed = nn.EmbeddingBag(len(self.vocab), width, mode="mean")
        self.proj = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, out_dim))

    def token_ids(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, offsets = [], []
        for text in texts:
            offsets.append(len(ids))
            ids.extend(self.index.get(w, 0) for w in tokenize(text) or [UNK])
        return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        return self.proj(self.embed(*self.token_ids(texts)))


class FrozenTextProjection(nn.Module):
    """A trainable MLP on top of frozen sentence vectors (MiniLM's 384-d rows).

    ``embed_texts(texts) -> np.ndarray`` gives the frozen vectors; during training
    they are precomputed once and passed in as ``features``.
    """

    def __init__(self, embed_texts: Callable[[Sequence[str]], np.ndarray], in_dim: int = 384,
                 width: int = 256, out_dim: int = 64) -> None:
        super().__init__()
        self.embed_texts = embed_texts
        self.proj = nn.Sequential(nn.Linear(in_dim, width), nn.GELU(), nn.Linear(width, out_dim))

    def forward_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.proj(features)

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        return self.proj(torch.from_numpy(np.asarray(self.embed_texts(list(texts)), dtype=np.float32)))


class DualEncoder(nn.Module):
    """Image tower + text tower + the learned logit scale (and bias, for SigLIP).

    ``loss="softmax"`` (CLIP) starts with scale 1/0.07 and no bias; ``"sigmoid"``
    (SigLIP) with scale 10 and bias ``bias_init`` (-10, the SigLIP paper's start).
    """

    def __init__(self, image_tower: nn.Module, text_tower: nn.Module, loss: str, bias_init: float = -10.0) -> None:
        super().__init__()
        if loss not in ("softmax", "sigmoid"):
            raise ValueError(f"loss must be 'softmax' (CLIP) or 'sigmoid' (SigLIP), got {loss!r}")
        self.loss = loss
        self.image_tower, self.text_tower = image_tower, text_tower
        start_scale = 1 / 0.07 if loss == "softmax" else 10.0
        self.log_scale = nn.Parameter(torch.tensor(math.log(start_scale)))
        self.bias = nn.Parameter(torch.tensor(float(bias_init))) if loss == "sigmoid" else None
        self.bias_init = float(bias_init) if loss == "sigmoid" else None

    def scale(self) -> torch.Tensor:
        return self.log_scale.clamp(max=math.log(100.0)).exp()


def build_dual_encoder(
    loss: str, image_tower: str = "vit", text_tower: str = "bow", vocab: Sequence[str] = (),
    embed_texts: Optional[Callable[[Sequence[str]], np.ndarray]] = None, text_in_dim: int = 384,
    image_size: int = 32, patch: int = 8, dim: int = 64, seed: int = 0, bias_init: float = -10.0,
) -> DualEncoder:
    """A freshly initialised (seeded) dual encoder with the chosen towers."""
    if image_tower not in IMAGE_TOWERS:
        raise ValueError(f"image tower must be one of {', '.join(IMAGE_TOWERS)}, got {image_tower!r}")
    if text_tower not in TEXT_TOWERS:
        raise ValueError(f"text tower must be one of {', '.join(TEXT_TOWERS)}, got {text_tower!r}")
    if text_tower == "minilm" and embed_texts is None:
        raise ValueError("the minilm text tower needs embed_texts (the frozen MiniLM's encode_texts)")
    with torch.random.fork_rng(devices=[]):  # seed the weights without touching anyone else's random state
        torch.manual_seed(seed)
        image = TinyViT(image_size, patch, out_dim=dim) if image_tower == "vit" else SmallCNN(image_size, out_dim=dim)
        if text_tower == "bow":
            text: nn.Module = BagOfWords(vocab, out_dim=dim)
        else:
            text = FrozenTextProjection(embed_texts, in_dim=text_in_dim, out_dim=dim)
        return DualEncoder(image, text, loss, bias_init=bias_init)


class TrainedClip(ImageTextModel):
    """A dual encoder trained in this lab, as an image-text model the registry can hold.

    Scores like CLIP (softmax over labels) when trained with the softmax loss, like
    SigLIP (an independent sigmoid per label, with its learned bias) when trained
    with the sigmoid loss.
    """

    # Said wherever the model is picked (``playground.science.zero_shot.describe_model``), so a
    # student who gives it a photo does not conclude that CLIP is wrong.
    caveat = ("It has only ever seen one coloured shape on a plain background: label with colours and shapes "
              "(\"a red circle\", \"a blue square\"); on a real photo its answer means nothing.")

    def __init__(self, id: str, encoder: DualEncoder, description: str = "") -> None:
        super().__init__(id, "cpu")
        self.encoder = encoder.eval()
        self.scoring = encoder.loss
        self.logit_scale = float(encoder.scale().item())
        self.logit_bias = float(encoder.bias.item()) if encoder.bias is not None else None
        self.initial_logit_bias = encoder.bias_init
        self.image_size = int(encoder.image_tower.image_size)
        self.patch_size = encoder.image_tower.patch
        self.description = description
        with torch.inference_mode():
            self.dim = int(encoder.text_tower(["a"]).shape[-1])

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        with torch.inference_mode():
            return self.encoder.text_tower(texts).float().numpy()

    def preprocess_view(self, image) -> np.ndarray:
        """The image as the tower sees it: RGB, squeezed to image_size x image_size."""
        image = image.convert("RGB")
        if image.size != (self.image_size, self.image_size):
            image = image.resize((self.image_size, self.image_size), Image.BOX)
        return np.asarray(image, dtype=np.uint8)

    def _encode_images(self, images: list) -> np.ndarray:
        pixels = pixels_to_tensor(np.stack([self.preprocess_view(im) for im in images]))
        with torch.inference_mode():
            return self.encoder.image_tower(pixels).float().numpy()

    def memory_bytes(self) -> int:
        return torch_module_bytes(self.encoder) if self.encoder is not None else 0

    def unload(self) -> None:
        self.encoder = None
