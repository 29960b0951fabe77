"""The two image sets the lab learns from, as one shape: uint8 RGB images of one size,
and per attribute an integer label for each image (the labels are never shown to
the encoder; only the linear probes read them).

- ``digits``: scikit-learn's bundled handwritten digits (1,797 real 8x8 scans, 16
  grey levels), upsampled to 32x32 and drawn white on black in three channels.
- ``shapes``: the shell's generated shapes (``playground.data.shapes``): one shape
  in one colour, at one size and position, on a plain background.

Each is split into a training set (what SimCLR sees, without labels) and a
held-out test set (what the probes are scored on), a pure function of the seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from playground.data import shapes

DATASETS = ("digits", "shapes")
IMAGE_SIZE = 32
SHAPE_ATTRIBUTES = ("shape", "colour", "size", "position")


@dataclass
class ImageSet:
    """``images``: uint8 (n, 32, 32, 3); ``labels[attribute]``: int (n,);
    ``classes[attribute]``: the name of each label value."""

    images: np.ndarray
    labels: dict[str, np.ndarray]
    classes: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: np.ndarray) -> "ImageSet":
        return ImageSet(self.images[index], {k: v[index] for k, v in self.labels.items()}, self.classes)


@dataclass
class LabImages:
    """One data set, split: ``train`` (SimCLR's unlabelled images; the probes fit on
    their features) and ``test`` (held out: the probes are scored here)."""

    name: str
    train: ImageSet
    test: ImageSet
    main_attribute: str

    @property
    def attributes(self) -> list[str]:
        return list(self.train.labels)


def _digits() -> ImageSet:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    grey = (bunch.images / 16.0 * 255).round().astype(np.uint8)  # (n, 8, 8), 0..255
    scale = IMAGE_SIZE // grey.shape[1]
    big = np.kron(grey, np.ones((1, scale, scale), dtype=np.uint8))  # nearest-neighbour upsampling
    images = np.repeat(big[..., None], 3, axis=3)
    return ImageSet(images, {"digit": bunch.target.astype(np.int64)}, {"digit": [str(d) for d in range(10)]})


def _shapes(n: int, seed: int) -> ImageSet:
    data = shapes.random_shapes(n, seed, side=IMAGE_SIZE)
    names = {"shape": list(shapes.SHAPES), "colour": list(shapes.COLOURS), "size": list(shapes.SIZES),
             "position": list(shapes.POSITIONS)}
    labels = {attr: np.array([names[attr].index(getattr(a, attr)) for a in data.attributes], dtype=np.int64)
              for attr in SHAPE_ATTRIBUTES}
    return ImageSet(data.images, labels, names)


@lru_cache(maxsize=4)
def load_images(name: str, seed: int = 0, n_shapes: int = 2400, test_fraction: float = 0.3) -> LabImages:
    """The data set ``name`` split into train and held-out test (cached: runs share it).

    Digits: all 1,797 scans, a seeded stratified split. Shapes: ``n_shapes`` fresh
    drawings from the seed. Both: ``test_fraction`` of the images held out.
    """
    if name not in DATASETS:
        raise ValueError(f"data must be one of {', '.join(DATASETS)}, got {name!r}.")
    full = _digits() if name == "digits" else _shapes(n_shapes, seed)
    main = "digit" if name == "digits" else "shape"
    rng = np.random.default_rng([int(seed), 7])
    test = []
    for value in np.unique(full.labels[main]):  # stratified by the main attribute
        where = np.flatnonzero(full.labels[main] == value)
        test.extend(rng.choice(where, size=int(round(test_fraction * len(where))), replace=False))
    is_test = np.zeros(len(full), dtype=bool)
    is_test[test] = True
    return LabImages(name, full.subset(np.flatnonzero(~is_test)), full.subset(np.flatnonzero(is_test)), main)
