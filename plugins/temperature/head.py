"""The projection head the temperature lab trains (kept apart from ``compute`` so
that importing the lab does not import torch)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .compute import DEFAULT_DROPOUT, HEAD_HIDDEN, HEAD_OUT


class ProjectionHead(torch.nn.Module):
    """Dropout on the frozen embedding (the "augmentation"), then a small MLP."""

    def __init__(self, dim: int, dropout: float = DEFAULT_DROPOUT, hidden: int = HEAD_HIDDEN, out: int = HEAD_OUT):
        super().__init__()
        self.dropout = torch.nn.Dropout(dropout)
        self.net = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(self.dropout(x)), dim=-1)
