"""Captioned toy images, generated from a seed: shared by the labs that train image
encoders (``train_clip`` on images and captions, ``simclr`` on images alone).

Each image is one shape (circle, square, triangle, ...) in one colour, at one size
and position, on a plain background; its caption is drawn from varied templates
("a small red circle at the top left", "red round thing, small, upper left").
Some colour x shape combinations (``HELD_OUT``, e.g. every blue triangle) never
appear in training, so zero-shot accuracy on them measures whether the joint
space composes "blue" and "triangle" it learned separately.

Everything is a function of the seed: the same seed gives the same pixels and
the same captions, byte for byte.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 32
SUPERSAMPLE = 4  # draw 4x larger, then shrink: smooth edges without a renderer

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 165, 60),
    "blue": (40, 85, 225),
    "yellow": (240, 210, 35),
    "purple": (140, 55, 185),
    "orange": (245, 135, 25),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond", "cross")
SIZES: dict[str, float] = {"small": 0.34, "large": 0.5}  # radius as a share of the side
POSITIONS: dict[str, tuple[float, float]] = {  # centre (x, y) as a share of the side
    "top left": (0.3, 0.3), "top right": (0.7, 0.3), "centre": (0.5, 0.5),
    "bottom left": (0.3, 0.7), "bottom right": (0.7, 0.7),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {"white": (242, 242, 242), "grey": (125, 125, 125), "black": (18, 18, 18)}

# Never seen in training: each colour and each shape is held out exactly once,
# so every word still appears in training, only never in these pairings.
HELD_OUT: tuple[tuple[str, str], ...] = (
    ("blue", "triangle"), ("red", "star"), ("green", "cross"),
    ("yellow", "square"), ("purple", "circle"), ("orange", "diamond"),
)

SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "circle", "round thing", "disc"),
    "square": ("square", "square", "box", "block"),
    "triangle": ("triangle", "triangle", "three-sided shape", "wedge"),
    "star": ("star", "star", "five-pointed star", "starry shape"),
    "diamond": ("diamond", "diamond", "rhombus", "lozenge"),
    "cross": ("cross", "cross", "plus sign", "plus"),
}
POSITION_WORDS: dict[str, tuple[str, ...]] = {
    "top left": ("top left", "upper left", "top-left corner"),
    "top right": ("top right", "upper right", "top-right corner"),
    "centre": ("centre", "middle", "center"),
    "bottom left": ("bottom left", "lower left", "bottom-left corner"),
    "bottom right": ("bottom right", "lower right", "bottom-right corner"),
}
SIZE_WORDS: dict[str, tuple[str, ...]] = {"small": ("small", "little", "tiny"), "large": ("large", "big", "huge")}
TEMPLATES: tuple[str, ...] = (
    "a {size} {colour} {shape} at the {pos}",
    "{colour} {shape}, {size}, {pos}",
    "a {colour} {shape} on a {bg} background",
    "a photo of a {colour} {shape}",
    "there is a {size} {colour} {shape} in the {pos}",
    "{pos}: one {colour} {shape}",
    "a {colour} {shape}",
    "{size} {shape} in {colour} on {bg}",
    "the {shape} is {colour}, {pos}",
    "a drawing of a {size} {colour} {shape}",
)
CLASS_PROMPT = "a {colour} {shape}"

# Colour words that no training caption uses: with a text tower that already
# knows English (MiniLM) they can still find the right images.
UNSEEN_COLOUR_WORDS: dict[str, str] = {
    "red": "crimson", "green": "emerald", "blue": "navy", "yellow": "golden", "purple": "violet", "orange": "tangerine",
}

_A_BEFORE_VOWEL = re.compile(r"\ba (?=[aeiou])")
_SPLIT_STREAMS = {"train": 1, "seen": 2, "heldout": 3, "display": 4}
_ANY_COMBO_STREAM = 5


@dataclass(frozen=True)
class Attributes:
    """What is in one image."""

    colour: str
    shape: str
    size: str
    position: str
    background: str

    @property
    def combo(self) -> tuple[str, str]:
        return (self.colour, self.shape)


@dataclass
class CaptionedImages:
    """``images``: uint8 (n, side, side, 3); ``captions`` and ``attributes``: one per image."""

    images: np.ndarray
    captions: list[str]
    attributes: list[Attributes]

    def __len__(self) -> int:
        return len(self.captions)

    def pil(self, i: int) -> Image.Image:
        return Image.fromarray(self.images[i])


def all_combos() -> list[tuple[str, str]]:
    """Every colour x shape pair, colour-major (the zero-shot candidates)."""
    return [(c, s) for c in COLOURS for s in SHAPES]


def seen_combos() -> list[tuple[str, str]]:
    held = set(HELD_OUT)
    return [combo for combo in all_combos() if combo not in held]


def class_prompts(colour_words: dict[str, str] | None = None) -> list[str]:
    """One prompt per colour x shape pair (same order as ``all_combos``)."""
    words = colour_words or {c: c for c in COLOURS}
    return [with_articles(CLASS_PROMPT.format(colour=words[c], shape=s)) for c, s in all_combos()]


def with_articles(text: str) -> str:
    """"a orange" -> "an orange": captions read as English."""
    return _A_BEFORE_VOWEL.sub("an ", text)


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Corner points of ``shape`` centred at (cx, cy) with radius r, turned by ``angle`` radians."""
    if shape == "square":
        pts = [(math.cos(a), math.sin(a)) for a in (math.pi / 4 + k * math.pi / 2 for k in range(4))]
        pts = [(x * 0.95, y * 0.95) for x, y in pts]
    elif shape == "diamond":  # a rhombus standing on a point: taller than wide
        pts = [(0, -1.1), (0.7, 0), (0, 1.1), (-0.7, 0)]
    elif shape == "triangle":
        pts = [(math.cos(a), math.sin(a)) for a in (-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3))]
        pts = [(x * 1.1, y * 1.1 + 0.15) for x, y in pts]
    elif shape == "star":
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            rad = 1.15 if k % 2 == 0 else 0.45
            pts.append((rad * math.cos(a), rad * math.sin(a)))
    elif shape == "cross":
        w = 0.33
        pts = [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w)]
    else:
        raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * ca - y * sa), cy + r * (x * sa + y * ca)) for x, y in pts]


def render(attrs: Attributes, rng: np.random.Generator, side: int = IMAGE_SIZE) -> np.ndarray:
    """Draw one image (uint8, side x side x 3) with small random jitter in colour,
    position, size and angle, so no two images of the same description are equal."""
    big = side * SUPERSAMPLE
    bg = np.clip(np.array(BACKGROUNDS[attrs.background]) + rng.integers(-12, 13, 3), 0, 255)
    fg = np.clip(np.array(COLOURS[attrs.colour]) + rng.integers(-18, 19, 3), 0, 255)
    image = Image.new("RGB", (big, big), tuple(int(v) for v in bg))
    draw = ImageDraw.Draw(image)
    px, py = POSITIONS[attrs.position]
    r = SIZES[attrs.size] * big * rng.uniform(0.88, 1.12) / 2 * 1.0
    cx = (px + rng.uniform(-0.05, 0.05)) * big
    cy = (py + rng.uniform(-0.05, 0.05)) * big
    colour = tuple(int(v) for v in fg)
    if attrs.shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    else:
        angle = rng.uniform(-0.25, 0.25)
        draw.polygon(_polygon(attrs.shape, cx, cy, r, angle), fill=colour)
    return np.asarray(image.resize((side, side), Image.BOX), dtype=np.uint8)


def _template_and_caption(attrs: Attributes, rng: np.random.Generator) -> tuple[str, str]:
    template = TEMPLATES[rng.integers(len(TEMPLATES))]
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    text = template.format(
        colour=attrs.colour, shape=pick(SHAPE_WORDS[attrs.shape]), size=pick(SIZE_WORDS[attrs.size]),
        pos=pick(POSITION_WORDS[attrs.position]), bg=attrs.background,
    )
    return template, with_articles(text)


def caption(attrs: Attributes, rng: np.random.Generator) -> str:
    """One caption for ``attrs`` from a random template with random synonyms."""
    return _template_and_caption(attrs, rng)[1]


def _random_attributes(combo: tuple[str, str], rng: np.random.Generator) -> Attributes:
    return Attributes(
        colour=combo[0], shape=combo[1],
        size=list(SIZES)[rng.integers(len(SIZES))],
        position=list(POSITIONS)[rng.integers(len(POSITIONS))],
        background=list(BACKGROUNDS)[rng.integers(len(BACKGROUNDS))],
    )


def _redraw_unmentioned(attrs: Attributes, template: str, rng: np.random.Generator) -> Attributes:
    """The attributes of a fresh image that fits a caption made from ``template``:
    what the caption says stays, what it does not say is drawn again."""
    fresh = _random_attributes(attrs.combo, rng)
    return Attributes(
        colour=attrs.colour, shape=attrs.shape,
        size=attrs.size if "{size}" in template else fresh.size,
        position=attrs.position if "{pos}" in template else fresh.position,
        background=attrs.background if "{bg}" in template else fresh.background,
    )


def make_split(split: str, n: int, seed: int = 0, side: int = IMAGE_SIZE, n_captions: int | None = None) -> CaptionedImages:
    """``n`` captioned images of one split, a pure function of its arguments.

    Splits: ``"train"`` (seen combinations, drawn at random), ``"seen"`` (seen
    combinations, balanced, fresh images for testing), ``"heldout"`` (only the
    ``HELD_OUT`` combinations, balanced), ``"display"`` (one image of each of ``n``
    different seen combinations, for the similarity-matrix snapshots).

    ``n_captions`` (train only): draw the captions from a pool of that many, each
    image a fresh drawing that fits its caption. A frozen text tower then embeds
    only the pool, however many images there are.
    """
    if split not in _SPLIT_STREAMS:
        raise ValueError(f"split must be one of {', '.join(_SPLIT_STREAMS)}, got {split!r}")
    if n < 1:
        raise ValueError(f"need at least one image, got n={n}")
    rng = np.random.default_rng([int(seed), _SPLIT_STREAMS[split]])
    if split == "train" and n_captions:
        pool_combos = seen_combos()
        pool = []
        for i in range(int(n_captions)):
            attrs = _random_attributes(pool_combos[i % len(pool_combos)], rng)
            pool.append((attrs, *_template_and_caption(attrs, rng)))
        chosen = [pool[i % len(pool)] for i in range(n)]  # every caption gets its share of images
        attributes = [_redraw_unmentioned(attrs, template, rng) for attrs, template, _ in chosen]
        images = np.stack([render(a, rng, side) for a in attributes])
        return CaptionedImages(images=images, captions=[text for _, _, text in chosen], attributes=attributes)
    if split == "train":
        pool = seen_combos()
        combos = [pool[i] for i in rng.integers(len(pool), size=n)]
    elif split == "seen":
        pool = seen_combos()
        combos = [pool[i % len(pool)] for i in range(n)]
    elif split == "heldout":
        combos = [HELD_OUT[i % len(HELD_OUT)] for i in range(n)]
    else:  # display: distinct combinations so the matrix has one true match per row
        pool = seen_combos()
        combos = [pool[i] for i in rng.permutation(len(pool))[: min(n, len(pool))]]
    attributes = [_random_attributes(combo, rng) for combo in combos]
    images = np.stack([render(a, rng, side) for a in attributes])
    captions = [caption(a, rng) for a in attributes]
    return CaptionedImages(images=images, captions=captions, attributes=attributes)


def combo_labels(attributes: Sequence[Attributes]) -> np.ndarray:
    """Index into ``all_combos()`` of each image's colour x shape pair."""
    index = {combo: i for i, combo in enumerate(all_combos())}
    return np.array([index[a.combo] for a in attributes], dtype=np.int64)


def random_shapes(n: int, seed: int = 0, side: int = IMAGE_SIZE) -> CaptionedImages:
    """``n`` images with every attribute (colour, shape, size, position, background)
    drawn independently and uniformly, every colour x shape pair included; a pure
    function of its arguments. For labs that learn from the images alone."""
    if n < 1:
        raise ValueError(f"need at least one image, got n={n}")
    rng = np.random.default_rng([int(seed), _ANY_COMBO_STREAM])
    combos = all_combos()
    attributes = [_random_attributes(combos[i], rng) for i in rng.integers(len(combos), size=n)]
    images = np.stack([render(a, rng, side) for a in attributes])
    captions = [caption(a, rng) for a in attributes]
    return CaptionedImages(images=images, captions=captions, attributes=attributes)
