"""The augmentations that make SimCLR's positive pairs, batched in torch.

Each one takes float images (n, 3, h, w) in [0, 1] and a ``torch.Generator`` (so a
run is a function of its seed and never touches torch's global random state) and
returns new images of the same shape. ``two_views`` applies the chosen ones twice,
independently: the two results are a positive pair.

The geometric ones (crop, flip, rotate) are folded into one affine warp per image.
The colour jitter is stronger than SimCLR's (hue anywhere on the colour wheel, not
within ±0.2 of a turn) so that, with it, an image's colour says nothing about which
view is its twin: the lesson "what you augment away is forgotten" then shows cleanly.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

_GEOMETRIC = ("crop", "flip", "rotate")
# YIQ: hue is the angle in the (I, Q) plane, so a hue shift is a rotation there.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def to_float(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, h, w, 3) -> float32 (n, 3, h, w) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (n, 3, h, w) in [0, 1] -> uint8 (n, h, w, 3)."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _uniform(g: torch.Generator, n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=g)


def _coin(g: torch.Generator, n: int, p: float) -> torch.Tensor:
    return (torch.rand(n, generator=g) < p).view(n, 1, 1, 1)


def geometric(x: torch.Tensor, g: torch.Generator, crop: bool, flip: bool, rotate: bool) -> torch.Tensor:
    """Crop, flip and rotate as one affine warp per image (bilinear, edges repeated)."""
    n = len(x)
    theta = torch.eye(3).repeat(n, 1, 1)
    if crop:
        area = _uniform(g, n, 0.25, 1.0)
        ratio = torch.exp(_uniform(g, n, math.log(3 / 4), math.log(4 / 3)))
        w, h = torch.sqrt(area * ratio).clamp(max=1.0), torch.sqrt(area / ratio).clamp(max=1.0)
        cx, cy = (1 - w) * _uniform(g, n, -1, 1), (1 - h) * _uniform(g, n, -1, 1)
        crop_m = torch.zeros(n, 3, 3)
        crop_m[:, 0, 0], crop_m[:, 1, 1], crop_m[:, 0, 2], crop_m[:, 1, 2], crop_m[:, 2, 2] = w, h, cx, cy, 1
        theta = crop_m @ theta
    if rotate:
        a = _uniform(g, n, -math.radians(20), math.radians(20))
        rot = torch.zeros(n, 3, 3)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = a.cos(), -a.sin(), a.sin(), a.cos(), 1
        theta = theta @ rot
    if flip:
        sign = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
        flip_m = torch.eye(3).repeat(n, 1, 1)
        flip_m[:, 0, 0] = sign
        theta = theta @ flip_m
    grid = F.affine_grid(theta[:, :2], list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def colour_jitter(x: torch.Tensor, g: torch.Generator, p: float = 0.8) -> torch.Tensor:
    """Brightness, contrast and saturation by a factor in [0.6, 1.4], and a hue shift
    anywhere on the wheel, applied to a share ``p`` of the images."""
    n = len(x)
    b = _uniform(g, n, 0.6, 1.4).view(n, 1, 1, 1)
    c = _uniform(g, n, 0.6, 1.4).view(n, 1, 1, 1)
    s = _uniform(g, n, 0.6, 1.4).view(n, 1, 1, 1)
    hue = _uniform(g, n, -math.pi, math.pi)
    apply = _coin(g, n, p)
    y = (x * b).clamp(0, 1)
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    y = ((y - mean) * c + mean).clamp(0, 1)
    grey = _grey(y)
    y = ((y - grey) * s + grey).clamp(0, 1)
    yiq = torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ, y)
    cos, sin = hue.cos().view(n, 1, 1), hue.sin().view(n, 1, 1)
    i, q = yiq[:, 1], yiq[:, 2]
    yiq = torch.stack([yiq[:, 0], cos * i - sin * q, sin * i + cos * q], dim=1)
    y = torch.einsum("ij,njhw->nihw", _YIQ_TO_RGB, yiq).clamp(0, 1)
    return torch.where(apply, y, x)


def _grey(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).expand_as(x)


def grayscale(x: torch.Tensor, g: torch.Generator, p: float = 0.2) -> torch.Tensor:
    return torch.where(_coin(g, len(x), p), _grey(x), x)


def blur(x: torch.Tensor, g: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """A 5x5 Gaussian blur with σ drawn per image, applied to a share ``p`` of them."""
    n, ch, h, w = x.shape
    sigma = _uniform(g, n, 0.1, 1.5).view(n, 1)
    offsets = torch.arange(-2, 3, dtype=torch.float32).view(1, 5)
    k = torch.exp(-(offsets ** 2) / (2 * sigma ** 2))
    k = k / k.sum(dim=1, keepdim=True)  # (n, 5), one kernel per image
    kernel = k.repeat_interleave(ch, dim=0)  # one per channel, grouped convolution over n*ch channels
    flat = F.pad(x.reshape(1, n * ch, h, w), (2, 2, 2, 2), mode="replicate")
    flat = F.conv2d(flat, kernel.view(n * ch, 1, 1, 5), groups=n * ch)
    flat = F.conv2d(flat, kernel.view(n * ch, 1, 5, 1), groups=n * ch)
    return torch.where(_coin(g, n, p), flat.view(n, ch, h, w), x)


def noise(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    sigma = _uniform(g, len(x), 0.0, 0.1).view(-1, 1, 1, 1)
    return (x + sigma * torch.randn(x.shape, generator=g)).clamp(0, 1)


def augment(x: torch.Tensor, chosen: Sequence[str], g: torch.Generator) -> torch.Tensor:
    """One random view of each image: the chosen augmentations in a fixed order
    (geometry, then colour, grayscale, blur, noise)."""
    chosen = set(chosen)
    if chosen & set(_GEOMETRIC):
        x = geometric(x, g, "crop" in chosen, "flip" in chosen, "rotate" in chosen)
    if "colour" in chosen:
        x = colour_jitter(x, g)
    if "grayscale" in chosen:
        x = grayscale(x, g)
    if "blur" in chosen:
        x = blur(x, g)
    if "noise" in chosen:
        x = noise(x, g)
    return x


def two_views(images: np.ndarray, chosen: Sequence[str], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independent views of each uint8 image: float (n, 3, h, w) in [0, 1] each."""
    x = to_float(images)
    return augment(x, chosen, g), augment(x, chosen, g)
