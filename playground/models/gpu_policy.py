"""Where a call computes on ZeroGPU, and how long it asks for: the one place that decides.

A ZeroGPU Space lends a GPU per ``@gpu`` call and counts the time against the
*visitor's* quota (by login, else by IP: a class behind one university NAT shares one
anonymous allowance). A call is refused when the duration it requests exceeds what the
visitor has left, and no call may ask for more than 5 minutes. So this module answers
two questions, from numbers measured on this project's calls:

- **Does the GPU gain enough?** A call goes to the GPU only when the CPU would take
  longer than ``CPU_SERVES_S[kind]`` (``"embedding"``: a few seconds of waiting is fine
  in a lab; ``"training"``: the default training runs, 20–70 s on 2 shared cores, stay
  on the CPU). A model the registry marks ``cpu_only`` (MiniLM, GloVe: ONNX Runtime and
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
priced by the size of its weights at the slowest measured rate per byte.

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

CPU_SERVES_S = {
    # a lab's embedding call (texts or images): waiting this long on the CPU beats spending quota
    "embedding": 15.0,
    # a training run: the defaults (fine-tune 36 s, SimCLR 38 s in benchmarks/run.py) stay on the CPU
    "training": 90.0,
}

# CPU seconds per item with one torch thread (benchmarks/bench_zero_gpu.py): texts of the
# bundled corpus's length (one short sentence), images at the model's input size.
SECONDS_PER_TEXT = {
    "bert-base-uncased": 0.030,
    "bert-base-uncased-mean": 0.030,
    "clip-vit-b-32": 0.012,
    "siglip-vit-b-16": 0.020,
}
SECONDS_PER_IMAGE = {
    "clip-vit-b-32": 0.090,
    "siglip-vit-b-16": 0.300,
}
# For any other model: seconds per item per GB of weights (the slowest measured per byte).
SECONDS_PER_TEXT_PER_GB = 0.07
SECONDS_PER_IMAGE_PER_GB = 0.40

# Training (per pair or image seen in a step, forward and backward), with one thread.
FINE_TUNE_SECONDS_PER_PAIR = 0.045  # MiniLM, max_seq_length 96
SIMCLR_SECONDS_PER_IMAGE = {"cnn": 0.0012, "vit": 0.0020}  # two views each
SIMCLR_FIXED_S = 6.0  # the untrained-encoder and raw-pixel baselines, features, probes


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
    per_text = encoding_seconds(model, "text", 1) if model is not None else SECONDS_PER_TEXT_PER_GB * 0.09
    return pairs_seen * FINE_TUNE_SECONDS_PER_PAIR + eval_texts * per_text


def simclr_seconds(encoder: str, steps: int, batch_size: int) -> float:
    """CPU seconds for a SimCLR run of ``steps`` steps of ``batch_size`` images."""
    return SIMCLR_FIXED_S + steps * batch_size * SIMCLR_SECONDS_PER_IMAGE.get(encoder, max(SIMCLR_SECONDS_PER_IMAGE.values()))
