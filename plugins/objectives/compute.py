"""One encoder, two objectives: the computation. Pure and gradio-free.

``train_objectives(settings)`` builds one small BERT-style encoder from one seed and
trains it in arms that differ only in the loss:

- phase 1 (``steps``): the **NLL** objective (masked-token, or next-token with ``nll="causal"``);
- phase 2 (``more_steps``): the phase-1 checkpoint forks into two arms, **nll** (the same
  objective, continued) and **contrastive** (unsupervised SimCSE: two dropout views of each
  text, in-batch InfoNCE);
- optionally **scratch**: SimCSE in both phases, from the same initial weights.

Every arm sees the same batch ids at the same step, builds a fresh AdamW with the same
warm-up-then-cosine schedule at the start of each phase (``playground.science.training``),
and starts each phase from the same dropout random state; the arms take their steps in
turn, so a stop leaves them equally trained. ``ArmTrace`` records what each arm saw, and
the tests compare the traces. Geometry is measured on labelled texts (the bundled
four-domain corpus by default) at a few snapshots: the labels are never trained on.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Callable, Optional

import numpy as np
import pandas as pd

from playground.data.plain_text import DEFAULT_MAX_WORDS, docstring_paragraphs
from playground.models.lazy import LazyModule, torch
from playground.science.threads import torch_threads
from playground.science.training import adamw_with_schedule, ambient_progress, optimise

from .measures import FIGURES, Geometry, measure
from .options import ARM_NAMES, ARMS, INIT, NLL_NAMES, NLL_OBJECTIVES, TOKEN_METRIC
from .vocab import Vocabulary, build_vocabulary, minilm_ids

model = LazyModule(f"{__package__}.model")  # torch and transformers load on first use

ProgressFn = Optional[Callable[[int, int, str], None]]  # (steps done, total steps, what is happening)
StopFn = Optional[Callable[[], bool]]
HELDOUT_TEXTS = 400  # paragraphs kept out of training, for the token accuracy
MAX_STEPS = 20_000


@dataclass(frozen=True)
class ObjectiveSettings:
    """One experiment. ``benchmarks/bench_objectives.py`` times the defaults (the goal: at most
    three minutes on a 2-core machine, with the NLL arm's token accuracy at least twice the
    most-frequent-piece baseline).

    Args:
        nll: ``"mlm"`` (masked-token prediction) or ``"causal"`` (next-token prediction).
        steps: phase 1, the NLL pre-training every arm but ``scratch`` shares.
        more_steps: phase 2, each arm's continuation (NLL again, or SimCSE).
        batch_size: paragraphs per step (and SimCSE's in-batch negatives).
        lr: peak learning rate of each phase (AdamW, 5% warm-up, cosine decay).
        tau: SimCSE's temperature (Gao et al. 2021 use 0.05).
        seed: seeds the initial weights, the batch order, the masks and the dropout.
        hidden, layers, heads, max_len: the encoder's size; texts are cut to ``max_len`` pieces.
        vocab_size: the MiniLM WordPiece vocabulary is cut to this many most frequent pieces.
        max_words: words of training text (docstring paragraphs of installed packages).
        scratch: also train the SimCSE-from-scratch arm (about half as long again).
        snapshots: geometry snapshots inside each phase, besides its start and end (0: none).
        threads: torch threads; 1 is fastest on a small shared CPU (see ``torch_threads``).
    """

    nll: str = "mlm"
    steps: int = 1400
    more_steps: int = 200
    batch_size: int = 32
    lr: float = 2e-3
    tau: float = 0.05
    seed: int = 0
    hidden: int = 64
    layers: int = 4
    heads: int = 2
    max_len: int = 48
    vocab_size: int = 8000
    max_words: int = DEFAULT_MAX_WORDS
    scratch: bool = False
    snapshots: int = 1
    threads: int = 1

    def validate(self) -> "ObjectiveSettings":
        """Raise ``ValueError`` saying what is wrong and what to use instead; return self."""
        if self.nll not in NLL_OBJECTIVES:
            raise ValueError(f"the NLL objective must be one of {', '.join(NLL_OBJECTIVES)}, got {self.nll!r}.")
        if not 1 <= self.steps <= MAX_STEPS or not 1 <= self.more_steps <= MAX_STEPS:
            raise ValueError(f"steps and more steps must each be between 1 and {MAX_STEPS}; "
                             f"got {self.steps} and {self.more_steps}.")
        if not 2 <= self.batch_size <= 256:
            raise ValueError(f"batch size must be between 2 and 256 (SimCSE needs in-batch negatives), got {self.batch_size}.")
        if not (0 < self.lr <= 0.1) or math.isnan(self.lr):
            raise ValueError(f"learning rate must be in (0, 0.1], for example 0.001; got {self.lr}.")
        if not (0 < self.tau <= 10) or math.isnan(self.tau):
            raise ValueError(f"the SimCSE temperature must be in (0, 10], for example 0.05; got {self.tau}.")
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed}.")
        if self.hidden % self.heads or not 8 <= self.hidden <= 512 or not 1 <= self.layers <= 8:
            raise ValueError(f"hidden size (8-512) must be a multiple of the heads, layers 1-8; "
                             f"got hidden {self.hidden}, {self.heads} heads, {self.layers} layers.")
        if not 8 <= self.max_len <= 256 or not 16 <= self.vocab_size <= 30_000:
            raise ValueError(f"max_len must be 8-256 and vocab_size 16-30000; got {self.max_len} and {self.vocab_size}.")
        if not 0 <= self.snapshots <= 10:
            raise ValueError(f"snapshots must be between 0 and 10, got {self.snapshots}.")
        return self

    @property
    def arms(self) -> tuple[str, ...]:
        return ARMS if self.scratch else ARMS[:2]


# ---------------------------------------------------------------------------- data
@dataclass(frozen=True)
class TrainingText:
    """The tokenised training paragraphs (compact ids), the held-out ones, and the
    most frequent training piece (the token-accuracy baseline's constant guess)."""

    vocabulary: Vocabulary
    train: list
    heldout: list
    most_frequent: int


@lru_cache(maxsize=2)
def training_text(max_words: int, vocab_size: int, max_len: int, seed: int) -> TrainingText:
    """Docstring paragraphs of installed packages (``playground.data.plain_text``), cut to
    ``max_len`` pieces, a seeded ``HELDOUT_TEXTS`` of them held out; the vocabulary is
    built on the training part only."""
    texts = docstring_paragraphs(max_words)
    if len(texts) < HELDOUT_TEXTS + 64:
        raise ValueError(f"only {len(texts)} training paragraphs found; raise max_words.")
    rows = minilm_ids(texts, max_len)
    order = np.random.default_rng([seed, 11]).permutation(len(rows))
    held, train = order[:HELDOUT_TEXTS], order[HELDOUT_TEXTS:]
    vocabulary = build_vocabulary([rows[i] for i in train], vocab_size)
    compact = vocabulary.compact(rows)
    train_rows = [compact[i] for i in train]
    counts = np.bincount(np.concatenate(train_rows), minlength=len(vocabulary))
    counts[:5] = 0  # specials are never a prediction target
    return TrainingText(vocabulary, train_rows, [compact[i] for i in held], int(counts.argmax()))


def batch_plan(n_texts: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """(steps, batch_size) ids of the training texts: seeded passes over a fresh
    permutation each, so every text is seen once per pass. The one plan all arms share."""
    rng = np.random.default_rng([seed, 1])
    needed = steps * batch_size
    ids = np.concatenate([rng.permutation(n_texts) for _ in range(needed // n_texts + 1)])[:needed]
    return ids.reshape(steps, batch_size)


def load_labelled(upload=None) -> pd.DataFrame:
    """The texts geometry is measured on: the bundled four-domain corpus, or a ``text,label``
    CSV read with the shell's upload validator."""
    if upload is not None:
        from playground.data.uploads import read_labelled_csv

        return read_labelled_csv(upload)[["text", "label"]]
    from playground.data.corpus import load_corpus

    return load_corpus()[["text", "label"]]


# ---------------------------------------------------------------------------- results
@dataclass
class Snapshot:
    """One arm at one step: its geometry on the labelled texts and its LM head's accuracy."""

    arm: str
    step: int
    geometry: Geometry
    token_accuracy: float

    def summary(self) -> dict:
        return {"arm": self.arm, "step": self.step, "token_accuracy": round(self.token_accuracy, 4),
                **self.geometry.rounded()}


@dataclass
class ArmTrace:
    """What one arm saw, step by step: the evidence that arms differ only in the loss."""

    start_checksums: list[float] = field(default_factory=list)  # weights at the start of each phase
    batch_ids: list[tuple[int, ...]] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    objectives: list[str] = field(default_factory=list)


@dataclass
class Arm:
    """One arm's encoder, losses, snapshots and trace."""

    key: str
    objectives: tuple[str, str]  # (phase 1, phase 2)
    encoder: object = field(repr=False)
    losses: list[float] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    trace: ArmTrace = field(default_factory=ArmTrace)
    rng_state: object = field(default=None, repr=False)  # its own dropout random state

    @property
    def final(self) -> Snapshot:
        return self.snapshots[-1]


@dataclass
class ObjectivesResult:
    """Everything one experiment produced."""

    settings: ObjectiveSettings
    arms: dict[str, Arm]
    init: Snapshot
    baseline_accuracy: float  # always guessing the most frequent training piece
    texts: list[str]
    labels: list[str]
    vocabulary_size: int
    training_texts: int
    steps_done: int
    stopped: bool
    seconds: float
    data: dict = field(default_factory=dict)  # geometry on an extra labelled file, per arm (see measure_file)

    @property
    def token_metric(self) -> str:
        return TOKEN_METRIC[self.settings.nll]

    def figures(self) -> dict[str, dict]:
        """Per arm (and the initialisation) the final figures, rounded."""
        out = {INIT: self.init.summary()}
        out.update({key: arm.final.summary() for key, arm in self.arms.items()})
        return out

    def summary(self) -> dict:
        """Plain JSON-able figures (what ``playground run objectives --json`` prints). The
        phase-1 snapshots appear under both NLL-trained arms: they share that phase."""
        return {
            "settings": asdict(self.settings),
            "arms": {key: {"name": ARM_NAMES[key], "objectives": list(arm.objectives),
                           "final_loss": round(float(np.mean(arm.losses[-20:])), 4) if arm.losses else None}
                     for key, arm in self.arms.items()},
            "token_metric": self.token_metric,
            "baseline_accuracy": round(self.baseline_accuracy, 4),
            "final": self.figures(),
            "snapshots": [self.init.summary()] + [s.summary() for arm in self.arms.values() for s in arm.snapshots],
            "texts": len(self.texts), "labels": sorted(set(self.labels)),
            "vocabulary_size": self.vocabulary_size, "training_texts": self.training_texts,
            "steps_done": self.steps_done, "stopped": self.stopped, "seconds": round(self.seconds, 1),
            "meaning": dict(FIGURES),
            **({"data": self.data} if self.data else {}),
        }


# ---------------------------------------------------------------------------- training
class _Experiment:
    """The shared state of one run: the data, the plan, the labelled texts, the clock."""

    def __init__(self, settings: ObjectiveSettings, frame: pd.DataFrame, progress: ProgressFn, should_stop: StopFn):
        self.s = settings
        self.text = training_text(settings.max_words, settings.vocab_size, settings.max_len, settings.seed)
        self.plan = batch_plan(len(self.text.train), settings.batch_size, settings.steps + settings.more_steps,
                               settings.seed)
        self.texts, self.labels = list(frame["text"]), list(frame["label"])
        self.eval_rows = self.text.vocabulary.encode(self.texts, settings.max_len)
        self.progress, self.should_stop = progress, should_stop
        self.stopped = False
        self.done = 0
        self.total = settings.steps * (2 if settings.scratch else 1) + settings.more_steps * len(settings.arms)
        self.baseline = 0.0

    def snapshot(self, arm_key: str, encoder, step: int) -> Snapshot:
        vectors = model.embed(encoder, self.eval_rows)
        # every arm's LM head is scored on the NLL task, on the same held-out positions
        accuracy, targets = model.token_accuracy(encoder, self.text.heldout, self.s.nll,
                                                 np.random.default_rng([self.s.seed, 7]))
        self.baseline = float(np.mean(targets == self.text.most_frequent))
        return Snapshot(arm_key, step, measure(vectors, self.labels, self.s.seed), accuracy)

    def snapshot_steps(self, start: int, steps: int) -> set[int]:
        """The steps (counted from the start of the run) after which to measure."""
        inside = np.linspace(start, start + steps, self.s.snapshots + 2)[1:]
        return {int(round(x)) for x in inside}

    def run_phase(self, arms: list[Arm], phase: int, start: int, steps: int) -> int:
        """``steps`` steps of ``arms`` on plan rows ``start..``, in turn; returns steps taken."""
        s = self.s
        optimisers = []
        torch.manual_seed(s.seed * 1000 + 17 + phase)
        dropout_state = torch.get_rng_state()
        for arm in arms:
            arm.trace.start_checksums.append(model.state_checksum(arm.encoder))
            arm.encoder.train()
            arm.rng_state = dropout_state.clone()
            optimisers.append(adamw_with_schedule(arm.encoder, s.lr, weight_decay=0.01, steps=steps))
        measure_after = self.snapshot_steps(start, steps)
        taken = 0
        for k in range(steps):
            if self.should_stop is not None and self.should_stop():
                self.stopped = True
                break
            step = start + k
            ids, mask = model.pad_batch([self.text.train[i] for i in self.plan[step]])
            for arm, (optimiser, schedule) in zip(arms, optimisers):
                objective = arm.objectives[phase]
                torch.set_rng_state(arm.rng_state)
                loss_fn = model.OBJECTIVES[objective]
                kwargs = {"tau": s.tau} if objective == "simcse" else {}
                loss = loss_fn(arm.encoder, ids, mask, np.random.default_rng([s.seed, 3, step]), **kwargs)
                arm.trace.batch_ids.append(tuple(int(i) for i in self.plan[step]))
                arm.trace.learning_rates.append(float(schedule.get_last_lr()[0]))
                arm.trace.objectives.append(objective)
                arm.losses.append(optimise(loss, optimiser, schedule))
                arm.rng_state = torch.get_rng_state()
                self.done += 1
            taken += 1
            if self.progress is not None and (k % 10 == 0 or k == steps - 1):
                described = ", ".join(f"{arm.key} {arm.losses[-1]:.3f}" for arm in arms)
                self.progress(self.done, self.total, f"phase {phase + 1}, step {step + 1}: loss {described}")
            if step + 1 in measure_after:
                for arm in arms:
                    arm.snapshots.append(self.snapshot(arm.key, arm.encoder, step + 1))
        if self.stopped and taken and start + taken not in measure_after:
            for arm in arms:
                arm.snapshots.append(self.snapshot(arm.key, arm.encoder, start + taken))
        return taken


def train_objectives(settings: ObjectiveSettings, frame: Optional[pd.DataFrame] = None, progress: ProgressFn = None,
                     should_stop: StopFn = None) -> ObjectivesResult:
    """Train every arm of ``settings`` and measure it on ``frame`` (``text``, ``label``;
    default: the bundled four-domain corpus). ``progress(done, total, message)`` is called
    as it goes; ``should_stop()`` returning True ends training after the current step (every
    arm then has the same number of steps, and is measured as it is)."""
    settings.validate()
    if progress is None and (ambient := ambient_progress()) is not None:  # a notebook's bar
        progress = lambda done, total, message: ambient(done, total, None)  # noqa: E731
    started = time.perf_counter()
    frame = load_labelled() if frame is None else frame
    with torch_threads(settings.threads):
        run = _Experiment(settings, frame, progress, should_stop)
        if progress is not None:
            progress(0, run.total, "measuring the random initialisation")
        init_encoder = model.build_encoder(len(run.text.vocabulary), settings.hidden, settings.layers, settings.heads,
                                           settings.max_len, settings.nll == "causal", settings.seed)
        init = run.snapshot(INIT, init_encoder, 0)
        trunk = Arm("nll", (settings.nll, settings.nll), copy.deepcopy(init_encoder))
        first = [trunk] + ([Arm("scratch", ("simcse", "simcse"), copy.deepcopy(init_encoder))] if settings.scratch else [])
        done = run.run_phase(first, 0, 0, settings.steps)
        fork = Arm("contrastive", (settings.nll, "simcse"), copy.deepcopy(trunk.encoder),
                   losses=list(trunk.losses), snapshots=[replace(sn, arm="contrastive") for sn in trunk.snapshots],
                   trace=copy.deepcopy(trunk.trace))
        arms = {"nll": trunk, "contrastive": fork, **({"scratch": first[1]} if settings.scratch else {})}
        if not run.stopped:
            done += run.run_phase(list(arms.values()), 1, settings.steps, settings.more_steps)
        for arm in arms.values():  # a stop before any snapshot: measure what there is
            if not arm.snapshots:
                arm.snapshots.append(run.snapshot(arm.key, arm.encoder, done))
            arm.encoder.eval()
    return ObjectivesResult(
        settings=settings, arms=arms, init=init, baseline_accuracy=run.baseline, texts=run.texts, labels=run.labels,
        vocabulary_size=len(run.text.vocabulary), training_texts=len(run.text.train), steps_done=done,
        stopped=run.stopped, seconds=time.perf_counter() - started,
    )


def measure_file(result: ObjectivesResult, frame: pd.DataFrame) -> dict:
    """Each trained arm's final geometry (and the initialisation's) on another labelled set:
    ``{arm: figures}``. The initial encoder is rebuilt from the seed."""
    s = result.settings
    vocabulary = training_text(s.max_words, s.vocab_size, s.max_len, s.seed).vocabulary
    rows = vocabulary.encode(list(frame["text"]), s.max_len)
    labels = list(frame["label"])
    with torch_threads(s.threads):
        init = model.build_encoder(len(vocabulary), s.hidden, s.layers, s.heads, s.max_len, s.nll == "causal", s.seed)
        encoders = {INIT: init, **{key: arm.encoder for key, arm in result.arms.items()}}
        return {key: measure(model.embed(enc, rows), labels, s.seed).rounded() for key, enc in encoders.items()}


def as_text_model(result: ObjectivesResult, arm_key: str, model_id: str):
    """One arm's encoder as a registry text model (mean-pooled, for this session)."""
    s = result.settings
    vocabulary = training_text(s.max_words, s.vocab_size, s.max_len, s.seed).vocabulary
    arm = result.arms[arm_key]
    description = (f"trained here from scratch: {ARM_NAMES[arm_key]} ({NLL_NAMES[s.nll]}), "
                   f"{s.steps} + {s.more_steps} steps, h{s.hidden} x {s.layers} layers, seed {s.seed}")
    return model.TrainedEncoder(model_id, arm.encoder, vocabulary, s.max_len, description)
