"""Contrastive fine-tuning of a sentence-transformers encoder with in-batch negatives.

Each batch holds B (query, positive) pairs; every query is scored against all B
positives and the loss is InfoNCE (MultipleNegativesRankingLoss) with scale
``s = 1/τ``: ``L_i = −log( exp(s·cos(q_i,p_i)) / Σ_j exp(s·cos(q_i,p_j)) )``.
The other B−1 positives are the negatives, so no text may appear twice in a
batch (a copy would be a "negative" identical to the answer): the sampler
guarantees it.

The loop is our own (not ``model.fit``) so that progress, the stop button and the
seed are under the lab's control. Dropout is switched off: a run then depends only
on the seed (which fixes the batch order) and the data, even while other users
train in the same process and draw from torch's global random generator.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np

from playground.science.losses import info_nce
from playground.science.training import ambient_progress

from .data import Pair

if TYPE_CHECKING:  # torch itself is imported on first use (see playground.models.lazy)
    import torch

# Limits that keep a run to a couple of minutes on a 2-core CPU (checked by validate()).
LIMITS = {
    "epochs": (1, 5),
    "batch_size": (4, 64),
    "learning_rate": (1e-6, 2e-4),
    "scale": (1.0, 100.0),
    "max_steps": (1, 200),
    "trainable_layers": (1, 48),
}


@dataclass
class TrainSettings:
    """What a run depends on, besides the data.

    Args:
        seed: fixes the batch order, the only random choice of a run.
        epochs: passes over the training pairs.
        batch_size: pairs per batch; each query has ``batch_size − 1`` in-batch negatives.
        learning_rate: AdamW's peak rate (linear warm-up over the first 10% of steps, then linear decay).
        scale: ``1/τ``, multiplies the cosines before the softmax (sentence-transformers' default
            is 20; 10 trains better here, where most in-batch negatives are already easy).
        max_steps: a cap on optimizer steps (the run stops there even mid-epoch).
        max_seq_length: tokens per text while training (longer texts are cut).
        trainable_layers: how many of the top transformer layers learn (MiniLM has 6: the
            default trains them all); the word-piece embedding table always stays fixed.
            Fewer layers make the backward pass stop early: faster, but it learns less.
    """

    seed: int = 0
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-4
    scale: float = 10.0
    max_steps: int = 200
    max_seq_length: int = 96
    trainable_layers: int = 6

    def validate(self) -> "TrainSettings":
        """Self, or ``ValueError`` naming the setting out of range and the range."""
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or not low <= value <= high:
                raise ValueError(f"{name} = {value!r} is out of range; choose a value from {low:g} to {high:g}.")
        for name in ("epochs", "batch_size", "max_steps", "seed", "trainable_layers"):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"{name} must be a whole number, got {getattr(self, name)!r}.")
        return self

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainLog:
    """What happened: the loss of every step, and why the loop ended."""

    losses: list[float] = field(default_factory=list)
    steps_planned: int = 0
    stopped: bool = False
    seconds: float = 0.0
    batches_skipped: int = 0


def duplicate_free_batches(pairs: Sequence[Pair], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """One epoch of batches (indices into ``pairs``) in a random order, where no text
    occurs twice in a batch, whether as a query or as a positive. A pair that would
    repeat a text waits for a later batch; batches of fewer than two pairs (which
    have no negative) are dropped."""
    pending = [int(i) for i in rng.permutation(len(pairs))]
    batches: list[list[int]] = []
    while pending:
        batch: list[int] = []
        seen: set[str] = set()
        later: list[int] = []
        for i in pending:
            texts = {pairs[i].query, pairs[i].positive}
            if len(batch) < batch_size and not (texts & seen):
                batch.append(i)
                seen |= texts
            else:
                later.append(i)
        if len(batch) >= 2:
            batches.append(batch)
        if len(later) == len(pending):  # nothing fitted: cannot happen with batch_size >= 1, but never loop forever
            break
        pending = later
    return batches


def copy_for_training(st_model):
    """A private float32 copy of a SentenceTransformer: the shared model is never trained."""
    student = copy.deepcopy(st_model)
    student.float()
    return student


def transformer_layers(student) -> list:
    """The stack of transformer blocks inside a SentenceTransformer's first module
    (``encoder.layer`` for BERT-like models; else the longest ``ModuleList``)."""
    import torch

    backbone = student[0].auto_model
    for path in ("encoder.layer", "layers", "transformer.layer", "encoder.layers", "model.layers"):
        found = backbone
        for part in path.split("."):
            found = getattr(found, part, None)
        if isinstance(found, torch.nn.ModuleList) and len(found):
            return list(found)
    lists = [m for m in backbone.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise ValueError("cannot find the transformer layers of this model to fine-tune.")
    return list(max(lists, key=len))


def _unfreeze_top(student, n_layers: int) -> list:
    """Freeze everything, then let the top ``n_layers`` blocks and any module after
    the transformer (a Dense head, say) learn; returns the trainable parameters."""
    for p in student.parameters():
        p.requires_grad_(False)
    layers = transformer_layers(student)
    trainable = [p for layer in layers[-n_layers:] for p in layer.parameters()]
    trainable += [p for module in list(student)[1:] for p in module.parameters()]
    for p in trainable:
        p.requires_grad_(True)
    return trainable


def _embed(student, texts: list[str], device) -> torch.Tensor:
    features = student.preprocess(texts)
    features = {k: (v.to(device) if hasattr(v, "to") else v) for k, v in features.items()}
    return student(features)["sentence_embedding"]


def train_in_batch_negatives(
    student,
    pairs: Sequence[Pair],
    settings: TrainSettings,
    on_step: Optional[Callable[[int, int, float], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
) -> TrainLog:
    """Fine-tune ``student`` (a SentenceTransformer, changed in place) on ``pairs``.

    Args:
        student: the model to train; pass ``copy_for_training(shared.st)``.
        pairs: training pairs.
        settings: see ``TrainSettings`` (validated here).
        on_step: called after every step with (step, steps_planned, loss).
        should_stop: polled before every step; True ends the run early (the model
            keeps what it learnt so far).

    Returns:
        a ``TrainLog`` with the loss per step.
    """
    on_step = on_step if on_step is not None else ambient_progress()  # a notebook's bar, if any
    import torch

    settings.validate()
    # Only numpy's seeded generator decides anything random here (the batch order);
    # torch's global seed is left alone, since other users' runs share it.
    rng = np.random.default_rng(settings.seed)
    epochs = [duplicate_free_batches(pairs, settings.batch_size, rng) for _ in range(settings.epochs)]
    schedule = [batch for epoch in epochs for batch in epoch][: settings.max_steps]
    log = TrainLog(steps_planned=len(schedule))
    if not schedule:
        raise ValueError(f"{len(pairs)} training pairs make no batch of two; give at least two distinct pairs.")

    device = student.device
    original_length = student.max_seq_length
    student.max_seq_length = settings.max_seq_length
    params = _unfreeze_top(student, settings.trainable_layers)
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=0.01)
    warmup = max(1, int(0.1 * len(schedule)))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (len(schedule) - step) / max(1, len(schedule) - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    student.eval()  # dropout off: see the module docstring
    started = time.perf_counter()
    try:
        with torch.enable_grad():
            for step, batch in enumerate(schedule):
                if should_stop is not None and should_stop():
                    log.stopped = True
                    break
                queries = _embed(student, [pairs[i].query for i in batch], device)
                positives = _embed(student, [pairs[i].positive for i in batch], device)
                loss = info_nce(queries, positives, temperature=1.0 / settings.scale)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                log.losses.append(float(loss.detach()))
                if on_step is not None:
                    on_step(step + 1, len(schedule), log.losses[-1])
    finally:
        student.max_seq_length = original_length
        for p in student.parameters():
            p.requires_grad_(True)
        optimizer.zero_grad(set_to_none=True)
        student.eval()
        log.seconds = time.perf_counter() - started
    return log
