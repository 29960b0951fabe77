"""Part "Resolution": ViT-B-16-SigLIP at 224, 256, 384 and 512 pixels. The patch is 16 pixels
at every resolution, so the image becomes (side/16)² tokens: 196 at 224, 1024 at 512.

``tower_costs`` builds each resolution's image tower from open_clip's own architecture
config (the shapes the real checkpoint has, random weights: compute does not depend on
the weights) and measures on this machine, for one image:

- latency: wall time of the forward pass (median of ``repeats``, one CPU thread unless told);
- peak activation memory: the most bytes of tensors the forward pass holds alive at once,
  counted tensor by tensor as torch creates and frees them (the weights are not included;
  their size is reported apart).

``grid_geometry`` reads each tower's input and patch side from the tower itself (built on
torch's ``meta`` device: shapes only) and ``photo_with_grid`` draws that grid over a photo.

Published ImageNet zero-shot accuracy per resolution is quoted from open_clip's results
table, with its source (``PUBLISHED``). No gradio here.
"""
from __future__ import annotations

import functools
import time
import weakref
from dataclasses import asdict, dataclass

import numpy as np

from playground.models.lazy import torch
from playground.science.threads import torch_threads

# registry id -> (open_clip architecture, input side in pixels)
RESOLUTION_IDS = {
    "siglip-vit-b-16": ("ViT-B-16-SigLIP", 224),
    "siglip-vit-b-16-256": ("ViT-B-16-SigLIP-256", 256),
    "siglip-vit-b-16-384": ("ViT-B-16-SigLIP-384", 384),
    "siglip-vit-b-16-512": ("ViT-B-16-SigLIP-512", 512),
}
SOURCE = ("open_clip, docs/openclip_results.csv (commit f862f86cd92123615a8695ce8bcb6ecc066af452), "
          "column 'ImageNet 1k' (zero-shot top-1), pretrained tag 'webli'")
# Quoted from SOURCE; each row's 'ImageNet 1k' and 'FLOPs (B)' (the whole model, one image-text pair).
PUBLISHED = {
    "ViT-B-16-SigLIP": {"imagenet_zero_shot": 0.7604, "gflops": 46.44},
    "ViT-B-16-SigLIP-256": {"imagenet_zero_shot": 0.7653, "gflops": 57.84},
    "ViT-B-16-SigLIP-384": {"imagenet_zero_shot": 0.7849, "gflops": 123.15},
    "ViT-B-16-SigLIP-512": {"imagenet_zero_shot": 0.7914, "gflops": 227.26},
    "ViT-B-16-SigLIP-i18n-256": {"imagenet_zero_shot": 0.7513, "gflops": 57.84},
}


@dataclass(frozen=True)
class GridGeometry:
    model_id: str
    side: int  # input side in pixels
    patch: int  # patch side in pixels
    resize_mode: str  # how the checkpoint's preprocessing makes the square input ("squash": no crop)
    interpolation: str

    @property
    def grid(self) -> int:
        return self.side // self.patch

    @property
    def tokens(self) -> int:
        return self.grid * self.grid


@dataclass(frozen=True)
class TowerCost:
    model_id: str
    architecture: str
    side: int
    patch: int  # patch side in pixels, read from the tower
    grid: int  # patches per side
    tokens: int  # patches (SigLIP's tower has no [CLS] token: it pools with attention)
    latency_s: float
    peak_activation_mb: float
    weights_mb: float
    threads: int


class LiveTensorBytes:
    """Counts the bytes of the tensors created under it that are still alive, and the peak.

    Every tensor an operation returns is counted once per storage and released when the
    last tensor using that storage is freed (a view shares its base's storage)."""

    def __init__(self) -> None:
        self.live = self.peak = 0
        self._storages: dict[int, list[int]] = {}

    def mode(self):
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_flatten

        counter = self

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for t in tree_flatten(out)[0]:
                    if isinstance(t, torch.Tensor) and t.device.type != "meta":
                        counter._add(t)
                return out

        return _Mode()

    def _add(self, t) -> None:
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key in self._storages:
            self._storages[key][1] += 1
        else:
            self._storages[key] = [storage.nbytes(), 1]
            self.live += storage.nbytes()
            self.peak = max(self.peak, self.live)
        weakref.finalize(t, self._release, key)

    def _release(self, key: int) -> None:
        entry = self._storages.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            self.live -= entry[0]
            del self._storages[key]


def image_tower(architecture: str, depth=None):
    """The image tower of ``architecture`` (an open_clip name) with random weights, in eval
    mode; ``depth`` overrides the number of transformer layers (for quick tests only)."""
    import open_clip
    from open_clip.model import CLIPVisionCfg, _build_vision_tower

    config = open_clip.get_model_config(architecture)
    if config is None:
        raise ValueError(f"open_clip knows no architecture {architecture!r}.")
    vision = dict(config["vision_cfg"])
    if depth is not None:
        vision["layers"] = depth
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return _build_vision_tower(config["embed_dim"], CLIPVisionCfg(**vision)).eval()


def tower_patch(tower) -> tuple[int, int]:
    """(input side, patch side) in pixels as the image tower itself holds them: timm's patch
    embedding for SigLIP's towers, the first convolution for open_clip's own ViT."""
    embed = getattr(getattr(tower, "trunk", None), "patch_embed", None)
    if embed is not None:
        return int(embed.img_size[0]), int(embed.patch_size[0])
    return int(tower.image_size[0]), int(tower.conv1.kernel_size[0])


@functools.lru_cache(maxsize=None)
def grid_geometry(model_id: str) -> GridGeometry:
    """``model_id``'s input side and patch side, read from its image tower built on torch's
    ``meta`` device (shapes only: no memory, no arithmetic), and how its checkpoint's
    preprocessing resizes a photo (open_clip's pretrained config)."""
    import open_clip

    if model_id not in RESOLUTION_IDS:
        raise ValueError(f"unknown resolution id {model_id!r}; expected one of {', '.join(RESOLUTION_IDS)}.")
    architecture = RESOLUTION_IDS[model_id][0]
    with torch.device("meta"):
        side, patch = tower_patch(image_tower(architecture))
    preprocess = open_clip.get_pretrained_cfg(architecture, "webli") or {}
    return GridGeometry(model_id, side, patch, preprocess.get("resize_mode", "squash"),
                        preprocess.get("interpolation", "bicubic"))


def photo_with_grid(image, model_id: str):
    """``image`` (PIL) as ``model_id`` takes it in (resized to its input side the way its
    preprocessing does), enlarged, with its patch grid drawn: (pixels H×W×3 uint8, caption)."""
    from PIL import Image

    from playground.science.zero_shot import draw_patch_grid

    g = grid_geometry(model_id)
    image = image.convert("RGB")
    if g.resize_mode != "squash":  # 'shortest' and the like: the centre square, as a centre crop takes it
        short = min(image.size)
        left, top = (image.size[0] - short) // 2, (image.size[1] - short) // 2
        image = image.crop((left, top, left + short, top + short))
    resample = Image.Resampling.BICUBIC if g.interpolation == "bicubic" else Image.Resampling.BILINEAR
    view = np.asarray(image.resize((g.side, g.side), resample), dtype=np.uint8)
    pixels, scale = draw_patch_grid(view, g.patch, min_side=512)
    caption = (f"`{model_id}` sees the photo at {g.side}×{g.side} pixels ({g.resize_mode} resize, {g.interpolation}"
               f"{f'; shown {scale}× larger' if scale > 1 else ''}) and cuts it into {g.grid}×{g.grid} = {g.tokens} patches of "
               f"{g.patch}×{g.patch} pixels, one token each.")
    return pixels, caption


def tower_cost(model_id: str, repeats: int = 1, threads: int = 1, depth=None) -> TowerCost:
    """Build ``model_id``'s image tower (see ``RESOLUTION_IDS``) and measure one image through it."""
    if model_id not in RESOLUTION_IDS:
        raise ValueError(f"unknown resolution id {model_id!r}; expected one of {', '.join(RESOLUTION_IDS)}.")
    architecture, side = RESOLUTION_IDS[model_id]
    tower = image_tower(architecture, depth)
    _, patch = tower_patch(tower)
    weights = sum(p.numel() * p.element_size() for p in tower.parameters())
    image = torch.randn(1, 3, side, side)
    times = []
    with torch_threads(threads), torch.no_grad():
        counter = LiveTensorBytes()
        with counter.mode():
            tower(image)
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            tower(image)
            times.append(time.perf_counter() - start)
    grid = side // patch
    return TowerCost(model_id, architecture, side, patch, grid, grid * grid, round(sorted(times)[len(times) // 2], 4),
                     round(counter.peak / 1e6, 2), round(weights / 1e6, 1), threads)


def tower_costs(model_ids=tuple(RESOLUTION_IDS), repeats: int = 1, threads: int = 1, depth=None) -> list[TowerCost]:
    return [tower_cost(m, repeats, threads, depth) for m in model_ids]


def summary(costs: list[TowerCost], depth=None) -> dict:
    rows = []
    for c in costs:
        row = asdict(c)
        row["published"] = PUBLISHED.get(c.architecture)
        rows.append(row)
    note = None if depth is None else f"towers cut to {depth} layers (a quick check, not the real cost)"
    patches = sorted({c.patch for c in costs})
    return {"patch": patches[0] if len(patches) == 1 else patches, "towers": rows, "published_source": SOURCE, "note": note}
