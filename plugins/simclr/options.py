"""The lab's choices, in words: encoders and augmentations, and the check of a chosen
set. Kept apart from ``model`` and ``augment`` (which need torch) so that the tab and
the CLI can list them without importing torch."""
from __future__ import annotations

from typing import Sequence

ENCODERS = ("cnn", "vit")
ENCODER_NAMES = {"cnn": "small CNN", "vit": "tiny ViT"}
IMAGE_SIZE = 32
PATCH = 8  # the ViT cuts the 32x32 image into a 4x4 grid of 8x8 patches: 16 tokens

AUGMENTATIONS: dict[str, str] = {
    "crop": "random resized crop (25-100% of the area, then back to full size)",
    "colour": "colour jitter (brightness, contrast, saturation, and a hue anywhere on the wheel), 80% of the time",
    "grayscale": "grayscale, 20% of the time",
    "flip": "horizontal flip, half of the time",
    "rotate": "small rotation (up to ±20°)",
    "blur": "Gaussian blur (σ 0.1-1.5 pixels), half of the time",
    "noise": "Gaussian pixel noise (σ up to 0.1)",
}


def parse_augmentations(chosen: Sequence[str] | str | None) -> tuple[str, ...]:
    """The chosen augmentation names, checked and in a fixed order.

    Accepts a list or a comma-separated string ("crop,colour"); "color" is accepted for "colour".
    """
    if chosen is None:
        chosen = ()
    if isinstance(chosen, str):
        chosen = [c for c in chosen.split(",")]
    names = [str(c).strip().lower().replace("color", "colour") for c in chosen if str(c).strip()]
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(map(repr, unknown))}; choose from {', '.join(AUGMENTATIONS)}.")
    if not names:
        raise ValueError(
            "choose at least one augmentation: without one the two views of an image are identical, "
            f"the task is trivial and nothing is learned. Try crop,colour. Known: {', '.join(AUGMENTATIONS)}."
        )
    return tuple(n for n in AUGMENTATIONS if n in names)
