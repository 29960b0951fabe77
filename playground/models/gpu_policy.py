"""Where a call computes on ZeroGPU, and how long it asks for: the one place that decides.

A ZeroGPU Space lends a GPU per ``@gpu`` call and counts the time against the
*visitor's* quota (by login, else by IP: a class behind one university NAT shares one
anonymous allowance). A call is refused when the duration it requests exceeds what the
visitor has left, and no call may ask for more than 5 minutes. So this module answers
two questions, from numbers measured on this project's calls:

- **Does the GPU gain enough?** A call goes to the GPU only when the CPU would take
  longer than ``CPU_SERVES_S[kind]`` (``"embedding"``: BERT over the bundled corpus and
  a photo against its labels stay on the CPU; ``"training"``: the default training runs
  stay on the CPU; bigger work goes). A model the registry marks ``cpu_only`` (MiniLM, GloVe: ONNX Runtime and
  numpy, fast on the CPU and without a CUDA path) never goes.
- **How long does it ask for?** ``request_seconds(cpu_seconds)``: the estimate times
  ``SAFETY_FACTOR`` plus ``MARGIN_S`` (the worker's start and the weights' move to the
  GPU), capped at ``MAX_REQUEST_S``. The estimate is the CPU time of the same work with
  one thread, from the rates below: an upper bound for a GPU, so a call never runs past
  what it asked for, and far below the flat 60 s (or 180 s) asked before.

The rates were measured by ``benchmarks/bench_zero_gpu.py`` on the build machine
(x86_64, 2 shared cores), in the ZeroGPU stand-in's worker (one torch thread), with
the Hub rehearsal's real-shape models; that script prints each call's measured time
beside what it requested, so a stale rate shows. A model without a measured rate is
priced by the size of its weights at the slowest measured rate per byte. No GPU was
measured: on a Space's GPU the same calls take a fraction of these times, so the
requests are upper bounds there (rerun the benchmark on the Space to calibrate).

``PLAYGROUND_GPU_CPU_SERVES_S`` overrides both thresholds (``0``: every call that can go
to the GPU goes; what the tests and the benchmark use to exercise the GPU path).
"""
from __future__ import annotations

import math
import os
from typing import Optional

CPU_SERVES_ENV = "PLAYGROUND_GPU_CPU_SERVES_S"

MAX_REQUEST_S = 300  # ZeroGPU refuses a call that asks for more than 5 minutes
MARGIN_S = 10.0  # fixed: fork the worker, move the weights to the GPU, pickle what crosses
SAFETY_FACTOR = 1.5  # over the measured rate (the acceptance bound is 2x measured + the margin)

# Every figure below is on one scale: CPU seconds with one torch thread, as the ZeroGPU
# stand-in's worker measured them on the build machine while other jobs shared its 2 cores
# (load average about 4; benchmarks/bench_zero_gpu.py). An idle machine is faster, a busier
# one several times slower; the thresholds are set on the same scale, from what the default runs cost on it.
CPU_SERVES_S = {
    # an embedding call: BERT over the bundled corpus (328 texts, about 40 s here) and a photo
    # against a few prompts with CLIP or SigLIP (seconds) stay on the CPU; more goes
    "embedding": 50.0,
    # a training run: the defaults (fine-tune about 105 s here, SimCLR about 75 s) stay on the
    # CPU; a fine-tune on twice the default's pairs, or SimCLR at three times its steps, goes
    "training": 150.0,
}

# Seconds per item: texts of the bundled corpus's length (one short sentence; CLIP and SigLIP
# pad every text to their context), images at the model's input size.
SECONDS_PER_TEXT = {
    "minilm": 0.010,  # never sent to the GPU to embed, but a fine-tune's evaluation embeds with it
    "bert-base-uncased": 0.12,
    "bert-base-uncased-mean": 0.12,
    "clip-vit-b-32": 0.15,
    "siglip-vit-b-16": 0.26,
}
SECONDS_PER_IMAGE = {
    "clip-vit-b-32": 0.28,
    "siglip-vit-b-16": 0.48,
}
# For any other model: seconds per item per GB of weights (the slowest measured per byte:
# SigLIP's, for texts and for images).
SECONDS_PER_TEXT_PER_GB = 0.32
SECONDS_PER_IMAGE_PER_GB = 0.60

# Training: per pair (fine-tune: MiniLM, max_seq_length 96, forward and backward) or per image
# (SimCLR: two views each) seen in a step, and SimCLR's fixed part (the untrained-encoder and
# raw-pixel baselines, the features, the probes).
FINE_TUNE_SECONDS_PER_PAIR = 0.19
# The tiny ViT's steps cost next to nothing beside its fixed part: 10 and 60 steps of 128 took
# 16.8 and 17.6 s, then 18.3 s and (under a load of 6) 42 s, so 50 steps added no more than the
# runs' noise; 0.0002 s per image bounds what two quiet pairs allow (0.0008 asked 42 s for a
# 60-step run measured at 14.3 s, over the 2x + margin bound).
SIMCLR_SECONDS_PER_IMAGE = {"cnn": 0.0016, "vit": 0.0002}
SIMCLR_FIXED_S = 15.0


def cpu_serves_s(kind: str) -> float:
    """Seconds of CPU work below which a call of ``kind`` stays on the CPU."""
    raw = os.environ.get(CPU_SERVES_ENV, "").strip()
    if raw:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{CPU_SERVES_ENV}={raw!r} is not a number of seconds (for example 15, or 0).")
    return CPU_SERVES_S[kind]


def worth_gpu(cpu_seconds: float, kind: str) -> bool:
    """True when work the CPU would do in ``cpu_seconds`` gains enough from a GPU."""
    return cpu_seconds > cpu_serves_s(kind)


def request_seconds(cpu_seconds: float) -> int:
    """The duration a call of that much work asks ZeroGPU for (whole seconds, capped)."""
    return int(min(MAX_REQUEST_S, math.ceil(MARGIN_S + SAFETY_FACTOR * max(0.0, cpu_seconds))))


def _weights_gb(model) -> float:
    try:
        return max(0.0, float(model.memory_bytes())) / 1e9
    except Exception:  # a student's model without a size: price it as a base-size model
        return 0.5


def encoding_seconds(model, kind: str, n: int) -> float:
    """CPU seconds for ``model`` to embed ``n`` items of ``kind`` (``"text"`` or ``"image"``)."""
    table, per_gb = (SECONDS_PER_TEXT, SECONDS_PER_TEXT_PER_GB) if kind == "text" else (SECONDS_PER_IMAGE, SECONDS_PER_IMAGE_PER_GB)
    rate: Optional[float] = table.get(getattr(model, "id", ""))
    if rate is None:
        rate = per_gb * _weights_gb(model)
    return n * rate


def fine_tune_seconds(pairs_seen: int, eval_texts: int, model=None) -> float:
    """CPU seconds for a fine-tune that trains on ``pairs_seen`` pairs (steps x batch) and
    embeds ``eval_texts`` held-out texts (before and after) with ``model``."""
    per_text = encoding_seconds(model, "text", 1) if model is not None else SECONDS_PER_TEXT["minilm"]
    return pairs_seen * FINE_TUNE_SECONDS_PER_PAIR + eval_texts * per_text


def simclr_seconds(encoder: str, steps: int, batch_size: int) -> float:
    """CPU seconds for a SimCLR run of ``steps`` steps of ``batch_size`` images."""
    return SIMCLR_FIXED_S + steps * batch_size * SIMCLR_SECONDS_PER_IMAGE.get(encoder, max(SIMCLR_SECONDS_PER_IMAGE.values()))


def cpu_offer(cpu_seconds: float, smaller: str, smaller_cpu_seconds: float) -> str:
    """What a training lab offers a visitor whose GPU call ZeroGPU refused (told before
    the CPU run starts): the CPU run's expected time, and a smaller run with its own.

    Args:
        cpu_seconds: the refused run's estimate (``simclr_seconds``, ``fine_tune_seconds``).
        smaller: the smaller run, in the words of the lab's controls ("150 steps").
        smaller_cpu_seconds: that run's estimate, from the same rates.
    """
    return (f"Expected time on the CPU: about {cpu_seconds:.0f} s. Or press Stop and train a smaller run "
            f"({smaller}): about {smaller_cpu_seconds:.0f} s.")
