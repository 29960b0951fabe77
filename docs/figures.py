"""Every figure the READMEs quote, measured by running the labs headless.

A README quotes a figure only inside a marked block::

    MiniLM's separation AUC is <!-- figure:anisotropy.minilm.auc -->0.889<!-- /figure -->.

This script runs the labs (through their compute functions, as ``playground run``
does), stores the figures in ``docs/figures.json`` and rewrites every marked block
from them, so no figure is typed by hand. ``tests/test_docs_figures.py`` fails when
a block differs from ``figures.json`` or when a fresh run differs from it by more
than the group's tolerance.

    python docs/figures.py                      # every group but the slowest, then rewrite the READMEs
    python docs/figures.py --only temperature   # some groups (comma-separated)
    python docs/figures.py --all                # also siglip_seeds (about 3 minutes per seed)
    python docs/figures.py --check              # only compare the READMEs with figures.json (exit 1 if not)
    python docs/figures.py --rewrite            # only rewrite the READMEs from figures.json (run nothing)

Groups and their cost on an idle 2-core CPU (under a load of 10, as on the shared build
machine, 5 to 13 times longer: simclr 745 s, simclr_more 2620 s, train_clip 822 s, one
siglip seed 29 to 37 min): ``anisotropy`` (~40 s: the default run, σ = 0.1 per coordinate,
and three more seeds), ``triplet`` (~10 s), ``temperature`` (~15 s), ``fine_tune`` (~1.5 min),
``train_clip`` (~2.5 min), ``simclr`` (the default run, ~1 min), ``simclr_more`` (digits, ViT
and both experiments, ~5 min), ``siglip_variants`` (the multilingual and detail toys, ~1 min),
``siglip_seeds`` (~3 min per seed; each seed's figure is stored, and a slow test re-runs seed 0
only), ``objectives_seeds`` (~2.5 min per seed; the tests re-run seed 0).

Timings a README quotes in its text (``timing.*``: a training lab's default run in seconds,
and the machine it ran on: cores and load average) are not measured here but by
``python benchmarks/run.py --write-readme``, which stores them through ``store``; they are
checked by ``--check`` like every other figure, and not re-run by the tests (a time is no
seeded result).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIGURES_JSON = ROOT / "docs" / "figures.json"
READMES = (ROOT / "README.md", *sorted((ROOT / "plugins").glob("*/README.md")))
BLOCK = re.compile(r"<!-- figure:(?P<name>[\w.@\-]+) -->(?P<text>.*?)<!-- /figure -->", re.S)

# Absolute tolerance a fresh run must meet, per group (figures are fractions, cosines
# or losses; ``tolerance(name)`` gives uniformity its own). A seeded run repeats to the
# last digit on one machine. On a CPU whose float kernels round differently, a run that
# trains for hundreds of steps follows another path, and its figures move about as far
# as another seed's would. Measured with the same torch 2.14.1 and seeds, the machine
# that stored figures.json against an AMD EPYC without AVX-512: the untrained baselines,
# the first losses, fine_tune, train_clip's default run and siglip_variants repeated
# within 0.03; simclr's default run moved up to 0.046 (shape probe), simclr_more up to
# 0.089 (batch 16's colour probe), siglip_seeds' seed 0 up to 0.059 (both losses at
# batch 8), the objectives lab's seed 0 up to 0.091 (its contrastive arm's probe) and
# 0.22 in uniformity. The trained groups' tolerances cover that, so the tests pass on
# either CPU; what would be wrong on either (a README sentence whose direction a fresh
# run contradicts) they check on the fresh run as well.
TOLERANCE = {"anisotropy": 0.01, "triplet": 0.02, "temperature": 0.05, "fine_tune": 0.02, "train_clip": 0.03,
             "simclr": 0.07, "simclr_more": 0.13, "siglip_seeds": 0.09, "siglip_variants": 0.05,
             "objectives_seeds": 0.14}
# Uniformity (the log of a mean of exponentials, about −4 to 0) moves further than a fraction.
UNIFORMITY_TOLERANCE = {"objectives_seeds": 0.33}


def tolerance(name: str) -> float:
    """How far a fresh run may put figure ``name`` from its stored value (about 1.5 times the
    largest move measured between two CPUs, for the groups that train)."""
    group = group_of(name)
    if name.endswith("uniformity") and group in UNIFORMITY_TOLERANCE:
        return UNIFORMITY_TOLERANCE[group]
    return TOLERANCE[group]


SIGLIP_SEEDS = (0, 1, 2, 3, 4)
SIGLIP_BATCHES = (8, 32, 128)

Figures = dict[str, tuple[float, str]]  # name -> (value, format spec)


def registry():
    from playground import create_registry

    return create_registry(device="cpu")


# -- the groups -----------------------------------------------------------------------

ANISOTROPY_SEEDS = (1, 2, 3)  # the noise claims are checked on these seeds too, besides the default 0


def anisotropy(reg) -> Figures:
    """GloVe vs MiniLM on the bundled corpus: raw (noise at matched dimension, σ = 1, the
    defaults; each model's noisy probe on all three scales), σ = 0.1 per coordinate,
    centred, whitened, and the noisy probes on three more seeds."""
    from plugins.anisotropy.compute import analyse, load_texts
    from plugins.anisotropy.isotropy import postprocess_figures
    from plugins.anisotropy.noise import SCALE_FIGURES

    frame = load_texts()
    out: Figures = {"anisotropy.texts": (len(frame), "d")}
    default = analyse(reg, "glove,minilm", frame)  # matched dimension, σ = 1 (the defaults)
    coordinate = analyse(reg, "glove,minilm", frame, noise_scale="coordinate", sweep_sigmas=(0.0,))
    shifted = postprocess_figures(default, ["center", "whiten"])
    out["anisotropy.matched_dimension"] = (default.common_dim(), "d")
    # full whitening of n texts in d ≥ n − 1 dimensions: a regular simplex, every cosine −1/(n − 1)
    out["anisotropy.simplex_directions"] = (len(frame) - 1, "d")
    out["anisotropy.simplex_cosine"] = (-1 / (len(frame) - 1), ".4f")
    out["anisotropy.matched_sigma_per_coordinate"] = (default.sigma_per_coordinate()["glove"], ".3f")
    for model in ("glove", "minilm"):
        for key, value in default.reports[model].figures.items():
            out[f"anisotropy.{model}.{key}"] = (value, ".3f")
        out[f"anisotropy.{model}.noisy_coordinate"] = (coordinate.reports[model].figures["probe_accuracy_noisy"], ".3f")
        out[f"anisotropy.{model}.noisy_coordinate_matched"] = (
            coordinate.reports[model].figures[SCALE_FIGURES["matched"]], ".3f")
        dim = default.reports[model].embeddings.shape[1]
        out[f"anisotropy.{model}.dimension"] = (dim, "d")
        out[f"anisotropy.{model}.noise_length_coordinate"] = ((dim * 0.1**2) ** 0.5, ".2f")
        for method, by_model in shifted.items():
            for key in ("separation_auc", "mean_cosine", "probe_accuracy", "probe_accuracy_noisy"):
                out[f"anisotropy.{model}.{method}.{key}"] = (by_model[model][key], ".3f")
    gap = {scale: default.reports["minilm"].figures[key] - default.reports["glove"].figures[key]
           for scale, key in SCALE_FIGURES.items()}
    # how much of the gap under equal total noise is dimension: it closes at matched dimension
    out["anisotropy.total_gap_from_dimension"] = ((gap["total"] - gap["matched"]) / gap["total"], ".0%")
    for seed in ANISOTROPY_SEEDS:
        run = analyse(reg, "glove,minilm", frame, seed=seed, sweep_sigmas=(0.0,))
        at_0_1 = analyse(reg, "glove,minilm", frame, seed=seed, sweep_sigmas=(0.0,), noise_scale="coordinate")
        for model in ("glove", "minilm"):
            for key in SCALE_FIGURES.values():
                out[f"anisotropy.seed{seed}.{model}.{key}"] = (run.reports[model].figures[key], ".3f")
        out[f"anisotropy.seed{seed}.glove.noisy_coordinate"] = (at_0_1.reports["glove"].figures["probe_accuracy_noisy"],
                                                               ".3f")
        out[f"anisotropy.seed{seed}.glove.noisy_coordinate_matched"] = (
            at_0_1.reports["glove"].figures[SCALE_FIGURES["matched"]], ".3f")
    out.update(glove_pooling(reg, frame["text"].tolist()))
    return out


def glove_pooling(reg, texts) -> Figures:
    """Where GloVe's cone comes from: the mean cosine of its word vectors (each word
    occurrence in the corpus; and words drawn at random from the vocabulary) against
    that of the mean-pooled text vectors, and the words per text."""
    import numpy as np

    from playground.science import geometry

    glove = reg.get("glove")
    ids = [glove.word_ids(t) for t in texts]
    occurrences = np.concatenate([np.asarray(i) for i in ids])
    vocabulary = np.random.default_rng(0).choice(len(glove.vectors), size=5000, replace=False)
    return {
        "anisotropy.glove.words_per_text": (float(np.mean([len(i) for i in ids])), ".0f"),
        "anisotropy.glove.word_mean_cosine_corpus": (geometry.mean_cosine(glove.vectors[occurrences]), ".2f"),
        "anisotropy.glove.word_mean_cosine_vocabulary": (geometry.mean_cosine(glove.vectors[vocabulary]), ".2f"),
    }


def triplet(reg) -> Figures:
    """The trained projection on GloVe with the tab's defaults: held-out triplets satisfied before and after."""
    from plugins.triplet_margin import compute

    frame = compute.load_texts(per_label=compute.DEFAULT_PER_LABEL, seed=0)
    emb = compute.embed(reg, "glove", frame["text"].tolist())
    result = compute.train_projection(emb, frame["label"].tolist(), margin=compute.DEFAULT_MARGIN, model_id="glove")
    return {
        "triplet.glove.satisfied_before": (result.before["satisfied"], ".3f"),
        "triplet.glove.satisfied_after": (result.after["satisfied"], ".3f"),
        "triplet.glove.probe_before": (result.before["probe_accuracy"], ".3f"),
        "triplet.glove.probe_after": (result.after["probe_accuracy"], ".3f"),
    }


TEMPERATURE_RUNS = (("glove", "dropout"), ("glove", "label"), ("minilm", "dropout"))


def temperature(reg) -> Figures:
    """Uniformity and final loss per τ for three (model, positives) settings, defaults otherwise."""
    from plugins.temperature import compute
    from plugins.temperature.claims import false_negative_floor

    out: Figures = {}
    frame = compute.load_texts(per_label=compute.DEFAULT_PER_LABEL, seed=0)
    for model, positives in TEMPERATURE_RUNS:
        result = compute.run_sweep(reg, frame, model, positives=positives)
        for t in result.taus:
            out[f"temperature.{model}.{positives}.tau{t.tau:g}.uniformity"] = (t.uniformity, ".2f")
            out[f"temperature.{model}.{positives}.tau{t.tau:g}.loss"] = (t.loss, ".3f")
            out[f"temperature.{model}.{positives}.tau{t.tau:g}.alignment"] = (t.alignment, ".3f")
            out[f"temperature.{model}.{positives}.tau{t.tau:g}.separation_auc"] = (t.separation_auc, ".3f")
        smallest = result.taus[0]
        out[f"temperature.{model}.{positives}.smallest.cosine_gap"] = (smallest.intra - smallest.inter, ".2f")
        out[f"temperature.{model}.{positives}.smallest.logit_gap"] = ((smallest.intra - smallest.inter) / smallest.tau,
                                                                      ".0f")
        best = min(result.taus, key=lambda t: t.uniformity)
        out[f"temperature.{model}.{positives}.most_uniform_tau"] = (best.tau, "g")
        worst = max(result.taus, key=lambda t: t.uniformity)
        out[f"temperature.{model}.{positives}.least_uniform_tau"] = (worst.tau, "g")
    out["temperature.chance_loss"] = (__import__("math").log(2 * compute.DEFAULT_BATCH - 1), ".2f")
    views, floor = false_negative_floor(frame["label"].tolist())
    out["temperature.labels"] = (frame["label"].nunique(), "d")
    out["temperature.false_negative_views"] = (views, ".0f")
    out["temperature.false_negative_floor"] = (floor, ".2f")
    return out


def fine_tune(reg) -> Figures:
    """The default fine-tune run (``playground run fine_tune``)."""
    from plugins.fine_tune.compute import load_pairs, run_fine_tune

    s = run_fine_tune(reg.get("minilm"), load_pairs()).summary()
    out: Figures = {}
    for when in ("before", "after"):
        for key in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"):
            out[f"fine_tune.{when}.{key}"] = (s[when][key], ".3f")
        out[f"fine_tune.{when}.positive_mean"] = (s["similarity"][when]["positive_mean"], ".3f")
        out[f"fine_tune.{when}.random_mean"] = (s["similarity"][when]["random_mean"], ".3f")
        gap = s["similarity"][when]["positive_mean"] - s["similarity"][when]["random_mean"]
        out[f"fine_tune.{when}.gap"] = (gap, ".3f")
    for key in ("better", "worse", "same"):
        out[f"fine_tune.queries.{key}"] = (s["queries"][key], "d")
    out["fine_tune.loss_first"] = (s["loss_first"], ".3f")
    out["fine_tune.chance_loss"] = (__import__("math").log(s["settings"]["batch_size"]), ".2f")
    return out


def _embed(reg):
    return lambda texts: reg.get("minilm").encode_texts(texts)


def train_clip(reg) -> Figures:
    """The default train_clip runs, softmax and sigmoid."""
    from plugins.train_clip.compute import TrainSettings, train_clip as train

    out: Figures = {}
    for loss in ("softmax", "sigmoid"):
        r = train(TrainSettings(loss=loss), _embed(reg)).summary()
        for key in ("heldout_accuracy", "seen_accuracy", "heldout_colour_accuracy", "heldout_shape_accuracy"):
            out[f"train_clip.{loss}.{key}"] = (r[key], ".1%")
        out[f"train_clip.{loss}.final_loss"] = (r["final_loss"], ".3f")
        if r["logit_bias"] is not None:  # the SigLIP bias: where it started and where it ended
            out[f"train_clip.{loss}.logit_bias"] = (r["logit_bias"], ".3f")
            out[f"train_clip.{loss}.bias_init"] = (r["settings"]["bias_init"], "g")
        out["train_clip.chance"] = (r["chance"], ".1%")
    return out


def simclr_run(prefix: str, summary: dict) -> Figures:
    """One SimCLR run's figures (``SimCLRResult.summary()``): per attribute the held-out
    probe on the trained backbone, on its projection head, on the untrained encoder and on
    the raw pixels, and chance; the nearest-neighbour agreement of each feature set; the
    loss at the first step, at the end and a guess's."""
    out: Figures = {}
    for attribute, a in summary["attributes"].items():
        for key in ("probe_accuracy", "head_accuracy", "random_init_accuracy", "pixel_accuracy", "chance"):
            out[f"{prefix}.{attribute}.{key}"] = (a[key], ".1%")
    for key, value in summary["neighbour_agreement"].items():
        out[f"{prefix}.neighbours.{key.replace(' ', '_')}"] = (value, ".1%")
    for key in ("first_loss", "final_loss", "loss_floor"):
        out[f"{prefix}.{key}"] = (summary[key], ".2f")
    return out


def simclr_experiment(prefix: str, summary: dict) -> Figures:
    """One SimCLR experiment's figures (``ExperimentResult.summary()``): each run's held-out
    probes (named by its label, "without crop" as ``without_crop``) and the shared baselines."""
    out: Figures = {}
    for run in summary["runs"]:
        for attribute, value in run["probes"].items():
            out[f"{prefix}.{run['label'].replace(' ', '_')}.{attribute}"] = (value, ".1%")
    for baseline in ("random_init", "pixels", "chance"):
        for attribute, value in summary[baseline].items():
            out[f"{prefix}.{baseline}.{attribute}"] = (value, ".1%")
    return out


def simclr(reg) -> Figures:
    """The default SimCLR run (``playground run simclr``): CNN on the shapes, seed 0."""
    from plugins.simclr.compute import SimCLRSettings, train_simclr

    return simclr_run("simclr.default", train_simclr(SimCLRSettings()).summary())


def simclr_more(reg) -> Figures:
    """The other SimCLR runs its README quotes, defaults otherwise: the digits, the tiny
    ViT, experiment 1 (what you augment away) and experiment 2 (batch size)."""
    from dataclasses import replace

    from plugins.simclr.compute import SimCLRSettings, augment_away, batch_size_sweep, train_simclr

    d = SimCLRSettings()
    return {**simclr_run("simclr_more.digits", train_simclr(replace(d, data="digits")).summary()),
            **simclr_run("simclr_more.vit", train_simclr(replace(d, encoder="vit")).summary()),
            **simclr_experiment("simclr_more.augment", augment_away(d).summary()),
            **simclr_experiment("simclr_more.batch", batch_size_sweep(d).summary())}


def siglip_seeds(reg, reuse: Path | None = None, seeds=SIGLIP_SEEDS) -> Figures:
    """Softmax vs sigmoid across batch sizes, same examples per run, over several seeds:
    mean, sample standard deviation, min and max of held-out accuracy. ``reuse``: a
    folder of ``seed<N>.json`` files (``playground run train_clip --compare --seed N
    --json``) to read instead of training."""
    from plugins.train_clip.compute import COMPARE_EXAMPLES, TrainSettings, compare_batch_sizes

    runs = []
    for seed in seeds:
        cached = reuse / f"seed{seed}.json" if reuse else None
        if cached and cached.exists() and cached.stat().st_size:
            runs.append(json.loads(cached.read_text()))
        else:
            base = TrainSettings(seed=seed, batch_size=max(SIGLIP_BATCHES))
            runs.append(compare_batch_sizes(base, SIGLIP_BATCHES, COMPARE_EXAMPLES, _embed(reg)).summary())
    out: Figures = {"siglip_seeds.seeds": (len(runs), "d"), "siglip_seeds.examples": (runs[0]["examples_per_run"], "d"),
                    "siglip_seeds.smallest_batch": (min(SIGLIP_BATCHES), "d"),
                    "siglip_seeds.largest_batch": (max(SIGLIP_BATCHES), "d")}
    def heldout(run: dict, loss: str, b: int) -> float:
        return next(r["heldout_accuracy"] for r in run["runs"] if r["loss"] == loss and r["batch_size"] == b)

    for loss in ("softmax", "sigmoid"):
        for b in SIGLIP_BATCHES:
            acc = [heldout(run, loss, b) for run in runs]
            for seed, value in zip(seeds, acc):  # each seed's own figure: what a re-run of that seed is held to
                out[f"siglip_seeds.seed{seed}.{loss}.b{b}"] = (value, ".1%")
            name = f"siglip_seeds.{loss}.b{b}"
            out[f"{name}.mean"] = (statistics.mean(acc), ".1%")
            out[f"{name}.sd"] = (statistics.stdev(acc) if len(acc) > 1 else 0.0, ".1%")
            out[f"{name}.min"] = (min(acc), ".1%")
            out[f"{name}.max"] = (max(acc), ".1%")
    for b in SIGLIP_BATCHES:
        gaps = [heldout(run, "sigmoid", b) - heldout(run, "softmax", b) for run in runs]
        out[f"siglip_seeds.gap.b{b}.mean"] = (statistics.mean(gaps), "+.1%")
        out[f"siglip_seeds.gap.b{b}.sd"] = (statistics.stdev(gaps) if len(gaps) > 1 else 0.0, ".1%")
    return out


OBJECTIVES_SEEDS = (0, 1, 2)
OBJECTIVES_FIGURES = ("token_accuracy", "mean_cosine", "intra_mean", "inter_mean", "separation_auc", "uniformity",
                      "probe_accuracy")


def objectives_seeds(reg, reuse: Path | None = None, seeds=OBJECTIVES_SEEDS) -> Figures:
    """The objectives lab's default run (``playground run objectives --json``) over several
    seeds: per arm, mean and sample standard deviation of each figure. ``reuse``: a folder of
    ``objectives-seed<N>.json`` files written by that command, read instead of training."""
    from plugins.objectives.compute import ObjectiveSettings, train_objectives

    runs = []
    for seed in seeds:
        cached = reuse / f"objectives-seed{seed}.json" if reuse else None
        if cached and cached.exists() and cached.stat().st_size:
            runs.append(json.loads(cached.read_text()))
        else:
            runs.append(train_objectives(ObjectiveSettings(seed=seed)).summary())
    first = runs[0]["settings"]
    out: Figures = {"objectives_seeds.seeds": (len(runs), "d"), "objectives_seeds.steps": (first["steps"], "d"),
                    "objectives_seeds.more_steps": (first["more_steps"], "d"),
                    "objectives_seeds.hidden": (first["hidden"], "d"), "objectives_seeds.layers": (first["layers"], "d"),
                    "objectives_seeds.vocabulary": (runs[0]["vocabulary_size"], "d")}
    baseline = [r["baseline_accuracy"] for r in runs]
    out["objectives_seeds.baseline.mean"] = (statistics.mean(baseline), ".3f")
    for run in runs:  # each seed's own figures too: the lesson's claims are checked seed by seed
        tag = f"objectives_seeds.s{run['settings']['seed']}"
        out[f"{tag}.baseline"] = (run["baseline_accuracy"], ".3f")
        out[f"{tag}.seconds"] = (run["seconds"], ".0f")
        for arm in ("init", "nll", "contrastive"):
            for key in OBJECTIVES_FIGURES:
                out[f"{tag}.{arm}.{key}"] = (run["final"][arm][key], ".3f")
    for arm in ("init", "nll", "contrastive"):
        for key in OBJECTIVES_FIGURES:
            values = [r["final"][arm][key] for r in runs]
            out[f"objectives_seeds.{arm}.{key}.mean"] = (statistics.mean(values), ".3f")
            out[f"objectives_seeds.{arm}.{key}.sd"] = (statistics.stdev(values) if len(values) > 1 else 0.0, ".3f")
    return out


def siglip_variants(reg) -> Figures:
    """The SigLIP-* lab: per-device memory of both losses at B = 4096 on 8 devices, the
    chunked loss's agreement, the multilingual toy's default run and the detail toy's
    (accuracy, tokens, ceiling and final training loss per input size; its timings depend on the machine)."""
    from plugins.siglip_variants.detail_toy import DetailSettings, compare_sizes
    from plugins.siglip_variants.multilingual import (
        ToySettings, accuracy_ceiling, indistinguishable_labels, train_and_score,
    )
    from plugins.siglip_variants.scaling import MB, agreement, device_cost

    out: Figures = {}
    for key, loss in (("sigmoid", "sigmoid (ring)"), ("softmax", "softmax (all-gather)")):
        cost = device_cost(loss, 4096, 8)
        out[f"siglip_variants.{key}.b4096.k8.peak_mb"] = (cost.peak_bytes / MB, ".1f")
        out[f"siglip_variants.{key}.b4096.k8.received_mb"] = (cost.received_bytes / MB, ".1f")
    out["siglip_variants.chunked.max_difference"] = (max(a.difference for a in agreement()), ".0e")
    for run in train_and_score(ToySettings()):
        for lang, acc in run.accuracy.items():
            out[f"siglip_variants.toy.{run.tokenizer}.{run.captions}.{lang}"] = (acc, ".0%")
    out["siglip_variants.toy.wordpiece.ja.ceiling"] = (accuracy_ceiling("wordpiece", "ja"), ".0%")
    out["siglip_variants.toy.wordpiece.ja.indistinguishable"] = (indistinguishable_labels("wordpiece", "ja"), "d")
    for run in compare_sizes(DetailSettings()):
        out[f"siglip_variants.detail.side{run.side}.accuracy"] = (run.accuracy, ".0%")
        out[f"siglip_variants.detail.side{run.side}.ceiling"] = (run.ceiling, ".0%")
        out[f"siglip_variants.detail.side{run.side}.tokens"] = (run.tokens, "d")
        out[f"siglip_variants.detail.side{run.side}.final_loss"] = (run.final_loss, ".2f")
    return out


GROUPS: dict[str, Callable] = {"anisotropy": anisotropy, "triplet": triplet, "temperature": temperature,
                               "fine_tune": fine_tune, "train_clip": train_clip, "simclr": simclr, "simclr_more": simclr_more,
                               "siglip_seeds": siglip_seeds, "objectives_seeds": objectives_seeds,
                               "siglip_variants": siglip_variants}
CHEAP = ("anisotropy", "triplet", "temperature")
SLOW = ("fine_tune", "train_clip", "simclr", "simclr_more", "siglip_variants")
NOT_RERUN_BY_TESTS = ("siglip_seeds", "objectives_seeds")


# -- storing and rewriting --------------------------------------------------------------

def group_of(name: str) -> str:
    return name.split(".", 1)[0]


def formatted(entry: dict) -> str:
    return format(entry["value"], entry["format"]).replace("-", "−")


def load() -> dict[str, dict]:
    return json.loads(FIGURES_JSON.read_text()) if FIGURES_JSON.exists() else {}


def measure(groups, reuse: Path | None = None, seeds=SIGLIP_SEEDS) -> dict[str, dict]:
    """Run ``groups`` and return ``{name: {"value", "format"}}``."""
    reg = registry()
    out = {}
    for group in groups:
        start = time.perf_counter()
        if group == "siglip_seeds":
            figures = GROUPS[group](reg, reuse, seeds)
        elif group == "objectives_seeds":
            figures = GROUPS[group](reg, reuse)
        else:
            figures = GROUPS[group](reg)
        for name, (value, spec) in figures.items():
            out[name] = {"value": round(float(value), 6) if spec != "d" else int(value), "format": spec}
        print(f"{group}: {len(figures)} figures in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def blocks(path: Path) -> list[tuple[str, str]]:
    """``(name, text)`` of every marked block in ``path``."""
    return [(m["name"], m["text"]) for m in BLOCK.finditer(path.read_text())]


def rewrite(path: Path, figures: dict[str, dict]) -> list[str]:
    """Rewrite the blocks of ``path`` from ``figures``; return the names it has no figure for."""
    missing = []

    def sub(m: re.Match) -> str:
        entry = figures.get(m["name"])
        if entry is None:
            missing.append(m["name"])
            return m[0]
        return f"<!-- figure:{m['name']} -->{formatted(entry)}<!-- /figure -->"

    text = path.read_text()
    new = BLOCK.sub(sub, text)
    if new != text:
        path.write_text(new)
    return missing


def mismatches(figures: dict[str, dict]) -> list[str]:
    """Every README block whose text is not its figure, formatted (or that has no figure)."""
    bad = []
    for path in READMES:
        found = blocks(path)
        if path.read_text().count("<!-- figure:") != len(found):
            bad.append(f"{path.relative_to(ROOT)}: a <!-- figure:NAME --> marker is malformed or unclosed")
        for name, text in found:
            entry = figures.get(name)
            if entry is None:
                bad.append(f"{path.relative_to(ROOT)}: {name} has no figure in docs/figures.json")
            elif text != formatted(entry):
                bad.append(f"{path.relative_to(ROOT)}: {name} reads {text!r}, measured {formatted(entry)!r}")
    return bad


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=None, help="comma-separated groups: " + ", ".join(GROUPS))
    parser.add_argument("--all", action="store_true", help="every group, siglip_seeds included")
    parser.add_argument("--check", action="store_true", help="compare the READMEs with figures.json; run nothing")
    parser.add_argument("--rewrite", action="store_true", help="rewrite the READMEs from figures.json; run nothing")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="siglip_seeds: a folder of seed<N>.json from `playground run train_clip --compare`; "
                             "objectives_seeds: of objectives-seed<N>.json from `playground run objectives --seed N --json`")
    parser.add_argument("--siglip-seeds", type=int, default=len(SIGLIP_SEEDS),
                        help=f"siglip_seeds: how many seeds, from 0 (default {len(SIGLIP_SEEDS)})")
    args = parser.parse_args(argv)
    if args.check:
        bad = mismatches(load())
        print("\n".join(bad) or "every README figure matches docs/figures.json")
        return 1 if bad else 0
    if args.rewrite:
        missing = [f"{p.relative_to(ROOT)}: {n}" for p in READMES for n in rewrite(p, load())]
        print("no figure for: " + ", ".join(missing) if missing else "READMEs rewritten", file=sys.stderr)
        return 1 if missing else 0
    groups = args.only.split(",") if args.only else [g for g in GROUPS if args.all or g not in NOT_RERUN_BY_TESTS]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    measured = measure(groups, args.reuse, tuple(range(args.siglip_seeds)))
    return 1 if store(measured) else 0


def store(measured: dict[str, dict]) -> list[str]:
    """Merge ``measured`` (``{name: {"value", "format"}}``) into figures.json and rewrite every
    README's blocks from it; return (and print) the blocks that have no figure. Also what
    ``benchmarks/run.py --write-readme`` calls with its ``timing.*`` figures."""
    figures = {**load(), **measured}  # read after measuring: another group may have been stored meanwhile
    FIGURES_JSON.write_text(json.dumps(dict(sorted(figures.items())), indent=1, ensure_ascii=False) + "\n")
    missing = [f"{p.relative_to(ROOT)}: {n}" for p in READMES for n in rewrite(p, figures)]
    if missing:
        print("no figure for: " + ", ".join(missing), file=sys.stderr)
    return missing


if __name__ == "__main__":
    raise SystemExit(main())
