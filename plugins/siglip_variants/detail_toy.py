"""Part "Resolution", offline: a toy where a small detail decides the label, trained at two
input sizes for the same steps.

Each picture is one of the project's coloured shapes (32 × 32) with a two-pixel mark painted
on it: a red pixel left of a blue one (label 0) or a blue pixel left of a red one (label 1).
The mark sits at even coordinates anywhere in the picture. The model sees the picture at
``side`` pixels (the 32-pixel drawing shrunk by averaging blocks: a box filter) cut into
4-pixel patches: 64 tokens at 32 px, 16 tokens at 16 px. At 16 px each 2 × 2 block that
holds the mark also holds two pixels of the row below, so the mark becomes one pixel of the
same colour for both labels: the two versions of each test picture are identical, and every
model, trained or not, scores exactly 50% there (``identical_at``). That is exact by
construction and holds for a box filter only: a bicubic resize, which the real checkpoints
use, would keep a faint trace of the mark instead of erasing it. At 32 px the mark is kept.
The training loss at 16 px can still fall below ln 2: the model memorises the training
pictures (shape and place of the mark give the label of each of them), which says nothing
about held-out ones.

The model is a tiny patch encoder (every token through one MLP, the most active value per
feature over the tokens, a linear classifier): the same architecture and initial weights at
both sizes (a fresh model per size), only the token count differs. The mark sits inside one
4-pixel patch at both sizes, and a patch embedding is a linear map of all its pixels: what
decides is the resize, not the number of patches. ``compare_sizes`` returns accuracy, tokens
and training time per size.
No gradio here.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from playground.data.shapes import IMAGE_SIZE, random_shapes
from playground.models.lazy import F, torch
from playground.science.threads import torch_threads
from playground.science.training import adamw_with_schedule, optimise

PATCH = 4  # pixels per patch side, at every input size
SIDES = (16, 32)  # the two input sizes compared: 16 and 64 tokens
RED, BLUE = (230, 20, 20), (20, 20, 230)


@dataclass(frozen=True)
class DetailSettings:
    """One comparison: each input size in ``sides`` trained for ``steps`` on the same pictures."""

    steps: int = 300
    batch: int = 64
    lr: float = 3e-3
    seed: int = 0
    train: int = 1024
    test: int = 400
    sides: tuple = SIDES

    def validate(self) -> None:
        if not 10 <= self.steps <= 5000:
            raise ValueError(f"steps must be between 10 and 5000, got {self.steps}.")
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number ≥ 0, got {self.seed}.")
        for side in self.sides:
            if side % PATCH or IMAGE_SIZE % side:
                raise ValueError(f"input side {side} must divide {IMAGE_SIZE} and be a multiple of {PATCH}.")


@dataclass
class SizeRun:
    side: int
    tokens: int
    accuracy: float  # on held-out pictures, each with both marks (chance 50%)
    ceiling: float  # the most any model can score at this size (of a pair that looks identical, one is wrong);
    # where every pair looks identical (16 px here) every model scores exactly this
    train_seconds: float
    final_loss: float


def marked_pictures(n: int, seed: int, stream: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` shapes, each with its mark: (images uint8 (n, 32, 32, 3), labels (n,), the same
    pictures with the other label's mark). ``stream`` keeps training and test pictures apart."""
    rng = np.random.default_rng([seed, stream])
    shapes = random_shapes(n, seed=seed * 1000 + stream).images
    labels = rng.integers(2, size=n)
    x = 2 * rng.integers(IMAGE_SIZE // 2 - 1, size=n)  # even columns, so both pixels fit
    y = 2 * rng.integers(IMAGE_SIZE // 2, size=n)
    images, swapped = shapes.copy(), shapes.copy()
    for i in range(n):
        left, right = (RED, BLUE) if labels[i] == 0 else (BLUE, RED)
        images[i, y[i], x[i]], images[i, y[i], x[i] + 1] = left, right
        swapped[i, y[i], x[i]], swapped[i, y[i], x[i] + 1] = right, left
    return images, labels, swapped


def at_side(images: np.ndarray, side: int) -> torch.Tensor:
    """uint8 (n, 32, 32, 3) -> float (n, 3, side, side): each block of pixels averaged (a box
    filter, not the bicubic resize of the real checkpoints), scaled to about [-2, 2]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    x = F.avg_pool2d(x, IMAGE_SIZE // side) if side < IMAGE_SIZE else x
    return (x - 0.5) / 0.25


def identical_at(images: np.ndarray, swapped: np.ndarray, side: int) -> float:
    """The share of pictures that look exactly the same at ``side`` with either label's mark."""
    a, b = at_side(images, side), at_side(swapped, side)
    return float((a - b).abs().flatten(1).amax(dim=1).le(1e-6).float().mean())


class PatchClassifier(torch.nn.Module):
    """Patches of ``PATCH`` pixels -> one MLP per token -> max over tokens -> two logits."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.token = torch.nn.Sequential(torch.nn.Linear(3 * PATCH * PATCH, width), torch.nn.GELU(),
                                         torch.nn.Linear(width, width), torch.nn.GELU())
        self.head = torch.nn.Linear(width, 2)

    @staticmethod
    def tokens(pixels: torch.Tensor) -> torch.Tensor:
        """(n, 3, s, s) -> (n, (s / PATCH)², 3 · PATCH²)."""
        patches = F.unfold(pixels, PATCH, stride=PATCH)  # (n, 3·P², tokens)
        return patches.transpose(1, 2)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.token(self.tokens(pixels)).amax(dim=1))


def train_at(side: int, settings: DetailSettings, train, test) -> SizeRun:
    """Train a fresh ``PatchClassifier`` on ``train`` seen at ``side`` pixels; score ``test``."""
    (images, labels, _), (test_images, test_labels, test_swapped) = train, test
    pixels, target = at_side(images, side), torch.from_numpy(labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model = PatchClassifier()
    optimiser, schedule = adamw_with_schedule(model, settings.lr, 1e-4, settings.steps)
    rng = np.random.default_rng([settings.seed, 5])
    start, loss = time.perf_counter(), float("nan")
    for _ in range(settings.steps):
        batch = torch.from_numpy(rng.integers(len(labels), size=settings.batch))
        loss = optimise(F.cross_entropy(model(pixels[batch]), target[batch]), optimiser, schedule)
    seconds = time.perf_counter() - start
    # every held-out picture twice, once with each mark: exactly balanced, and of a pair that
    # looks the same at this size at most one answer can be right
    both, truth = np.concatenate([test_images, test_swapped]), np.concatenate([test_labels, 1 - test_labels])
    with torch.no_grad():
        guess = model(at_side(both, side)).argmax(dim=1).numpy()
    ceiling = 1 - identical_at(test_images, test_swapped, side) / 2
    return SizeRun(side, (side // PATCH) ** 2, round(float((guess == truth).mean()), 4), round(ceiling, 4),
                   round(seconds, 2), round(loss, 4))


def compare_sizes(settings: DetailSettings = DetailSettings()) -> list[SizeRun]:
    """Every input size in ``settings.sides``, the same pictures, steps and seed (one CPU thread)."""
    settings.validate()
    train = marked_pictures(settings.train, settings.seed, stream=1)
    test = marked_pictures(settings.test, settings.seed, stream=2)
    with torch_threads(1):
        return [train_at(side, settings, train, test) for side in settings.sides]


def summary(runs: list[SizeRun], settings: DetailSettings) -> dict:
    from .claims import CLAIMS, detail_figures

    return {"settings": asdict(settings), "chance": 0.5, "runs": [asdict(r) for r in runs],
            "reveal": CLAIMS["detail.kept_at_higher_size"].words(detail_figures(runs))}
