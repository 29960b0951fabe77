"""The lab's experiment, callable from Python: measure retrieval on held-out
queries, fine-tune a private copy of the encoder with in-batch negatives, measure
again.

    from playground import create_registry
    from plugins.fine_tune.compute import run_fine_tune
    from plugins.fine_tune.data import bundled_pairs
    result = run_fine_tune(create_registry().get("minilm"), bundled_pairs(512, 200))
    result.before["mrr@10"], result.after["mrr@10"]
"""
from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from playground.models.gpu import dispatch_to_gpu, gpu, model_at
from playground.models.gpu_policy import cpu_offer, fine_tune_seconds, request_seconds
from playground.models.base import TextModel
from playground.contract.verdict import judge

from .data import PairSet, bundled_pairs, read_pairs_csv, split_uploaded, subsample
from .metrics import METRIC_NAMES, positive_and_random_similarities, positive_ranks, retrieval_metrics
from .train import TrainLog, TrainSettings, copy_for_training, train_in_batch_negatives

# The default run: a fixed subsample of the bundled set, sized so that training and
# both evaluations take about a minute on a 2-core CPU (see README, "Figures").
DEFAULT_MAX_TRAIN = 512
DEFAULT_MAX_HELDOUT = 200
MAX_UPLOAD_HELDOUT = 200
# Pairs seen in one run (steps × batch size) at most: the cost of a run grows with it.
MAX_PAIRS_SEEN = 1024

PhaseFn = Optional[Callable[[str], None]]


@dataclass
class Evaluation:
    """Retrieval on the held-out pairs: metrics and the similarities behind the histograms."""

    metrics: dict[str, float]
    positive: np.ndarray  # cos(query_i, passage_i)
    random: np.ndarray  # cos(query_i, some other passage)
    ranks: np.ndarray  # rank of query i's own passage among all held-out passages (1 = top)


@dataclass
class FineTuneResult:
    """Everything one run produced. ``student`` is the fine-tuned SentenceTransformer."""

    base_model: str
    settings: TrainSettings
    data: PairSet
    before: Evaluation
    after: Evaluation
    log: TrainLog
    student: object = field(repr=False, default=None)

    def change(self) -> dict[str, float]:
        return {k: self.after.metrics[k] - self.before.metrics[k] for k in METRIC_NAMES}

    def rank_changes(self) -> dict[str, int]:
        """How many held-out queries found their passage higher, lower, or at the same rank."""
        before, after = self.before.ranks, self.after.ranks
        return {"better": int((after < before).sum()), "worse": int((after > before).sum()),
                "same": int((after == before).sum())}

    def summary(self) -> dict:
        """Plain JSON-able figures (what ``playground run fine_tune --json`` prints)."""
        return {
            "base_model": self.base_model,
            "before": _rounded(self.before.metrics),
            "after": _rounded(self.after.metrics),
            "change": _rounded(self.change()),
            "queries": self.rank_changes(),
            "train_pairs": len(self.data.train),
            "heldout_pairs": len(self.data.heldout),
            "steps": len(self.log.losses),
            "steps_planned": self.log.steps_planned,
            "stopped": self.log.stopped,
            "loss_first": round(self.log.losses[0], 4) if self.log.losses else None,
            "loss_last": round(self.log.losses[-1], 4) if self.log.losses else None,
            "train_seconds": round(self.log.seconds, 1),
            "similarity": {
                "before": {"positive_mean": _mean(self.before.positive), "random_mean": _mean(self.before.random)},
                "after": {"positive_mean": _mean(self.after.positive), "random_mean": _mean(self.after.random)},
            },
            "data_source": self.data.source,
            "data_hash": self.data.data_hash(),
            "settings": self.settings.as_dict(),
        }

    def provenance(self) -> dict:
        """The run's settings, data hash, library versions, figures and loss curve."""
        out = self.summary()
        out["data_notes"] = list(self.data.notes)
        out["losses"] = [round(x, 6) for x in self.log.losses]
        out["versions"] = library_versions()
        out["device"] = str(getattr(self.student, "device", "cpu"))
        return out


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in metrics.items()}


def _mean(x: np.ndarray) -> Optional[float]:
    return round(float(np.mean(x)), 4) if len(x) else None


def library_versions() -> dict[str, str]:
    import sentence_transformers
    import torch
    import transformers

    import playground

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "playground": playground.__version__,
    }


# -- data in ---------------------------------------------------------------------
def load_pairs(csv_file=None, max_train: Optional[int] = DEFAULT_MAX_TRAIN,
               max_heldout: Optional[int] = DEFAULT_MAX_HELDOUT) -> PairSet:
    """The bundled code-search set (subsampled to ``max_train`` / ``max_heldout``), or
    the pairs of an uploaded ``query,positive`` CSV (validated; ``ValueError`` with
    the reason when it cannot be used)."""
    if csv_file is None:
        return bundled_pairs(max_train=max_train, max_heldout=max_heldout)
    pairs = split_uploaded(read_pairs_csv(csv_file))
    pairs.heldout = subsample(pairs.heldout, MAX_UPLOAD_HELDOUT, seed=2)
    return pairs


# -- compute ---------------------------------------------------------------------
def is_trainable(model: TextModel) -> bool:
    """Only sentence-transformers models (they have ``.st``) can be fine-tuned here."""
    return getattr(model, "st", None) is not None


def evaluate(model: TextModel, pairs: PairSet, seed: int = 0) -> Evaluation:
    """Embed the held-out queries and passages and score every query against every
    held-out passage (its own is the one relevant answer)."""
    queries = model.encode_texts([p.query for p in pairs.heldout])
    passages = model.encode_texts([p.positive for p in pairs.heldout])
    positive, random_pairs = positive_and_random_similarities(queries, passages, seed=seed)
    scores = queries @ passages.T
    return Evaluation(retrieval_metrics(scores), positive, random_pairs, positive_ranks(scores))


def check_budget(settings: TrainSettings, n_train: int) -> None:
    """``ValueError`` when the run would see more than ``MAX_PAIRS_SEEN`` pairs."""
    steps_per_epoch = max(1, n_train // settings.batch_size)
    steps = min(settings.max_steps, steps_per_epoch * settings.epochs)
    if steps * settings.batch_size > MAX_PAIRS_SEEN:
        raise ValueError(
            f"This run would train on {steps * settings.batch_size} pairs ({steps} steps of {settings.batch_size}); "
            f"the limit is {MAX_PAIRS_SEEN} so that it ends within a couple of minutes. Lower the epochs, the batch "
            f"size or the step cap (at most {MAX_PAIRS_SEEN // settings.batch_size} steps at this batch size)."
        )


def run_fine_tune(
    base: TextModel,
    pairs: PairSet,
    settings: Optional[TrainSettings] = None,
    on_step: Optional[Callable[[int, int, float], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
    on_phase: PhaseFn = None,
) -> FineTuneResult:
    """Evaluate ``base`` on the held-out pairs, fine-tune a private copy of it on the
    training pairs, and evaluate the copy.

    Args:
        base: a loaded sentence-transformers model from the registry (never changed).
        pairs: train and held-out pairs (``load_pairs``).
        settings: training settings (defaults: ``TrainSettings()``).
        on_step, should_stop: progress and stop hooks, see ``train_in_batch_negatives``.
        on_phase: told "before", "train", "after" as each phase starts.

    On ZeroGPU the run happens in one ``@gpu`` call that receives the model's
    locator, the pairs and the settings, and returns the figures and the trained
    weights as arrays; the hooks cannot cross into that worker, so the page shows
    only the phase it started.
    """
    settings = (settings or TrainSettings()).validate()
    if not is_trainable(base):
        raise ValueError(
            f"Model {base.id!r} is not a sentence-transformers model, so this lab cannot fine-tune it. "
            "Pick minilm (or a model you fine-tuned in this session)."
        )
    if len(pairs.heldout) < 2:
        raise ValueError("Need at least two held-out pairs to measure retrieval.")
    check_budget(settings, len(pairs.train))
    phase = on_phase or (lambda name: None)
    if dispatch_to_gpu(base.locator, cpu_seconds=expected_cpu_seconds(base, pairs, settings), kind="training"):
        phase("train")
        before, after, log, weights = fine_tune_on_gpu(base.locator, pairs, settings, on_step=on_step,
                                                       should_stop=should_stop, on_phase=on_phase)
        student = copy_for_training(base.st)
        student.load_state_dict({k: torch_tensor(v) for k, v in weights.items()})
        return FineTuneResult(base.id, settings, pairs, before, after, log, student)
    before, after, log, student = _fine_tune(base, pairs, settings, on_step, should_stop, phase)
    return FineTuneResult(base.id, settings, pairs, before, after, log, student)


def _fine_tune(base, pairs, settings, on_step=None, should_stop=None, phase=lambda name: None):
    phase("before")
    before = evaluate(base, pairs, seed=settings.seed)
    phase("train")
    student = copy_for_training(base.st)
    log = train_in_batch_negatives(student, pairs.train, settings, on_step=on_step, should_stop=should_stop)
    phase("after")
    after = evaluate(wrap_model(student, "fine_tune-evaluation", base.device, cache=False), pairs, seed=settings.seed)
    return before, after, log, student


def expected_cpu_seconds(base: TextModel, pairs: PairSet, settings: TrainSettings) -> float:
    """What the run costs on the CPU (``gpu_policy``'s measured rates): the pairs it trains
    on, and the held-out queries and passages it embeds before and after."""
    steps = min(settings.max_steps, max(1, len(pairs.train) // settings.batch_size) * settings.epochs)
    return fine_tune_seconds(steps * settings.batch_size, 4 * len(pairs.heldout), base)


def smaller_settings(settings: TrainSettings, pairs: PairSet) -> TrainSettings:
    """The run a refused visitor is offered instead: half the steps this one would take."""
    steps = min(settings.max_steps, max(1, len(pairs.train) // settings.batch_size) * settings.epochs)
    return replace(settings, max_steps=max(1, steps // 2))


def offer_on_cpu(locator, pairs: PairSet, settings: TrainSettings, **_hooks) -> str:
    """What a visitor whose GPU call was refused may do: this run on the CPU, or a smaller one, with their times."""
    base, smaller = model_at(locator), smaller_settings(settings, pairs)
    return cpu_offer(expected_cpu_seconds(base, pairs, settings), f"Step cap {smaller.max_steps}",
                     expected_cpu_seconds(base, pairs, smaller))


@gpu(duration=lambda locator, pairs, settings, **_hooks: request_seconds(expected_cpu_seconds(model_at(locator), pairs, settings)),
     local=("on_step", "should_stop", "on_phase"), offer=offer_on_cpu)
def fine_tune_on_gpu(locator, pairs: PairSet, settings: TrainSettings, on_step=None, should_stop=None, on_phase=None):
    """The whole run in a ZeroGPU worker: plain data in (the model's locator, the
    pairs, the settings), plain data out (the two evaluations, the log, and the
    trained weights as numpy arrays). The hooks stay in this process (``local``): they
    reach a run ZeroGPU refused, which then runs here on the CPU."""
    before, after, log, student = _fine_tune(model_at(locator), pairs, settings, on_step, should_stop,
                                             on_phase or (lambda name: None))
    weights = {k: v.detach().float().cpu().numpy() for k, v in student.state_dict().items()}
    return before, after, log, weights


def torch_tensor(array):
    import torch

    return torch.from_numpy(np.asarray(array))


def wrap_model(student, model_id: str, device: str, cache: bool = True):
    """The fine-tuned SentenceTransformer as a registry text model (``encode_texts``)."""
    from playground.models.sentence_transformers import SentenceTransformerModel

    model = SentenceTransformerModel(model_id, student, device)
    if not cache:
        model.cache = None
    return model


# -- words out -------------------------------------------------------------------
PREDICT_QUESTION = (
    "Before you train: the model learns only from modules *other* than the held-out ones. "
    "What will happen to held-out MRR@10?"
)
PREDICT_CHOICES = {
    "rise": "It rises: what it learns about docstrings carries over to unseen modules",
    "same": "It stays about the same: the held-out functions were never seen",
    "fall": "It falls: training on one set of modules overfits and hurts the others",
}
SAME_BAND = 0.005  # |change in MRR@10| below this counts as "about the same"


def outcome(result: FineTuneResult) -> str:
    """"rise", "same" or "fall": what held-out MRR@10 did."""
    delta = result.change()["mrr@10"]
    if delta > SAME_BAND:
        return "rise"
    if delta < -SAME_BAND:
        return "fall"
    return "same"


def reveal(result: FineTuneResult, prediction: Optional[str]) -> str:
    """The prediction checked against the run, with the figures that decide it."""
    before, after = result.before, result.after
    happened = outcome(result)
    verdict = {"rise": "rose", "same": "stayed about the same", "fall": "fell"}[happened]
    head = judge(PREDICT_CHOICES.get(prediction, prediction), PREDICT_CHOICES[happened])
    gap_before = float(np.mean(before.positive) - np.mean(before.random))
    gap_after = float(np.mean(after.positive) - np.mean(after.random))
    moved = result.rank_changes()
    stopped = " (stopped early: the model kept what it had learnt)" if result.log.stopped else ""
    return (
        f"{head} Held-out MRR@10 {verdict}: **{before.metrics['mrr@10']:.3f} → {after.metrics['mrr@10']:.3f}** "
        f"({result.change()['mrr@10']:+.3f}) after {len(result.log.losses)} steps{stopped}; recall@1 "
        f"{before.metrics['recall@1']:.3f} → {after.metrics['recall@1']:.3f}. Of {len(before.ranks)} held-out "
        f"queries, {moved['better']} found their passage higher than before, {moved['worse']} lower, "
        f"{moved['same']} at the same rank.\n\n"
        f"The mean cosine of a query with its own passage went {np.mean(before.positive):.3f} → "
        f"{np.mean(after.positive):.3f}, with a random passage {np.mean(before.random):.3f} → "
        f"{np.mean(after.random):.3f}: the gap between the means went {gap_before:.3f} → {gap_after:.3f}. "
        "A wider mean gap does not make every ranking better: a query's rank depends on whether its own passage "
        "beats *its* hardest negatives, the other passages closest to that query"
        + (f" (here {moved['worse']} queries ranked their passage lower even as the mean gap "
           f"{'widened' if gap_after > gap_before else 'changed'})" if moved["worse"] else "")
        + ". Look at the same query's green point against its red points, not at the two averages."
    )


def describe_pairs(pairs: PairSet) -> str:
    """Where the pairs come from, how many, and one example."""
    example = pairs.train[0] if pairs.train else None
    lines = [f"**Data:** {pairs.source}. " + " ".join(pairs.notes)]
    if example is not None:
        lines.append(f"Example query: *{example.query}*  \nIts passage: `{example.positive[:160]}`")
    lines.append(f"Data sha256: `{pairs.data_hash()[:16]}…`")
    return "\n\n".join(lines)


# -- files out -------------------------------------------------------------------
ZIP_PREFIX = "playground-fine_tune-model-"
ZIP_MAX_AGE_S = 900


def save_model_zip(student, name: str) -> str:
    """Save ``student`` with ``st.save`` into a fresh temporary folder and zip it; the
    archive holds one folder ``name/`` that ``SentenceTransformer(path)`` loads once
    unzipped. Returns the zip's path (a new folder per call: never shared).

    Gradio copies a returned file into its own cache, so earlier archives (about 80 MB
    each) are deleted once they are older than ``ZIP_MAX_AGE_S``."""
    remove_stale_zips()
    folder = tempfile.mkdtemp(prefix=ZIP_PREFIX)
    model_dir = os.path.join(folder, name)
    student.save(model_dir)
    archive = shutil.make_archive(os.path.join(folder, name), "zip", root_dir=folder, base_dir=name)
    shutil.rmtree(model_dir, ignore_errors=True)
    return archive


def remove_stale_zips(max_age_s: float = ZIP_MAX_AGE_S) -> int:
    """Delete this lab's temporary zip folders older than ``max_age_s``; returns how many."""
    import time

    root = tempfile.gettempdir()
    removed = 0
    for entry in os.scandir(root):
        if entry.name.startswith(ZIP_PREFIX) and entry.is_dir(follow_symlinks=False):
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > max_age_s:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed += 1
            except OSError:
                continue
    return removed
