"""The encoders: a small CNN or a tiny ViT (the backbone, whose features the probes
read), each with SimCLR's projection head on top (whose output the loss reads).

SimCLR probes the backbone, not the head: the head is free to throw away what the
loss does not need, and the backbone keeps more (Chen et al. 2020, section 4.2).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn as nn

from .options import ENCODERS, IMAGE_SIZE, PATCH

# Pixels are scaled to roughly zero mean, unit spread before the encoder.
PIXEL_MEAN, PIXEL_STD = 0.5, 0.25


class SmallCNN(nn.Module):
    """Four 3x3 conv stages (16, 32, 64, 128 channels; the first three halve the
    image), then the average over the image of each channel (global average pooling,
    as in SimCLR's ResNet): the features say what is there more than where."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.dim = 8 * width
        stages, c_in = [], 3
        for k, c_out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            stages += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
            if k < 3:
                stages.append(nn.MaxPool2d(2))
            c_in = c_out
        self.features = nn.Sequential(*stages)
        self.out = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


class TinyViT(nn.Module):
    """A Vision Transformer small enough for a CPU: the image is cut into
    ``patch`` x ``patch`` squares, each flattened and mapped to a ``width``-wide
    token, a learned position added to each; a class token joins them and
    ``depth`` transformer blocks mix all tokens. The class token's final state
    is the image's feature vector."""

    def __init__(self, patch: int = PATCH, width: int = 64, depth: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.dim, self.patch = width, patch
        tokens = (IMAGE_SIZE // patch) ** 2
        self.patch_embed = nn.Conv2d(3, width, kernel_size=patch, stride=patch)  # one linear map per patch
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)  # (n, patches, width)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1) + self.pos
        return self.norm(self.blocks(tokens)[:, 0])


class SimCLRNet(nn.Module):
    """Backbone ``f`` (features h, what the probes read) and projection head ``g``
    (z = g(h), what NT-Xent compares)."""

    def __init__(self, encoder: str, head_dim: int = 64) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}.")
        self.backbone = SmallCNN() if encoder == "cnn" else TinyViT()
        d = self.backbone.dim
        self.head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, head_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(normalise(x)))

    @torch.no_grad()
    def features(self, x: torch.Tensor, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Backbone features h and head outputs z of float images in [0, 1], in eval
        mode: float32 (n, d) and (n, head_dim)."""
        was = self.training
        self.eval()
        device = next(self.parameters()).device
        hs = [self.backbone(normalise(x[i:i + batch].to(device))) for i in range(0, len(x), batch)]
        zs = [self.head(h) for h in hs]
        self.train(was)
        return torch.cat(hs).cpu().numpy().astype(np.float32), torch.cat(zs).cpu().numpy().astype(np.float32)


def normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - PIXEL_MEAN) / PIXEL_STD


def build_net(encoder: str, seed: int, state: Optional[dict] = None) -> SimCLRNet:
    """A freshly initialised net (weights from ``seed``), or one loaded from ``state``
    (a state dict of numpy arrays or tensors, as a run returns it)."""
    with torch.random.fork_rng(devices=[]):  # seed the weights without touching anyone else's random state
        torch.manual_seed(seed)
        net = SimCLRNet(encoder)
    if state is not None:
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
    return net


def state_as_numpy(net: nn.Module) -> dict[str, np.ndarray]:
    """The weights as plain numpy arrays: picklable, and free of autograd."""
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
