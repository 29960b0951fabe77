"""What the labs that train a network from scratch share: AdamW with weight decay
on matrices only, a warm-up-then-cosine learning rate, one optimiser step, and the
loss log with its running mean reported as training goes.

    optimiser, schedule = adamw_with_schedule(net, lr=3e-3, weight_decay=1e-4, steps=300)
    log = LossLog(steps=300, progress=progress)
    for step in range(300):
        log.add(step, optimise(loss_of_a_batch(), optimiser, schedule))
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, Optional

from playground.models.lazy import torch

ProgressFn = Optional[Callable[[int, int, float], None]]

# Who hears about training that was given no ``progress`` of its own: a notebook's
# progress bar around a headless run (``reporting_progress``); nobody by default.
_AMBIENT_PROGRESS: ContextVar[ProgressFn] = ContextVar("playground_progress", default=None)


@contextmanager
def reporting_progress(progress: ProgressFn) -> Iterator[None]:
    """Within the block, a ``LossLog`` made without ``progress`` reports to ``progress``."""
    token = _AMBIENT_PROGRESS.set(progress)
    try:
        yield
    finally:
        _AMBIENT_PROGRESS.reset(token)


def ambient_progress() -> ProgressFn:
    """Whoever ``reporting_progress`` named around this call (a notebook's bar), else None:
    for a training loop that reports without a ``LossLog``."""
    return _AMBIENT_PROGRESS.get()


def lr_factor(step: int, steps: int) -> float:
    """Linear warm-up over the first 5% of steps, then a cosine decay to zero."""
    warm = max(1, steps // 20)
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))


def adamw_with_schedule(module, lr: float, weight_decay: float, steps: int):
    """AdamW over ``module``'s parameters (weight decay on matrices only: not on
    biases, norms, scales or the SigLIP bias) and its ``lr_factor`` schedule."""
    decay = [p for p in module.parameters() if p.ndim >= 2]
    other = [p for p in module.parameters() if p.ndim < 2]
    optimiser = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}], lr=lr,
    )
    return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: lr_factor(s, steps))


def optimise(loss, optimiser, schedule) -> float:
    """One step on ``loss``; returns its value."""
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    schedule.step()
    return float(loss.item())


class LossLog:
    """The loss of every step, and a running mean (decay 0.95) that ``progress(step,
    steps, running)`` is told about about a hundred times over the run (with no
    ``progress``: whoever ``reporting_progress`` named, if anyone)."""

    def __init__(self, steps: int, progress: ProgressFn = None) -> None:
        self.steps, self.progress = steps, progress if progress is not None else _AMBIENT_PROGRESS.get()
        self.values: list[float] = []
        self.running: Optional[float] = None
        self.every = max(1, steps // 100)

    def add(self, step: int, value: float) -> None:
        self.values.append(value)
        self.running = value if self.running is None else 0.95 * self.running + 0.05 * value
        if self.progress is not None and (step % self.every == 0 or step == self.steps - 1):
            self.progress(step + 1, self.steps, self.running)
