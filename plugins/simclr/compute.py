"""Train a SimCLR encoder and measure what its features know. Pure and gradio-free.

``train_simclr(settings)`` trains a small CNN or a tiny ViT with NT-Xent (the shell's
``playground.science.losses.nt_xent``): each step takes ``batch_size`` unlabelled images,
makes two augmented views of each (the positive pair) and treats the other
2N - 2 views in the batch as negatives. Then it scores, on held-out images, a
linear probe per attribute on three feature sets measured in the same run: the
trained backbone, the same backbone untrained (its random initial weights), and
the raw pixels. Everything it returns is plain data (numbers, numpy arrays, the
weights as numpy arrays), so it can run in another process (ZeroGPU's worker).

``augment_away`` and ``batch_size_sweep`` are the lab's two experiments.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Callable, Optional, Sequence

import numpy as np

from playground.models.gpu import gpu
from playground.models.gpu_policy import cpu_offer, request_seconds, simclr_seconds, worth_gpu
from playground.science.geometry import limit_threads, project_2d
from playground.models.lazy import torch
from playground.science.losses import nt_xent
from playground.models.registry import pick_device
from playground.science.training import LossLog, adamw_with_schedule, optimise
from playground.science.threads import torch_threads

from .data import DATASETS, LabImages, load_images
from .options import ENCODERS, parse_augmentations

MAX_STEPS = 3000  # about 15 minutes of a 2-core CPU at batch 128: the cap the UI and the CLI state
MAX_BATCH = 512
DEFAULT_AUGMENT = ("crop", "colour", "grayscale", "flip")
SWEEP_BATCH_SIZES = (16, 64, 256)
SWEEP_IMAGES = 16_384  # images seen per run in the batch-size experiment (steps = images // batch)
N_QUERIES, N_NEIGHBOURS = 6, 5
PROBE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
ProgressFn = Optional[Callable[[int, int, float], None]]  # (step, total steps, running loss)
StopFn = Optional[Callable[[], bool]]


@dataclass(frozen=True)
class SimCLRSettings:
    """One SimCLR run. The defaults finish within about 90 s on a shared 2-core CPU.

    Args:
        data: ``"shapes"`` (generated; four attributes to probe) or ``"digits"`` (real 8x8
            scans, upsampled; one attribute, and easy even for an untrained encoder).
        encoder: ``"cnn"`` or ``"vit"``.
        augment: the augmentations that make the two views (see ``augment.AUGMENTATIONS``).
        batch_size: images per step; each gives two views, every other view is a negative.
        steps: optimiser steps (at most ``MAX_STEPS``).
        tau: NT-Xent temperature τ > 0.
        lr: peak learning rate (AdamW, short warm-up, cosine decay).
        seed: seeds the data split, the weights, the batches and the augmentations.
        threads: torch threads while training (1 keeps tiny models fast on a shared CPU).
    """

    data: str = "shapes"
    encoder: str = "cnn"
    augment: tuple[str, ...] = DEFAULT_AUGMENT
    batch_size: int = 128
    steps: int = 300
    tau: float = 0.2
    lr: float = 3e-3
    seed: int = 0
    threads: int = 1

    def validate(self) -> "SimCLRSettings":
        """Raise ``ValueError`` saying what is wrong and what to use instead; returns
        the settings with the augmentations checked and in their fixed order."""
        if self.data not in DATASETS:
            raise ValueError(f"data must be one of {', '.join(DATASETS)}, got {self.data!r}.")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}.")
        augment = parse_augmentations(self.augment)
        if not 2 <= self.batch_size <= MAX_BATCH:
            raise ValueError(
                f"batch size must be between 2 and {MAX_BATCH}, got {self.batch_size}: the other images in the "
                "batch are the negatives, so a batch of 1 has none to push away."
            )
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS} (the cap keeps a run within minutes), got {self.steps}.")
        if not (0 < self.tau <= 10) or math.isnan(self.tau):
            raise ValueError(f"the temperature τ must be above 0 and at most 10 (SimCLR uses 0.1-0.5), got {self.tau}.")
        if not (0 < self.lr <= 1) or math.isnan(self.lr):
            raise ValueError(f"learning rate must be in (0, 1], for example 0.003; got {self.lr}.")
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed}.")
        n_train = len(load_images(self.data, self.seed).train)
        if self.batch_size > n_train:
            raise ValueError(f"batch size {self.batch_size} is larger than the {n_train} training images; lower it.")
        return replace(self, augment=augment)


# ---------------------------------------------------------------------------- probes
@dataclass
class ProbeRow:
    """Held-out accuracy of a linear probe for one attribute, on three feature sets."""

    attribute: str
    classes: int
    chance: float
    probe_accuracy: float  # the trained backbone's features h
    head_accuracy: float  # the trained projection head's output z (what the loss compares)
    random_init_accuracy: float  # the same backbone, untrained
    pixel_accuracy: float  # the raw pixels


def probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    """A linear probe: a least-squares (ridge) classifier on standardised features,
    fitted on the training images' features and labels, its penalty chosen by
    leave-one-out on the training images alone; scored (accuracy) on the held-out
    images. Ridge, not logistic regression: in closed form it fits 3,072 raw pixels
    in a second where an iterative logistic fit takes half a minute on a shared CPU."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    with limit_threads():
        scaler = StandardScaler().fit(train_x)
        clf = RidgeClassifierCV(alphas=PROBE_ALPHAS).fit(scaler.transform(train_x), train_y)
        return float(np.mean(clf.predict(scaler.transform(test_x)) == test_y))


def _probes(data: LabImages, train_x: np.ndarray, test_x: np.ndarray) -> dict[str, float]:
    return {a: probe_accuracy(train_x, data.train.labels[a], test_x, data.test.labels[a]) for a in data.attributes}


def _pixels(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


@lru_cache(maxsize=4)
def pixel_baseline(data_name: str, seed: int) -> dict[str, float]:
    """Probe accuracy per attribute on the raw pixels (the same for every run on this data)."""
    data = load_images(data_name, seed)
    return _probes(data, _pixels(data.train.images), _pixels(data.test.images))


@lru_cache(maxsize=8)
def _random_init(data_name: str, seed: int, encoder: str) -> tuple[dict[str, float], np.ndarray]:
    from .augment import to_float  # torch, imported on first use (see playground.models.lazy)
    from .model import build_net

    data = load_images(data_name, seed)
    net = build_net(encoder, seed)
    test = net.features(to_float(data.test.images))[0]
    return _probes(data, net.features(to_float(data.train.images))[0], test), test


def random_init_baseline(data_name: str, seed: int, encoder: str) -> tuple[dict[str, float], np.ndarray]:
    """Probe accuracy per attribute on the untrained encoder's features (the weights
    the run starts from), and those features of the held-out images."""
    return _random_init(data_name, seed, encoder)


# ---------------------------------------------------------------------------- training
@dataclass
class SimCLRResult:
    """One run, as plain data. ``projection``: PCA of the held-out features (n, 2);
    ``queries`` and ``neighbours``: held-out image indices (each query's nearest
    other images by cosine of the trained features); ``neighbour_agreement``: per
    feature set, the share of those neighbours that share the query's main attribute,
    over every held-out image."""

    settings: SimCLRSettings
    losses: list[float]
    steps_done: int
    stopped: bool
    seconds: float
    probes: list[ProbeRow]
    main_attribute: str
    test_labels: dict[str, np.ndarray]
    class_names: dict[str, list[str]]
    projection: np.ndarray
    queries: np.ndarray
    neighbours: np.ndarray
    neighbour_agreement: dict[str, float]
    state: dict = field(repr=False)

    @property
    def final_loss(self) -> float:
        tail = self.losses[-max(1, len(self.losses) // 20):]
        return float(np.mean(tail)) if tail else float("nan")

    @property
    def images_seen(self) -> int:
        return self.steps_done * self.settings.batch_size

    def probe(self, attribute: str) -> ProbeRow:
        return next(p for p in self.probes if p.attribute == attribute)

    def summary(self) -> dict:
        """Plain JSON-able figures (what ``playground run simclr --json`` prints)."""
        r4 = lambda v: round(float(v), 4)  # noqa: E731
        return {
            "attributes": {p.attribute: {
                "probe_accuracy": r4(p.probe_accuracy), "head_accuracy": r4(p.head_accuracy),
                "random_init_accuracy": r4(p.random_init_accuracy),
                "pixel_accuracy": r4(p.pixel_accuracy), "chance": r4(p.chance), "classes": p.classes,
            } for p in self.probes},
            "main_attribute": self.main_attribute,
            "neighbour_agreement": {k: r4(v) for k, v in self.neighbour_agreement.items()},
            "final_loss": r4(self.final_loss),
            "first_loss": r4(self.losses[0]) if self.losses else None,
            "loss_floor": r4(math.log(2 * self.settings.batch_size - 1)),
            "steps_done": self.steps_done,
            "stopped": self.stopped,
            "images_seen": self.images_seen,
            "seconds": round(self.seconds, 2),
            "settings": {**asdict(self.settings), "augment": list(self.settings.augment)},
        }


def _neighbours(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` nearest other rows by cosine, shape (n, k)."""
    z = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sims = z @ z.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def _agreement(x: np.ndarray, labels: np.ndarray, k: int = N_NEIGHBOURS) -> float:
    return float(np.mean(labels[_neighbours(x, k)] == labels[:, None]))


def expected_cpu_seconds(settings: SimCLRSettings) -> float:
    """What one run costs on the CPU (``gpu_policy``'s measured rates)."""
    return simclr_seconds(settings.encoder, settings.steps, settings.batch_size)


def runs_on_gpu(settings: SimCLRSettings, *_args, **_kwargs) -> bool:
    """On ZeroGPU: whether this run gains enough from a GPU to spend the visitor's quota on it
    (the default run stays on the CPU)."""
    return worth_gpu(expected_cpu_seconds(settings), "training")


def smaller_run(settings: SimCLRSettings) -> SimCLRSettings:
    """The run a refused visitor is offered instead: half the steps (at least 10, the slider's least)."""
    return replace(settings, steps=max(10, settings.steps // 2 // 10 * 10))


def offer_on_cpu(settings: SimCLRSettings, *_args, **_kwargs) -> str:
    """What a visitor whose GPU call was refused may do: this run on the CPU, or a smaller one, with their times."""
    smaller = smaller_run(settings)
    return cpu_offer(expected_cpu_seconds(settings), f"{smaller.steps} steps", expected_cpu_seconds(smaller))


@gpu(duration=lambda settings, *_a, **_k: request_seconds(expected_cpu_seconds(settings)), when=runs_on_gpu,
     local=("progress", "should_stop"), offer=offer_on_cpu)
def train_simclr(settings: SimCLRSettings, progress: ProgressFn = None, should_stop: StopFn = None) -> SimCLRResult:
    """Train one encoder with NT-Xent and measure it on held-out images.

    ``progress(step, steps, running_loss)`` is called as it goes and ``should_stop()``
    is asked before each step (stop early: the probes then measure what was learnt
    so far); both are optional, and a run with neither (as in ZeroGPU's worker,
    where callbacks cannot cross) is the same run.
    """

    from .augment import to_float, two_views  # torch, imported on first use (see playground.models.lazy)
    from .model import build_net, state_as_numpy

    settings = settings.validate()
    started = time.perf_counter()
    data = load_images(settings.data, settings.seed)
    with torch_threads(settings.threads):
        random_probes, random_test = random_init_baseline(settings.data, settings.seed, settings.encoder)
        pixel_probes = pixel_baseline(settings.data, settings.seed)
        device = torch.device(pick_device())  # the augmentations stay on the CPU, seeded; the net goes where the GPU is
        net = build_net(settings.encoder, settings.seed).to(device)
        net.train()
        optimiser, schedule = adamw_with_schedule(net, settings.lr, weight_decay=1e-4, steps=settings.steps)
        rng = np.random.default_rng([settings.seed, 11])
        g = torch.Generator().manual_seed(int(settings.seed) * 7919 + 13)
        log, stopped = LossLog(settings.steps, progress), False
        for step in range(settings.steps):
            if should_stop is not None and should_stop():
                stopped = True
                break
            batch = data.train.images[rng.choice(len(data.train), size=settings.batch_size, replace=False)]
            v1, v2 = two_views(batch, settings.augment, g)
            loss = nt_xent(net(v1.to(device)), net(v2.to(device)), temperature=settings.tau)
            log.add(step, optimise(loss, optimiser, schedule))
        net.eval()
        train_x, train_z = net.features(to_float(data.train.images))
        test_x, test_z = net.features(to_float(data.test.images))
        trained_probes = _probes(data, train_x, test_x)
        head_probes = _probes(data, train_z, test_z)
    main = data.main_attribute
    labels = data.test.labels[main]
    neighbours = _neighbours(test_x, N_NEIGHBOURS)
    queries = np.random.default_rng([settings.seed, 12]).choice(len(test_x), size=min(N_QUERIES, len(test_x)), replace=False)
    probes = [
        ProbeRow(a, len(data.train.classes[a]), 1.0 / len(data.train.classes[a]),
                 trained_probes[a], head_probes[a], random_probes[a], pixel_probes[a])
        for a in data.attributes
    ]
    return SimCLRResult(
        settings=settings, losses=log.values, steps_done=len(log.values), stopped=stopped,
        seconds=time.perf_counter() - started, probes=probes, main_attribute=main,
        test_labels={k: v.copy() for k, v in data.test.labels.items()}, class_names=dict(data.test.classes),
        projection=project_2d(test_x, "pca", seed=settings.seed), queries=queries, neighbours=neighbours[queries],
        neighbour_agreement={
            "trained": float(np.mean(labels[neighbours] == labels[:, None])),
            "random init": _agreement(random_test, labels),
            "pixels": _agreement(_pixels(data.test.images), labels),
        },
        state=state_as_numpy(net),
    )


# ---------------------------------------------------------------------------- experiments
@dataclass
class ExperimentRun:
    """One run of an experiment, reduced to its figures."""

    label: str
    augment: tuple[str, ...]
    batch_size: int
    steps: int
    probes: dict[str, float]  # attribute -> held-out probe accuracy of the trained backbone
    head_probes: dict[str, float]  # the same, on the projection head's output
    final_loss: float
    seconds: float


@dataclass
class ExperimentResult:
    runs: list[ExperimentRun]
    chance: dict[str, float]
    random_init: dict[str, float]
    pixels: dict[str, float]
    main_attribute: str

    def run(self, label: str) -> ExperimentRun:
        return next(r for r in self.runs if r.label == label)

    def summary(self) -> dict:
        return {"chance": self.chance, "random_init": self.random_init, "pixels": self.pixels,
                "main_attribute": self.main_attribute,
                "runs": [{**asdict(r), "augment": list(r.augment)} for r in self.runs]}


def _as_run(label: str, result: SimCLRResult) -> ExperimentRun:
    s = result.settings
    return ExperimentRun(label, s.augment, s.batch_size, result.steps_done,
                         {p.attribute: p.probe_accuracy for p in result.probes},
                         {p.attribute: p.head_accuracy for p in result.probes}, result.final_loss, result.seconds)


def _experiment(runs: list[tuple[str, SimCLRSettings]], progress: ProgressFn, should_stop: StopFn) -> ExperimentResult:
    out, last = [], None
    for done, (label, settings) in enumerate(runs):
        if should_stop is not None and should_stop() and out:
            break
        last = train_simclr(settings, should_stop=should_stop)
        out.append(_as_run(label, last))
        if progress is not None:
            progress(done + 1, len(runs), last.final_loss)
    return ExperimentResult(
        runs=out, chance={p.attribute: p.chance for p in last.probes},
        random_init={p.attribute: p.random_init_accuracy for p in last.probes},
        pixels={p.attribute: p.pixel_accuracy for p in last.probes}, main_attribute=last.main_attribute,
    )


def augment_away(base: SimCLRSettings, dropped: Sequence[str] = ("colour", "crop"),
                 progress: ProgressFn = None, should_stop: StopFn = None) -> ExperimentResult:
    """Train with ``base.augment`` plus every augmentation in ``dropped`` (run "all"),
    then once without each of them (run "without colour", ...), all else equal.
    ``progress(done, total, final_loss)`` after each run."""
    base = base.validate()
    dropped = parse_augmentations(dropped)
    full = parse_augmentations(sorted(set(base.augment) | set(dropped)))
    runs = [("all", replace(base, augment=full))]
    for name in dropped:
        rest = tuple(a for a in full if a != name)
        if not rest:
            raise ValueError(f"without {name} no augmentation is left; add another one (for example flip).")
        runs.append((f"without {name}", replace(base, augment=rest)))
    return _experiment(runs, progress, should_stop)


def batch_size_sweep(base: SimCLRSettings, batch_sizes: Sequence[int] = SWEEP_BATCH_SIZES, images: int = SWEEP_IMAGES,
                     progress: ProgressFn = None, should_stop: StopFn = None) -> ExperimentResult:
    """Train at each batch size for the same number of images seen
    (``steps = images // batch_size``), all else equal."""
    sizes = sorted({int(b) for b in batch_sizes})
    if not sizes:
        raise ValueError("pick at least one batch size (for example 16, 64 and 256).")
    if images < max(sizes):
        raise ValueError(f"images seen per run ({images}) must be at least the largest batch size ({max(sizes)}).")
    if images // min(sizes) > MAX_STEPS:
        raise ValueError(
            f"{images} images at batch {min(sizes)} is {images // min(sizes)} steps, over the cap of {MAX_STEPS}; "
            "see fewer images or drop the smallest batch."
        )
    runs = [(f"batch {b}", replace(base, batch_size=b, steps=max(1, images // b)).validate()) for b in sizes]
    return _experiment(runs, progress, should_stop)


# ---------------------------------------------------------------------------- positive pairs
def positive_pairs(data_name: str, augment: Sequence[str], seed: int = 0, n: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` training images and two augmented views of each, uint8 (n, 32, 32, 3)
    each: the positive pairs the chosen augmentations make (what the encoder is shown)."""
    from .augment import to_uint8, two_views  # torch, imported on first use (see playground.models.lazy)

    chosen = parse_augmentations(augment)
    data = load_images(data_name, seed)
    pick = np.random.default_rng([int(seed), 13]).choice(len(data.train), size=min(n, len(data.train)), replace=False)
    originals = data.train.images[pick]
    with torch_threads(1):
        v1, v2 = two_views(originals, chosen, torch.Generator().manual_seed(int(seed) * 7919 + 14))
    return originals, to_uint8(v1), to_uint8(v2)
