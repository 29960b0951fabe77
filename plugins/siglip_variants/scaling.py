"""Part 3, "Why the sigmoid loss scales": the batch split over k simulated devices.

The loss math lives in ``playground.science.losses`` (``siglip_loss_chunked``, the SigLIP
paper's ring; ``clip_loss_all_gather``, the softmax loss with its all-gather). This module
only drives it and measures:

- ``agreement``: the chunked losses against the unchunked ones on real tensors (values).
- ``device_costs``: per device, the bytes of the tensors it holds at once (peak) and the
  bytes that cross to it from other devices, read off the tensors the loss code creates.
  Those tensors are made on torch's ``meta`` device, which gives shapes and sizes
  without doing the arithmetic, so B = 16,384 costs no time.

No gradio here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from playground.contract.verdict import judge
from playground.models.lazy import torch
from playground.science import losses
from playground.science.threads import torch_threads

EMBED_DIM = 768  # ViT-B-16-SigLIP's shared embedding width
BATCHES = (1024, 4096, 16384)
DEVICES = (1, 2, 4, 8)
QUESTION_BATCH, QUESTION_DEVICES = 4096, 8
MB = 1e6

QUESTION = (
    f"At B = {QUESTION_BATCH:,} pairs on {QUESTION_DEVICES} devices (d = {EMBED_DIM}, float32), how much memory "
    "does each device need for the sigmoid loss, compared with the softmax loss?"
)
CHOICES = {
    "same": "About the same: each device still sees the whole batch",
    "less": "Less, but more than a quarter of the softmax's",
    "quarter": "A quarter of the softmax's or less",
}


@dataclass(frozen=True)
class DeviceCost:
    """What one device of ``devices`` needs for one loss on a batch of ``batch`` pairs."""

    loss: str  # "sigmoid (ring)" or "softmax (all-gather)"
    batch: int
    devices: int
    dim: int
    peak_bytes: int  # the tensors it holds at once, at its busiest step
    received_bytes: int  # what crosses to it from the other devices, all steps together
    largest_logits: tuple[int, int]  # the biggest block of logits it builds


LOSSES = {
    "sigmoid (ring)": losses.siglip_loss_chunked,
    "softmax (all-gather)": losses.clip_loss_all_gather,
}


def device_cost(loss: str, batch: int, devices: int, dim: int = EMBED_DIM) -> DeviceCost:
    """Run ``loss`` (a key of ``LOSSES``) over ``devices`` simulated devices on meta tensors
    and read off device 0's peak bytes, received bytes and largest logits block (every
    device does the same work, so device 0 stands for all)."""
    peak, received, largest = 0, 0, (0, 0)

    def on_step(device, step, held, got):
        nonlocal peak, received, largest
        if device != 0:
            return
        peak = max(peak, sum(t.nbytes for t in held.values()))
        received += sum(t.nbytes for t in got)
        for name, t in held.items():
            if "logits" in name or "_to_" in name:
                largest = max(largest, tuple(t.shape), key=lambda s: s[0] * s[1])

    with torch.no_grad():
        emb = torch.empty(batch, dim, device="meta")
        LOSSES[loss](emb, emb.clone(), devices=devices, on_step=on_step)
    return DeviceCost(loss, batch, devices, dim, peak, received, largest)


def device_costs(batches=BATCHES, devices=DEVICES, dim: int = EMBED_DIM) -> list[DeviceCost]:
    """``device_cost`` for both losses at every batch size and device count."""
    return [device_cost(loss, b, k, dim) for b in batches for k in devices for loss in LOSSES]


@dataclass(frozen=True)
class Agreement:
    batch: int
    devices: int
    seed: int
    unchunked: float
    chunked: float
    softmax_unchunked: float
    softmax_all_gather: float

    @property
    def difference(self) -> float:
        return abs(self.unchunked - self.chunked)


def agreement(batch: int = 128, devices=(2, 4, 8), seeds=(0, 1, 2), dim: int = EMBED_DIM) -> list[Agreement]:
    """The chunked sigmoid loss against ``siglip_loss`` (and the all-gather softmax
    against ``clip_loss``) on random float32 embeddings, per device count and seed."""
    rows = []
    with torch_threads(1):  # small matrices: extra threads only spin-wait on a shared CPU
        rows = _agreement_rows(batch, devices, seeds, dim)
    return rows


def _agreement_rows(batch: int, devices, seeds, dim: int) -> list[Agreement]:
    rows = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        images, texts = torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)
        with torch.no_grad():
            whole = float(losses.siglip_loss(images, texts, 10.0, -10.0))
            soft = float(losses.clip_loss(images, texts, 100.0))
            for k in devices:
                rows.append(Agreement(
                    batch, k, seed, whole, float(losses.siglip_loss_chunked(images, texts, 10.0, -10.0, devices=k)),
                    soft, float(losses.clip_loss_all_gather(images, texts, 100.0, devices=k)),
                ))
    return rows


def answer(costs: list[DeviceCost]) -> str:
    """The choice (a key of ``CHOICES``) this run's figures make right."""
    ratio = memory_ratio(costs, QUESTION_BATCH, QUESTION_DEVICES)
    return "same" if ratio >= 0.9 else "less" if ratio > 0.25 else "quarter"


def memory_ratio(costs: list[DeviceCost], batch: int, devices: int) -> float:
    """Sigmoid peak bytes over softmax peak bytes per device at ``batch`` and ``devices``."""
    found = {c.loss: c for c in costs if c.batch == batch and c.devices == devices}
    if len(found) != 2:
        raise ValueError(f"the figures hold no row for B = {batch} on {devices} devices.")
    return found["sigmoid (ring)"].peak_bytes / found["softmax (all-gather)"].peak_bytes


# Claims the reveal states, each with the predicate that checks it on the figures.
def sigmoid_needs_less_whenever_split(costs: list[DeviceCost]) -> bool:
    """With more than one device, the sigmoid needs less memory per device than the softmax."""
    return all(memory_ratio(costs, c.batch, c.devices) < 1 for c in costs if c.devices > 1)


def softmax_never_below_the_gather(costs: list[DeviceCost]) -> bool:
    """However many devices, each softmax device holds at least both gathered B × d copies."""
    return all(c.peak_bytes >= 2 * c.batch * c.dim * 4 for c in costs if c.loss.startswith("softmax"))


def sigmoid_falls_with_devices(costs: list[DeviceCost]) -> bool:
    """At a fixed batch, each sigmoid device needs less as devices are added."""
    for b in {c.batch for c in costs}:
        peaks = [c.peak_bytes for c in sorted(costs, key=lambda c: c.devices) if c.batch == b and c.loss.startswith("sigmoid")]
        if any(later >= earlier for earlier, later in zip(peaks, peaks[1:])):
            return False
    return True


def reveal(costs: list[DeviceCost], prediction: Optional[str]) -> str:
    """The verdict and the figures behind it, worded from this run's measurements."""
    at = {c.loss: c for c in costs if c.batch == QUESTION_BATCH and c.devices == QUESTION_DEVICES}
    sig, soft = at["sigmoid (ring)"], at["softmax (all-gather)"]
    right = answer(costs)
    choice = prediction if prediction in CHOICES.values() else None
    text = judge(choice, CHOICES[right])
    text += (
        f" At B = {QUESTION_BATCH:,} on {QUESTION_DEVICES} devices each device holds {sig.peak_bytes / MB:.1f} MB for "
        f"the sigmoid loss (its {sig.largest_logits[0]}×{sig.largest_logits[1]} block of logits, its images and "
        f"one text chunk) and {soft.peak_bytes / MB:.1f} MB for the softmax loss (both gathered "
        f"{QUESTION_BATCH:,}×{EMBED_DIM} copies and its {soft.largest_logits[0]}×{soft.largest_logits[1]} rows "
        f"of logits, twice): {sig.peak_bytes / soft.peak_bytes:.0%} of it."
    )
    if softmax_never_below_the_gather(costs):
        text += (" However many devices share the batch, a softmax device never needs less than the two "
                 "gathered B × d copies: every row's normaliser runs over the whole batch.")
    if sigmoid_falls_with_devices(costs):
        text += " A sigmoid device needs less with every device added: its blocks shrink as (B/k)²."
    text += (f" Bytes crossing to each device: {sig.received_bytes / MB:.1f} MB (the ring passes text chunks) "
             f"against {soft.received_bytes / MB:.1f} MB (the all-gather brings images and texts).")
    return text


def with_question(costs: list[DeviceCost]) -> list[DeviceCost]:
    """``costs``, with the question's setting (B = 4096 on 8 devices) measured if it is missing."""
    if any(c.batch == QUESTION_BATCH and c.devices == QUESTION_DEVICES for c in costs):
        return costs
    return costs + [device_cost(loss, QUESTION_BATCH, QUESTION_DEVICES, costs[0].dim if costs else EMBED_DIM)
                    for loss in LOSSES]


def cost_rows(costs: list[DeviceCost]) -> list[dict]:
    """The figures as plain rows (MB), for the table and ``--json``."""
    return [{**{k: v for k, v in asdict(c).items() if k not in ("peak_bytes", "received_bytes", "largest_logits")},
             "peak_mb": round(c.peak_bytes / MB, 3), "received_mb": round(c.received_bytes / MB, 3),
             "largest_logits": list(c.largest_logits)} for c in costs]


def summary(costs: list[DeviceCost], checks: list[Agreement]) -> dict:
    """Everything ``playground run siglip_variants`` reports for this part."""
    question = with_question(costs)
    worst = max(a.difference for a in checks)
    worst_soft = max(abs(a.softmax_unchunked - a.softmax_all_gather) for a in checks)
    return {
        "embed_dim": EMBED_DIM,
        "agreement": {"max_abs_difference": worst, "within_1e-5": worst <= 1e-5,
                      "softmax_all_gather_max_abs_difference": worst_soft,
                      "runs": [{**asdict(a), "difference": a.difference} for a in checks]},
        "per_device": cost_rows(costs),
        "question": QUESTION,
        "answer": CHOICES[answer(question)],
        "sigmoid_over_softmax_at_question": round(memory_ratio(question, QUESTION_BATCH, QUESTION_DEVICES), 4),
    }
