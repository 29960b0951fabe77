"""The anisotropy experiment, without any UI: texts in, geometry figures out.

For each model: embed the texts, take the N×N cosine matrix, split the distinct
pairs into same-label (intra) and different-label (inter), and summarise them
(means, gap, ROC-AUC separation, mean cosine, alignment, uniformity); then a
linear probe trained on a stratified 20% of the vectors, clean and with Gaussian
noise, and a sweep of its accuracy over the noise level σ. How much noise σ means
(``noise_scale``) is one of three readings, explained in ``noise``: at matched
dimension (the default: every model embedded isometrically in the run's largest
dimension, the same noise along every direction), equal total noise, or σ per
coordinate; each model's figures carry its noisy probe on all three.

    >>> from playground import create_registry
    >>> from plugins.anisotropy.compute import analyse, load_texts
    >>> result = analyse(create_registry(), ["glove", "minilm"], load_texts())
    >>> result.figures()["minilm"]["separation_auc"]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from playground.science import geometry
from playground.data.corpus import load_corpus
from playground.data.uploads import read_labelled_csv
from playground.models.registry import ModelRegistry
from playground.contract.verdict import judge

from .noise import (
    DEFAULT_NOISE_SCALE, DEFAULT_SIGMAS, NOISE_COORDINATE, NOISE_MATCHED, NOISE_SCALES, NOISE_TOTAL, SCALE_FIGURES,
    SWEEPS, check_scale, coordinate_sigma, noise_space, noisy_probes, sigma_on_largest,
)

LIKELIHOOD_MODEL = "bert-base-uncased"
FALLBACK_MODEL = "glove"
CONTRASTIVE_MODEL = "minilm"

TRAIN_FRACTION = 0.2
DEFAULT_SIGMA = DEFAULT_SIGMAS[DEFAULT_NOISE_SCALE]
SWEEP_SIGMAS = SWEEPS[DEFAULT_NOISE_SCALE]
NOISE_AFTER, NOISE_BEFORE = "after", "before"
NOISE_MODES = {
    NOISE_AFTER: "after L2 normalisation (the noisy vectors leave the unit sphere)",
    NOISE_BEFORE: "before L2 normalisation (the noisy vectors are put back on the unit sphere)",
}
MAX_ROWS = 1000  # the N×N heatmaps and t-SNE stay quick in a browser and on a small CPU
MIN_PER_LABEL = 5  # a stratified 20% split then keeps every label in train and test

# The figures each model gets, in display order, with what they mean.
FIGURES = {
    "intra_mean": "mean cosine of same-label pairs",
    "inter_mean": "mean cosine of different-label pairs",
    "gap": "intra_mean − inter_mean",
    "separation_auc": "ROC-AUC of intra vs inter pairs by cosine (0.5 = no separation, 1 = a clean gap)",
    "mean_cosine": "mean cosine over all distinct pairs (anisotropy: 1 = one direction; 0 is necessary for "
                   "isotropy, not sufficient: two opposite clusters also score 0)",
    "alignment": "E‖f(x)−f(y)‖² over same-label pairs (lower = same-label texts closer; Wang & Isola take it "
                 "over a loss's own positive pairs, which here the labels stand in for)",
    "uniformity": "log E exp(−2‖f(x)−f(y)‖²) over all pairs (lower = more spread over the sphere)",
    "probe_accuracy": "logistic regression on 20% of the vectors, accuracy on the other 80%",
    "probe_accuracy_noisy": "the same probe with Gaussian noise of level σ added to every vector, on the chosen scale",
    SCALE_FIGURES[NOISE_MATCHED]: "the noisy probe at matched dimension: vectors embedded isometrically in the run's "
                                  "largest dimension D, the same noise on every coordinate for every model",
    SCALE_FIGURES[NOISE_TOTAL]: "the noisy probe with equal total noise: the largest model's noise length, in the "
                                "model's own dimension (more per direction for a smaller model)",
    SCALE_FIGURES[NOISE_COORDINATE]: "the noisy probe with the largest model's σ per coordinate, in the model's own "
                                     "dimension (fewer noisy dimensions for a smaller model)",
}


# -- data in ------------------------------------------------------------------------

def load_texts(upload: Optional[str] = None) -> pd.DataFrame:
    """The bundled corpus, or a user's ``text,label`` CSV (validated: UTF-8, the two
    columns, at least two labels with ``MIN_PER_LABEL`` texts each, at most
    ``MAX_ROWS`` rows). Columns text, label, module; rows grouped by label (stable),
    so every matrix below is already sorted by label."""
    if upload:
        frame = read_labelled_csv(upload, max_rows=MAX_ROWS, min_per_label=MIN_PER_LABEL)
        frame["module"] = ""
    else:
        frame = load_corpus()
    order = {label: rank for rank, label in enumerate(dict.fromkeys(frame["label"]))}
    frame = frame.assign(_rank=frame["label"].map(order)).sort_values("_rank", kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)[["text", "label", "module"]]


def describe_texts(frame: pd.DataFrame, source: str = "the bundled corpus") -> str:
    """One line: how many texts, and how many of each label."""
    counts = ", ".join(f"{label} {n}" for label, n in frame["label"].value_counts(sort=False).items())
    return f"{len(frame)} texts from {source}: {counts}."


def default_models(registry: ModelRegistry) -> tuple[str, str, str]:
    """(model A, model B, note): BERT vs MiniLM where BERT can be had, else GloVe
    vs MiniLM, with a note that says why."""
    bert_ok, reason = (
        registry.availability(LIKELIHOOD_MODEL) if LIKELIHOOD_MODEL in registry.specs
        else (False, "it is not registered")
    )
    if bert_ok:
        return LIKELIHOOD_MODEL, CONTRASTIVE_MODEL, ""
    note = (
        f"**Why GloVe and not BERT?** `{LIKELIHOOD_MODEL}` cannot be loaded here ({reason.rstrip('. ')}). "
        "GloVe stands in as the non-contrastive model: its word vectors come from co-occurrence counts, "
        "mean-pooled into one vector per text, and nothing in its training compares two texts. It differs from "
        "MiniLM in more than the objective (pooling, dimension, architecture, data): an illustration, not a "
        "controlled experiment. "
        "Where BERT can be loaded, it is the default."
    )
    return FALLBACK_MODEL, CONTRASTIVE_MODEL, note


def parse_model_ids(models: Sequence[str] | str) -> list[str]:
    """``"glove,minilm"`` or a list -> distinct ids, at least one."""
    ids = [m.strip() for m in (models.split(",") if isinstance(models, str) else models) if m and m.strip()]
    if not ids:
        raise ValueError("Name at least one model, for example --models glove,minilm.")
    if len(set(ids)) != len(ids):
        raise ValueError(f"The models must differ; got {', '.join(ids)}. Pick two different models to compare.")
    return ids


# -- compute ------------------------------------------------------------------------

@dataclass
class ModelReport:
    """One model's geometry on the texts (rows in the frame's order)."""

    model_id: str
    embeddings: np.ndarray
    sims: np.ndarray
    intra: np.ndarray
    inter: np.ndarray
    figures: dict[str, float]
    sweep: list[float]


@dataclass
class AnisotropyResult:
    """Everything one run computed: the texts, one report per model, the settings."""

    frame: pd.DataFrame
    reports: dict[str, ModelReport]
    sigma: float = DEFAULT_SIGMA
    noise: str = NOISE_AFTER
    sweep_sigmas: tuple[float, ...] = SWEEP_SIGMAS
    seed: int = 0
    noise_scale: str = DEFAULT_NOISE_SCALE
    matched_dim: int = 0  # the largest dimension of the run's models: where matched noise is added
    projections: dict[str, np.ndarray] = field(default_factory=dict)
    projection_method: str = ""

    def figures(self) -> dict[str, dict[str, float]]:
        """``{model_id: {figure: value}}``: what the CLI prints."""
        return {model_id: dict(report.figures) for model_id, report in self.reports.items()}

    def table(self) -> pd.DataFrame:
        """One row per figure, one column per model (plus what the figure means)."""
        rows = [
            {"figure": key, **{m: round(r.figures[key], 4) for m, r in self.reports.items()}, "meaning": meaning}
            for key, meaning in FIGURES.items()
        ]
        return pd.DataFrame(rows, columns=["figure", *self.reports, "meaning"])

    def long_table(self) -> pd.DataFrame:
        """One row per model: every figure and the probe accuracy at each σ of the sweep (CSV download)."""
        rows = []
        for model_id, report in self.reports.items():
            row = {"model": model_id, **report.figures}
            row.update({f"probe_accuracy_sigma_{s:g}": a for s, a in zip(self.sweep_sigmas, report.sweep)})
            rows.append(row)
        return pd.DataFrame(rows)

    def dims(self) -> dict[str, int]:
        """``{model_id: the dimension of its vectors}``."""
        return {m: int(r.embeddings.shape[1]) for m, r in self.reports.items()}

    def common_dim(self) -> int:
        """The dimension matched noise is added in: ``matched_dim``, or the largest model's."""
        return self.matched_dim or max(self.dims().values())

    def sigma_per_coordinate(self) -> dict[str, float]:
        """``{model_id: σ per coordinate}`` actually added at ``self.sigma`` (at matched
        dimension, on the vectors embedded in ``common_dim()`` dimensions)."""
        return {m: coordinate_sigma(self.sigma, d, self.noise_scale, self.common_dim()) for m, d in self.dims().items()}

    def noise_reading(self) -> str:
        """Markdown: the three noise scales and what this run's probes show under each."""
        from .noise import noise_reading

        return noise_reading(self.figures(), self.dims(),
                             sigma_on_largest(self.sigma, self.noise_scale, self.common_dim()), TRAIN_FRACTION)

    def to_json(self) -> dict:
        """Figures, sweep and settings as plain JSON (the JSON download)."""
        return {
            "settings": {
                "texts": len(self.frame), "labels": self.frame["label"].value_counts(sort=False).to_dict(),
                "train_fraction": TRAIN_FRACTION, "sigma": self.sigma, "noise": self.noise,
                "noise_meaning": NOISE_MODES[self.noise], "noise_scale": self.noise_scale,
                "noise_scale_meaning": NOISE_SCALES[self.noise_scale], "seed": self.seed,
                "sigma_per_coordinate": self.sigma_per_coordinate(), "dimensions": self.dims(),
                "matched_dimension": self.common_dim(),
            },
            "figures": self.figures(),
            "sweep": {
                "sigma": list(self.sweep_sigmas),
                **{m: list(r.sweep) for m, r in self.reports.items()},
            },
            "meaning": dict(FIGURES),
        }


def model_geometry(
    model_id: str, x: np.ndarray, labels: Sequence, sigma: float = DEFAULT_SIGMA, noise: str = NOISE_AFTER,
    sweep_sigmas: Sequence[float] = SWEEP_SIGMAS, seed: int = 0, noise_scale: str = DEFAULT_NOISE_SCALE,
    matched_dim: Optional[int] = None,
) -> ModelReport:
    """Every figure of one model's vectors ``x`` (rows aligned with ``labels``); the
    noise levels ``sigma`` and ``sweep_sigmas`` are read on ``noise_scale``.
    ``matched_dim``: the run's largest dimension (default: this model's), where matched
    noise is added and whose model sets the noise of the three ``probe_noisy_*`` figures."""
    if noise not in NOISE_MODES:
        raise ValueError(f"Noise mode {noise!r} is not one of: {', '.join(NOISE_MODES)}.")
    dim = np.shape(x)[1]
    matched_dim = max(int(matched_dim or dim), dim)
    per_coordinate = coordinate_sigma(sigma, dim, noise_scale, matched_dim)  # validates σ and the scale
    labels = np.asarray(labels)
    after = noise == NOISE_AFTER
    sims = geometry.cosine_matrix(x)
    intra, inter = geometry.intra_inter_similarities(sims, labels)
    if len(intra) == 0 or len(inter) == 0:
        raise ValueError("The texts need at least two labels, and at least two texts under some label.")
    i, j = geometry.positive_pairs(labels, seed=seed)
    noisy_x = noise_space(x, noise_scale, matched_dim)  # at matched dimension: embedded, cosines unchanged
    sweep = geometry.probe_noise_sweep(
        noisy_x, labels, [coordinate_sigma(s, dim, noise_scale, matched_dim) for s in sweep_sigmas], TRAIN_FRACTION,
        after, seed)
    by_sigma = dict(zip(map(float, sweep_sigmas), sweep))
    clean = geometry.linear_probe(x, labels, TRAIN_FRACTION, 0.0, after, seed).accuracy
    noisy = by_sigma.get(float(sigma))
    if noisy is None:
        noisy = geometry.linear_probe(noisy_x, labels, TRAIN_FRACTION, per_coordinate, after, seed).accuracy
    by_scale = noisy_probes(x, labels, sigma_on_largest(sigma, noise_scale, matched_dim), matched_dim,
                            TRAIN_FRACTION, after, seed, known={noise_scale: noisy})
    figures = {
        "intra_mean": float(intra.mean()),
        "inter_mean": float(inter.mean()),
        "gap": float(intra.mean() - inter.mean()),
        "separation_auc": geometry.separation_auc(intra, inter),
        "mean_cosine": geometry.mean_cosine(x),
        "alignment": geometry.alignment(x[i], x[j]),
        "uniformity": geometry.uniformity(x),
        "probe_accuracy": float(clean),
        "probe_accuracy_noisy": float(noisy),
        **{SCALE_FIGURES[scale]: value for scale, value in by_scale.items()},
    }
    return ModelReport(model_id, np.asarray(x, dtype=np.float32), sims.astype(np.float32), intra, inter, figures, sweep)


ProgressFn = Optional[Callable[[float, str], None]]


def embed(
    registry: ModelRegistry, model_id: str, texts: Sequence[str], session: str = "",
    progress: ProgressFn = None,
) -> np.ndarray:
    """The model's vectors for ``texts`` (from the registry's shared cache where it can)."""
    model = registry.get(model_id, session=session or None)
    if getattr(model, "kind", "text") not in ("text", "image-text"):
        raise ValueError(f"Model {model_id!r} cannot embed text.")
    def report(done: int, total: int) -> None:
        progress(done / max(total, 1), f"{model_id}: embedded {done}/{total} new texts")

    return model.encode_texts(list(texts), progress=report if progress is not None else None)


def analyse(
    registry: ModelRegistry, model_ids: Sequence[str] | str, frame: Optional[pd.DataFrame] = None, *,
    sigma: Optional[float] = None, noise: str = NOISE_AFTER, sweep_sigmas: Optional[Sequence[float]] = None,
    seed: int = 0, projection: Optional[str] = None, session: str = "", progress: ProgressFn = None,
    noise_scale: str = DEFAULT_NOISE_SCALE,
) -> AnisotropyResult:
    """Run the experiment: every model's figures on ``frame`` (default: the bundled
    corpus), and optionally a 2-D projection (``"pca"``, ``"tsne"``, ``"umap"``).
    ``sigma`` and ``sweep_sigmas`` default to those of ``noise_scale``.

    ``progress(fraction, message)`` is called as the work advances.
    """
    ids = parse_model_ids(model_ids)
    frame = load_texts() if frame is None else frame
    labels = frame["label"].to_numpy()
    check_scale(noise_scale)
    sigma = DEFAULT_SIGMAS[noise_scale] if sigma is None else float(sigma)
    sweep_sigmas = SWEEPS[noise_scale] if sweep_sigmas is None else sweep_sigmas
    sweep_sigmas = tuple(sorted({float(s) for s in sweep_sigmas} | {0.0, float(sigma)}))
    seed = int(seed)
    steps = len(ids) * (3 if projection else 2)
    step = 0

    def tick(message: str, within: float = 0.0) -> None:
        if progress is not None:
            progress(min((step + within) / steps, 1.0), message)

    vectors = {}
    for model_id in ids:  # every model first: matched noise needs the largest dimension of the run
        if not registry.is_loaded(model_id, session or None):  # a first use waits for imports and weights
            tick(f"{model_id}: loading the model (first use since the server started)")
        tick(f"{model_id}: embedding {len(frame)} texts")
        vectors[model_id] = embed(registry, model_id, frame["text"].tolist(), session,
                                  (lambda f, m: tick(m, f)) if progress is not None else None)
        step += 1
    matched_dim = max(np.shape(x)[1] for x in vectors.values())
    reports = {}
    for model_id, x in vectors.items():
        tick(f"{model_id}: similarities and linear probes")
        reports[model_id] = model_geometry(model_id, x, labels, sigma, noise, sweep_sigmas, seed, noise_scale,
                                           matched_dim)
        step += 1
    result = AnisotropyResult(frame, reports, float(sigma), noise, sweep_sigmas, seed, noise_scale, matched_dim)
    if projection:
        project(result, projection, progress=lambda f, m: tick(m, f))
    return result


def project(result: AnisotropyResult, method: str, progress: ProgressFn = None) -> AnisotropyResult:
    """Add each model's 2-D projection by ``method`` to ``result`` (in place; returned)."""
    method = method.lower().replace("-", "")
    result.projections = {}
    for k, (model_id, report) in enumerate(result.reports.items()):
        if progress is not None:
            progress(k / len(result.reports), f"{model_id}: {method.upper()} projection")
        result.projections[model_id] = geometry.project_2d(report.embeddings, method, seed=result.seed)
    result.projection_method = method
    return result


# -- the prediction, revealed -----------------------------------------------------------

PREDICT_QUESTION = (
    "Before you press Run: for the model on the left, what will the mean cosine be between texts from "
    "different domains (say, a poem and a legal clause)?"
)
PREDICT_CHOICES = {
    "low": "About 0: unrelated texts point in unrelated directions",
    "middle": "Somewhere around 0.3 to 0.6",
    "high": "Above 0.7: nearly every text points the same way",
}


def prediction_bucket(inter_mean: float) -> str:
    """Which of ``PREDICT_CHOICES`` a measured inter-label mean falls in."""
    if inter_mean < 0.3:
        return "low"
    return "middle" if inter_mean <= 0.7 else "high"


def reveal(result: AnisotropyResult, guess: Optional[str]) -> str:
    """Markdown: the prediction against what was measured, and what it means."""
    (a, ra), *rest = result.reports.items()
    truth = prediction_bucket(ra.figures["inter_mean"])
    key = next((k for k, text in PREDICT_CHOICES.items() if guess in (k, text)), None)
    lines = [judge(PREDICT_CHOICES.get(key), PREDICT_CHOICES[truth])]
    lines.append(
        f"`{a}`: different-domain pairs average **{ra.figures['inter_mean']:.2f}**, same-domain pairs "
        f"**{ra.figures['intra_mean']:.2f}** (separation AUC {ra.figures['separation_auc']:.2f}, "
        f"mean cosine {ra.figures['mean_cosine']:.2f})."
    )
    for b, rb in rest:
        lines.append(
            f"`{b}`: different-domain **{rb.figures['inter_mean']:.2f}**, same-domain "
            f"**{rb.figures['intra_mean']:.2f}** (separation AUC {rb.figures['separation_auc']:.2f}, "
            f"mean cosine {rb.figures['mean_cosine']:.2f})."
        )
    if rest:
        b, rb = rest[0]
        if ra.figures["mean_cosine"] > rb.figures["mean_cosine"] + 0.2:
            lines.append(
                f"`{a}` crowds its vectors into a narrow cone: even unrelated texts have a high cosine, so its raw "
                f"cosine is dominated by the direction every text shares. The domains are still there (a linear "
                f"probe finds them {ra.figures['probe_accuracy']:.0%} of the time, and the AUC is "
                f"{ra.figures['separation_auc']:.2f}, not 0.5). `{b}` was trained to push non-matching texts apart, "
                f"and here its vectors share no such direction (mean cosine {rb.figures['mean_cosine']:.2f}). How much "
                "of the cone is one shared direction is the second question below."
            )
        if rb.figures["separation_auc"] > ra.figures["separation_auc"] + 0.03:
            lines.append(
                f"A same-domain pair outranks a different-domain pair {rb.figures['separation_auc']:.0%} of the time "
                f"with `{b}`, against {ra.figures['separation_auc']:.0%} with `{a}`."
            )
    return "\n\n".join(lines)
