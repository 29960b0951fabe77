"""The multilingual toy's dual encoder, kept minimal: an MLP over the 32×32 shapes shrunk to 16×16 and
a text tower over a tokenizer's pieces (embedding, one convolution over neighbouring
pieces, max over positions), both projected into one space; SigLIP's learned scale and bias.

A lab may not import another lab, so this is not train_clip's model: it is the smallest
pair of towers that learns colour × shape captions in seconds.
"""
from __future__ import annotations

import math
from typing import Sequence

from playground.models.lazy import torch

nn = torch.nn


class ShapeMLP(nn.Module):
    """The picture shrunk to ``side`` × ``side`` (average of each block), flattened, then a
    two-layer MLP to ``dim``: enough for one coloured shape on a plain background, and
    several times faster to train than a convolutional tower."""

    def __init__(self, dim: int = 64, side: int = 16, width: int = 128) -> None:
        super().__init__()
        self.side = side
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * side * side, width), nn.GELU(), nn.Linear(width, dim))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(nn.functional.adaptive_avg_pool2d(pixels, self.side))


class PieceTower(nn.Module):
    """A text tower over pieces: ``vocab`` (index 0 is the unknown piece) to ``dim``.

    Every piece outside ``vocab`` shares index 0, so a tokenizer that turns a script into
    ``[UNK]`` leaves this tower nothing to tell those words apart by.
    """

    def __init__(self, vocab: Sequence[str], dim: int = 64, width: int = 64) -> None:
        super().__init__()
        self.index = {piece: i for i, piece in enumerate(vocab)}
        self.embed = nn.Embedding(len(vocab) + 1, width, padding_idx=len(vocab))  # the last row pads
        self.conv = nn.Conv1d(width, width, 3, padding=1)
        self.proj = nn.Linear(width, dim)

    def ids(self, texts_pieces: Sequence[Sequence[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded piece ids (n, longest) and the mask of real pieces."""
        pad = self.embed.padding_idx
        longest = max(1, max(len(p) for p in texts_pieces))
        ids = torch.full((len(texts_pieces), longest), pad, dtype=torch.long)
        for row, cut in enumerate(texts_pieces):
            if cut:
                ids[row, : len(cut)] = torch.tensor([self.index.get(p, 0) for p in cut])
        return ids, ids != pad

    def forward(self, texts_pieces: Sequence[Sequence[str]]) -> torch.Tensor:
        return self.forward_ids(*self.ids(texts_pieces))

    def forward_ids(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The tower on ids and mask from ``ids`` (computed once for a whole training set)."""
        hidden = nn.functional.gelu(self.conv(self.embed(ids).transpose(1, 2))).transpose(1, 2)
        hidden = hidden.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
        return self.proj(torch.nan_to_num(hidden, neginf=0.0))


class ToyDualEncoder(nn.Module):
    """Image tower + text tower + SigLIP's learned ``log t`` and ``b``."""

    def __init__(self, vocab: Sequence[str], dim: int = 64, bias_init: float = -2.0) -> None:
        super().__init__()
        self.image_tower, self.text_tower = ShapeMLP(dim), PieceTower(vocab, dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(10.0)))
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))

    def scale(self) -> torch.Tensor:
        return self.log_scale.clamp(max=math.log(100.0)).exp()
