"""The lab's words: what it shows, the two predict-then-reveal questions, and the reveals.

Reveals are computed from the measured figures, so they say what this run found,
not what the SimCLR paper says.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .claims import CLAIMS, EQUAL_WITHIN, crop_sentences, neighbour_figures
from .compute import MAX_STEPS, ExperimentResult, SimCLRResult
from .options import AUGMENTATIONS, ENCODER_NAMES
from playground.contract.verdict import judge

INTRO = f"""
### SimCLR: the augmentations make the positives, the batch makes the negatives
No labels here. Each step takes a batch of N images and makes **two random views** of each (crop it,
shift its colours, blur it, ...). The two views of one image are a *positive pair*; the other 2N - 2
views in the batch are its *negatives*: no memory bank, no momentum encoder, just the batch. The
encoder is trained with **NT-Xent**: for each view, a softmax over the 2N - 1 others (cosine / τ) that
should pick out its twin. A loss of log(2N - 1) means it cannot tell the twin from the rest.

The encoder is a **small CNN** or a **tiny ViT**. The ViT has no convolution: it cuts the 32x32 image
into 16 patches of 8x8 pixels, maps each patch to a vector (a *token*), adds a learned position to each,
and lets a few transformer blocks mix the tokens, as a language model mixes words.

**How do we know it learned anything?** Freeze the encoder, and fit a *linear probe* (a linear
classifier) from its features to each attribute the images have (the digit; or a shape's shape, colour,
size and position), on the training images, and score it on **held-out** images. The labels are used
only here, never in training. Two baselines are measured in the same run: the **same encoder untrained**
(its random initial weights: a random network already computes useful features) and the **raw pixels**.

Steps are capped at {MAX_STEPS}.
"""

AUGMENTATION_CHOICES = [(f"{name}: {text}", name) for name, text in AUGMENTATIONS.items()]

# ---------------------------------------------------------------------------- experiment 1
AUGMENT_INTRO = """
### Experiment 1: what you augment away, the representation forgets
Runs on the **shapes** (digits have no colour). Three runs, all else equal: your augmentations plus
colour jitter and crop; the same **without colour jitter**; the same **without crop**. Colour jitter
gives the two views of an image different colours, so colour can never tell a twin from a negative.
"""
AUGMENT_QUESTION = (
    "Before you run: with colour jitter on, the two views of a red star may be a green star and a blue one. "
    "What happens to the colour probe, compared with the run without colour jitter?"
)
AUGMENT_CHOICES = [
    "It falls towards chance: colour is forgotten",
    "It drops, but stays well above chance",
    "No real change: the encoder still sees colour",
]


def augment_outcome(experiment: ExperimentResult) -> int:
    """Which of ``AUGMENT_CHOICES`` the colour probes support (index)."""
    chance = experiment.chance["colour"]
    with_jitter = experiment.run("all").probes["colour"]
    without = experiment.run("without colour").probes["colour"]
    if without - with_jitter <= EQUAL_WITHIN:
        return 2
    if with_jitter - chance <= 0.35 * (without - chance):
        return 0
    return 1


def _change(experiment: ExperimentResult, attribute: str, without: str) -> str:
    a, b = experiment.run("all").probes[attribute], experiment.run(without).probes[attribute]
    return f"{attribute} {b:.0%} → {a:.0%}"


def reveal_augment(prediction: Optional[str], experiment: ExperimentResult) -> str:
    """The answer to experiment 1, from its measured probes."""
    answer = AUGMENT_CHOICES[augment_outcome(experiment)]
    chance = experiment.chance["colour"]
    lines = [
        f"**Reveal.** {judge(prediction, answer, answer_shown=True)} Held-out probe accuracy, without → with "
        f"colour jitter: **{_change(experiment, 'colour', 'without colour')}** (chance {chance:.0%}); "
        f"{_change(experiment, 'shape', 'without colour')}. So: *{answer}*.",
    ]
    shape_all, shape_plain = experiment.run("all").probes["shape"], experiment.run("without colour").probes["shape"]
    if shape_plain < shape_all - EQUAL_WITHIN:
        lines.append(
            f"Look at the shape too: without colour jitter the shape probe fell to **{shape_plain:.0%}** "
            f"(with it: {shape_all:.0%}; untrained encoder: {experiment.random_init['shape']:.0%}). Colour alone "
            "told the twins apart, so the encoder never had to learn shape: the shortcut the SimCLR paper warns of, "
            "and why colour jitter is one of its two essential augmentations."
        )
    if any(r.label == "without crop" for r in experiment.runs):
        lines.append(crop_paragraph(experiment))
    lines.append(
        "The loss only pays for what tells a twin from the negatives. Whatever the augmentations change "
        "between the two views cannot do that, so nothing makes the encoder keep it: choosing augmentations "
        "is choosing what the representation should ignore."
    )
    return "\n\n".join(lines)


def crop_paragraph(experiment: ExperimentResult) -> str:
    """What crop did in this run, attribute by attribute, from the ``crop.*`` claims."""
    sentences, fell = crop_sentences(experiment)
    text = "Crop, without → with: " + "; ".join(sentences) + ". "
    if fell:
        return text + (f"A crop moves and rescales the shape between the two views; here the probe lost "
                       f"{' and '.join(fell)}.")
    return text + ("A crop moves and rescales the shape between the two views, yet no probe fell here: the loss "
                   "does not pay the encoder to keep what a crop changes, but nothing makes it drop it either.")


# ---------------------------------------------------------------------------- experiment 2
BATCH_INTRO = """
### Experiment 2: a large batch means many negatives
The same number of images seen in every run, only the batch size changes (a batch of 16 takes 16 times
as many steps as a batch of 256). A batch of N gives each view 2N - 2 negatives. The SimCLR paper found
bigger batches better (up to 8,192 images); here you measure it on a small encoder and small data.
"""
BATCH_QUESTION = (
    "Before you run: every run sees the same images, only the batch size changes. "
    "Which batch gives the best held-out probe of the main attribute?"
)
BATCH_CHOICES = [
    "The largest: more negatives per step",
    "The smallest: more steps for the same images",
    "About equal",
    "One in between: both ends do worse",
]


def batch_outcome(experiment: ExperimentResult) -> int:
    """Which of ``BATCH_CHOICES`` the sweep supports (index): the best run's batch
    size (a middle one when it beats both ends by more than ``EQUAL_WITHIN``), or
    "about equal" when every run is within ``EQUAL_WITHIN`` of the best."""
    main = experiment.main_attribute
    runs = sorted(experiment.runs, key=lambda r: r.batch_size)
    accs = [r.probes[main] for r in runs]
    if max(accs) - min(accs) <= EQUAL_WITHIN:
        return 2
    best = runs[int(np.argmax(accs))]
    if best.batch_size == runs[-1].batch_size:
        return 0
    if best.batch_size == runs[0].batch_size:
        return 1
    if max(accs) - max(accs[0], accs[-1]) > EQUAL_WITHIN:
        return 3
    return 2 if abs(accs[-1] - accs[0]) <= EQUAL_WITHIN else (0 if accs[-1] > accs[0] else 1)


def reveal_batch(prediction: Optional[str], experiment: ExperimentResult) -> str:
    """The answer to experiment 2, from its measured probes."""
    main = experiment.main_attribute
    runs = sorted(experiment.runs, key=lambda r: r.batch_size)
    answer = BATCH_CHOICES[batch_outcome(experiment)]
    rows = ", ".join(f"batch {r.batch_size} ({r.steps} steps) **{r.probes[main]:.1%}**" for r in runs)
    return (
        f"**Reveal.** {judge(prediction, answer, answer_shown=True)} Held-out {main} probe: {rows}; untrained "
        f"encoder {experiment.random_init[main]:.1%}, raw pixels {experiment.pixels[main]:.1%}. This run says: "
        f"*{answer}* (within {EQUAL_WITHIN:.0%} counts as equal).\n\n"
        "What is measured here is what it is, even where it differs from the paper: at this scale the trade "
        "is real on both sides (a large batch gives each view more negatives, a small one gives more updates "
        "for the same images). One seed is one experiment: change the seed and run again before you trust "
        "a gap of a few points."
    )


def summary_markdown(result: SimCLRResult) -> str:
    """The run in a few lines, every figure from the run."""
    s = result.settings
    main = result.probe(result.main_attribute)
    stopped = f" (**stopped** after {result.steps_done} of {s.steps} steps)" if result.stopped else ""
    agree = result.neighbour_agreement
    return (
        f"**{ENCODER_NAMES[s.encoder]}** on **{s.data}**, augmentations {', '.join(s.augment)}, batch {s.batch_size}, "
        f"τ = {s.tau:g}, {result.steps_done} steps ({result.images_seen} images seen) in **{result.seconds:.1f} s**{stopped}. "
        f"Loss {result.losses[0] if result.losses else float('nan'):.2f} → {result.final_loss:.2f}.\n\n"
        f"Held-out **{main.attribute}** probe: trained **{main.probe_accuracy:.1%}**, untrained "
        f"{main.random_init_accuracy:.1%}, raw pixels {main.pixel_accuracy:.1%} (chance {main.chance:.0%}). "
        f"Nearest neighbours sharing the query's {main.attribute}: trained {agree['trained']:.0%}, untrained "
        f"{agree['random init']:.0%}, pixels {agree['pixels']:.0%}: "
        f"{CLAIMS['neighbours.winner'].words(neighbour_figures(result))}."
    )
