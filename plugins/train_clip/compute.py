"""Train a tiny CLIP (softmax loss) or SigLIP (sigmoid loss) from scratch, and measure it.

Pure and gradio-free: ``train_clip(settings, embed_texts)`` trains one dual encoder
on generated captioned images and returns what the lab shows (loss per step,
image x caption similarity snapshots, zero-shot accuracy on seen and held-out
colour x shape combinations); ``compare_batch_sizes`` trains both losses at
several batch sizes for the same number of examples seen.

The frozen text tower needs a function ``embed_texts(texts) -> np.ndarray``
(the registry's MiniLM ``encode_texts``); the ``bow`` tower needs nothing.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np

from playground.models.lazy import F, LazyModule, no_grad, torch
from playground.science.losses import clip_loss, siglip_loss
from playground.science.threads import torch_threads
from playground.science.training import LossLog, adamw_with_schedule, optimise

from playground.data.shapes import (
    HELD_OUT, UNSEEN_COLOUR_WORDS, CaptionedImages, all_combos, class_prompts, combo_labels, make_split,
)
from .options import IMAGE_TOWERS, TEXT_TOWERS, tokenize

if TYPE_CHECKING:
    from .model import DualEncoder, TrainedClip

# The towers are torch modules: ``model`` is imported the first time one is needed.
model = LazyModule(f"{__package__}.model")

LOSSES = ("softmax", "sigmoid")
# The comparison's defaults: with fewer examples per run most runs learn only colour
# (measured: at 32768 only softmax at batch 128 had learned shape), and nothing is compared.
COMPARE_BATCH_SIZES = (8, 32, 128)
COMPARE_EXAMPLES = 65_536
LOSS_NAMES = {"softmax": "softmax (CLIP)", "sigmoid": "sigmoid (SigLIP)"}
ProgressFn = Optional[Callable[[int, int, float], None]]  # (step, total steps, running loss)
EmbedFn = Optional[Callable[[Sequence[str]], np.ndarray]]


@dataclass(frozen=True)
class TrainSettings:
    """One training run. The defaults finish in about a minute on a 2-core CPU.

    Args:
        loss: ``"softmax"`` (the symmetric CLIP loss) or ``"sigmoid"`` (SigLIP's).
        batch_size: image-caption pairs per step; every other pair in the batch is a negative.
        steps: optimiser steps.
        lr: peak learning rate (AdamW, short warm-up, cosine decay).
        seed: seeds the data and the initial weights.
        image_tower: ``"cnn"`` or ``"vit"``.
        text_tower: ``"minilm"`` (frozen, with a trainable projection) or ``"bow"`` (trainable).
        n_images: training images (all of seen combinations).
        n_captions: distinct training captions; each image is a fresh drawing of one.
        eval_per_combo: test images per colour x shape combination.
        snapshots: how many similarity-matrix snapshots to take (0: none).
        display_size: images (and captions) in the snapshot matrix.
        threads: torch threads while training; 1 keeps tiny models fast when
            several users (or processes) share a small CPU.
        bias_init: the SigLIP bias at step 0 (the paper's -10 suits batches of
            thousands: about log(1/(N-1)), the share of positive pairs).
    """

    loss: str = "softmax"
    batch_size: int = 64
    steps: int = 1000
    lr: float = 3e-3
    seed: int = 0
    image_tower: str = "cnn"
    text_tower: str = "minilm"
    n_images: int = 4000
    n_captions: int = 600
    eval_per_combo: int = 20
    snapshots: int = 6
    display_size: int = 8
    threads: int = 1
    bias_init: float = -10.0

    def validate(self) -> None:
        """Raise ``ValueError`` saying what is wrong and what to use instead."""
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be 'softmax' (CLIP) or 'sigmoid' (SigLIP), got {self.loss!r}.")
        if self.image_tower not in IMAGE_TOWERS:
            raise ValueError(f"image tower must be one of {', '.join(IMAGE_TOWERS)}, got {self.image_tower!r}.")
        if self.text_tower not in TEXT_TOWERS:
            raise ValueError(f"text tower must be one of {', '.join(TEXT_TOWERS)}, got {self.text_tower!r}.")
        if not 2 <= self.batch_size <= 512:
            raise ValueError(f"batch size must be between 2 and 512 (a contrastive batch needs negatives), got {self.batch_size}.")
        if self.batch_size > self.n_captions:
            raise ValueError(
                f"batch size {self.batch_size} is larger than the {self.n_captions} distinct captions; "
                "lower the batch size or raise the number of captions."
            )
        if not 1 <= self.steps <= 50_000:
            raise ValueError(f"steps must be between 1 and 50000, got {self.steps}.")
        if not (0 < self.lr <= 1) or math.isnan(self.lr):
            raise ValueError(f"learning rate must be in (0, 1], for example 0.003; got {self.lr}.")
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed}.")
        if self.n_captions < 30 or self.n_images < self.n_captions:
            raise ValueError(
                f"need at least 30 captions (one per seen combination) and at least as many images as captions; "
                f"got {self.n_captions} captions and {self.n_images} images."
            )
        if not -50 <= self.bias_init <= 50 or math.isnan(self.bias_init):
            raise ValueError(f"the starting SigLIP bias must be between -50 and 50 (the paper uses -10), got {self.bias_init}.")
        if not 1 <= self.eval_per_combo <= 500:
            raise ValueError(f"test images per combination must be between 1 and 500, got {self.eval_per_combo}.")


# ---------------------------------------------------------------------------- data
@dataclass
class LabData:
    """Everything one seed's runs train and test on (built once, shared by runs)."""

    train: CaptionedImages
    caption_texts: list[str]  # the distinct training captions
    caption_images: list[np.ndarray]  # per caption, the indices of its images
    seen: CaptionedImages
    heldout: CaptionedImages
    display: CaptionedImages

    @property
    def vocabulary(self) -> list[str]:
        return sorted({w for text in self.caption_texts for w in tokenize(text)})


@lru_cache(maxsize=2)
def make_lab_data(seed: int, n_images: int, n_captions: int, eval_per_combo: int, display_size: int = 8) -> LabData:
    """The training set (seen combinations only), the two test sets and the
    snapshot batch; a pure function of its arguments (cached: runs share it)."""
    train = make_split("train", n_images, seed, n_captions=n_captions)
    texts = list(dict.fromkeys(train.captions))
    where = {text: i for i, text in enumerate(texts)}
    owner = np.array([where[c] for c in train.captions])
    caption_images = [np.flatnonzero(owner == i) for i in range(len(texts))]
    n_seen = len(all_combos()) - len(HELD_OUT)
    return LabData(
        train=train, caption_texts=texts, caption_images=caption_images,
        seen=make_split("seen", eval_per_combo * n_seen, seed),
        heldout=make_split("heldout", eval_per_combo * len(HELD_OUT), seed),
        display=make_split("display", display_size, seed),
    )


def data_for(settings: TrainSettings) -> LabData:
    return make_lab_data(settings.seed, settings.n_images, settings.n_captions, settings.eval_per_combo, settings.display_size)


# ---------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """What one run produced. Accuracies are zero-shot: each test image is given
    to the candidate prompts "a {colour} {shape}" (all 36), the best one wins."""

    settings: TrainSettings
    losses: list[float]
    snapshot_steps: list[int]
    snapshots: list[np.ndarray]  # cosine, display captions (rows) x display images (columns)
    display_captions: list[str]
    display_images: np.ndarray
    heldout_accuracy: float
    seen_accuracy: float
    chance: float
    heldout_colour_accuracy: float
    heldout_shape_accuracy: float
    unseen_words_accuracy: float
    per_combo: dict[str, float]  # "colour shape" -> accuracy, held-out and seen
    final_loss: float
    seconds: float
    logit_scale: float
    logit_bias: Optional[float]
    encoder: DualEncoder = field(repr=False)

    @property
    def examples_seen(self) -> int:
        return self.settings.batch_size * self.settings.steps

    def summary(self) -> dict:
        """Plain JSON-able figures (what ``playground run train_clip --json`` prints)."""
        return {
            "heldout_accuracy": round(self.heldout_accuracy, 4),
            "seen_accuracy": round(self.seen_accuracy, 4),
            "chance": round(self.chance, 4),
            "final_loss": round(self.final_loss, 4),
            "seconds": round(self.seconds, 2),
            "heldout_colour_accuracy": round(self.heldout_colour_accuracy, 4),
            "heldout_shape_accuracy": round(self.heldout_shape_accuracy, 4),
            "unseen_words_accuracy": round(self.unseen_words_accuracy, 4),
            "logit_scale": round(self.logit_scale, 3),
            "logit_bias": None if self.logit_bias is None else round(self.logit_bias, 3),
            "examples_seen": self.examples_seen,
            "heldout_combinations": [f"{c} {s}" for c, s in HELD_OUT],
            "settings": asdict(self.settings),
        }


def _text_features(settings: TrainSettings, data: LabData, embed_texts: EmbedFn) -> Optional[torch.Tensor]:
    if settings.text_tower != "minilm":
        return None
    if embed_texts is None:
        raise ValueError("the MiniLM text tower needs the MiniLM model; pick the 'bow' text tower to train without it.")
    return torch.from_numpy(np.asarray(embed_texts(data.caption_texts), dtype=np.float32))


def _embed_captions(encoder: DualEncoder, texts: list[str], ids: np.ndarray, features: Optional[torch.Tensor]) -> torch.Tensor:
    if features is not None:
        return encoder.text_tower.forward_features(features[torch.from_numpy(ids)])
    return encoder.text_tower([texts[i] for i in ids])


def _batch_loss(encoder: DualEncoder, image_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
    if encoder.loss == "softmax":
        return clip_loss(image_emb, text_emb, encoder.scale())
    return siglip_loss(image_emb, text_emb, encoder.scale(), encoder.bias)


@no_grad
def similarity_matrix(encoder: DualEncoder, images: np.ndarray, captions: list[str]) -> np.ndarray:
    """Cosine similarity, captions (rows) x images (columns), in eval mode."""
    was_training = encoder.training
    encoder.eval()
    img = F.normalize(encoder.image_tower(model.pixels_to_tensor(images)), dim=-1)
    txt = F.normalize(encoder.text_tower(captions), dim=-1)
    encoder.train(was_training)
    return (txt @ img.T).numpy()


@no_grad
def zero_shot_predictions(encoder: DualEncoder, images: np.ndarray, prompts: list[str]) -> np.ndarray:
    """Index of the best prompt for each image (highest cosine), in eval mode."""
    was_training = encoder.training
    encoder.eval()
    txt = F.normalize(encoder.text_tower(prompts), dim=-1)
    preds = []
    for start in range(0, len(images), 256):
        img = F.normalize(encoder.image_tower(model.pixels_to_tensor(images[start : start + 256])), dim=-1)
        preds.append((img @ txt.T).argmax(dim=1).numpy())
    encoder.train(was_training)
    return np.concatenate(preds)


def train_clip(
    settings: TrainSettings, embed_texts: EmbedFn = None, progress: ProgressFn = None, data: Optional[LabData] = None,
) -> TrainResult:
    """Train one dual encoder from scratch and test it zero-shot.

    Each step draws ``batch_size`` distinct captions (so no two rows of the batch
    say the same words) and one image of each, embeds both, and applies
    ``clip_loss`` or ``siglip_loss`` from ``playground.science.losses`` with the learned
    scale (and bias). ``progress(step, steps, running_loss)`` is called as it goes.
    """
    settings.validate()
    started = time.perf_counter()
    data = data if data is not None else data_for(settings)
    with torch_threads(settings.threads):
        features = _text_features(settings, data, embed_texts)
        encoder = model.build_dual_encoder(
            settings.loss, settings.image_tower, settings.text_tower, vocab=data.vocabulary,
            embed_texts=embed_texts, text_in_dim=features.shape[1] if features is not None else 384, seed=settings.seed,
            bias_init=settings.bias_init,
        )
        encoder.train()
        optimiser, schedule = adamw_with_schedule(encoder, settings.lr, weight_decay=0.05, steps=settings.steps)
        rng = np.random.default_rng([settings.seed, 99])
        counts = np.array([len(ix) for ix in data.caption_images])
        snapshot_at = sorted({int(round(x)) for x in np.linspace(0, settings.steps, settings.snapshots)}) if settings.snapshots else []
        snapshots, log = [], LossLog(settings.steps, progress)
        for step in range(settings.steps + 1):
            if step in snapshot_at:
                snapshots.append(similarity_matrix(encoder, data.display.images, data.display.captions))
            if step == settings.steps:
                break
            ids = rng.choice(len(data.caption_texts), size=settings.batch_size, replace=False)
            picks = [data.caption_images[c][rng.integers(counts[c])] for c in ids]
            image_emb = encoder.image_tower(model.pixels_to_tensor(data.train.images[picks]))
            text_emb = _embed_captions(encoder, data.caption_texts, ids, features)
            loss = _batch_loss(encoder, image_emb, text_emb)
            log.add(step, optimise(loss, optimiser, schedule))
        encoder.eval()
        scores = _zero_shot_scores(encoder, data)
    losses = log.values
    tail = losses[-max(1, len(losses) // 20):]
    return TrainResult(
        settings=settings, losses=losses, snapshot_steps=snapshot_at, snapshots=snapshots,
        display_captions=list(data.display.captions), display_images=data.display.images,
        chance=1.0 / len(all_combos()), final_loss=float(np.mean(tail)),
        seconds=time.perf_counter() - started,
        logit_scale=float(encoder.scale().item()),
        logit_bias=None if encoder.bias is None else float(encoder.bias.item()),
        encoder=encoder, **scores,
    )


def _zero_shot_scores(encoder: DualEncoder, data: LabData) -> dict:
    prompts = class_prompts()
    combos = all_combos()
    held_true = combo_labels(data.heldout.attributes)
    held_pred = zero_shot_predictions(encoder, data.heldout.images, prompts)
    seen_true = combo_labels(data.seen.attributes)
    seen_pred = zero_shot_predictions(encoder, data.seen.images, prompts)
    unseen_pred = zero_shot_predictions(encoder, data.seen.images, class_prompts(UNSEEN_COLOUR_WORDS))
    colour = lambda i: combos[i][0]  # noqa: E731
    shape = lambda i: combos[i][1]  # noqa: E731
    per_combo = {}
    for true, pred in ((held_true, held_pred), (seen_true, seen_pred)):
        for k in np.unique(true):
            per_combo[" ".join(combos[k])] = float(np.mean(pred[true == k] == k))
    return {
        "heldout_accuracy": float(np.mean(held_pred == held_true)),
        "seen_accuracy": float(np.mean(seen_pred == seen_true)),
        "heldout_colour_accuracy": float(np.mean([colour(p) == colour(t) for p, t in zip(held_pred, held_true)])),
        "heldout_shape_accuracy": float(np.mean([shape(p) == shape(t) for p, t in zip(held_pred, held_true)])),
        "unseen_words_accuracy": float(np.mean(unseen_pred == seen_true)),
        "per_combo": per_combo,
    }


# ---------------------------------------------------------------------------- comparison
@dataclass
class CompareRow:
    loss: str
    batch_size: int
    steps: int
    examples_seen: int
    heldout_accuracy: float
    seen_accuracy: float
    final_loss: float
    seconds: float


@dataclass
class CompareResult:
    rows: list[CompareRow]
    chance: float
    examples: int

    def accuracy(self, loss: str, batch_size: int) -> float:
        return next(r.heldout_accuracy for r in self.rows if r.loss == loss and r.batch_size == batch_size)

    def summary(self) -> dict:
        return {"chance": round(self.chance, 4), "examples_per_run": self.examples,
                "runs": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(r).items()} for r in self.rows]}


def compare_batch_sizes(
    base: TrainSettings, batch_sizes: Sequence[int] = COMPARE_BATCH_SIZES, examples: int = COMPARE_EXAMPLES,
    embed_texts: EmbedFn = None, progress: ProgressFn = None, losses: Sequence[str] = LOSSES,
) -> CompareResult:
    """Train each loss at each batch size for the same number of examples seen
    (``steps = examples // batch_size``), everything else equal; report held-out
    zero-shot accuracy per run. ``progress(done, total, last_accuracy)`` after each run."""
    sizes = sorted({int(b) for b in batch_sizes})
    if not sizes:
        raise ValueError("pick at least one batch size to compare (for example 8, 32 and 128).")
    if examples < max(sizes):
        raise ValueError(f"examples per run ({examples}) must be at least the largest batch size ({max(sizes)}).")
    data = data_for(base)
    runs = [(loss, b) for loss in losses for b in sizes]
    rows = []
    for done, (loss, b) in enumerate(runs):
        settings = replace(base, loss=loss, batch_size=b, steps=max(1, examples // b), snapshots=0)
        result = train_clip(settings, embed_texts, data=data)
        rows.append(CompareRow(loss, b, settings.steps, settings.steps * b, result.heldout_accuracy,
                               result.seen_accuracy, result.final_loss, result.seconds))
        if progress is not None:
            progress(done + 1, len(runs), result.heldout_accuracy)
    return CompareResult(rows=rows, chance=1.0 / len(all_combos()), examples=examples)


# ---------------------------------------------------------------------------- registry
def as_image_text_model(result: TrainResult, model_id: str) -> TrainedClip:
    """The trained pair as an image-text model (softmax- or sigmoid-scored) for the registry."""
    s = result.settings
    description = (
        f"trained here from scratch: {LOSS_NAMES[s.loss]} loss, {s.image_tower} + {s.text_tower}, "
        f"batch {s.batch_size}, {s.steps} steps, seed {s.seed}"
    )
    return model.TrainedClip(model_id, result.encoder, description=description)
