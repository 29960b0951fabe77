"""The lab's words: what it shows, the two predict-then-reveal questions, and the reveals.

Reveals are computed from the measured figures, so they say what this run found,
not what a paper says.
"""
from __future__ import annotations

import statistics
from typing import Optional, Sequence, Union

from .compute import LOSS_NAMES, CompareResult, TrainResult
from playground.data.shapes import HELD_OUT
from playground.contract.verdict import judge

INTRO = """
### Train a CLIP from nothing, then a SigLIP beside it
No pretrained weights here: you build the joint space yourself, in about a minute. Each training pair is a
small generated picture (one coloured shape on a plain background) and a caption written for it, in many
wordings: *"a small red circle at the top left"*, *"red round thing, little, upper left"*.

Two towers read the pair. The **image tower** is a small CNN, or a tiny ViT that cuts the 32x32 picture
into 8x8 patches and treats each patch as a token (the pixels inside a patch are embedded together, but nothing
built in says that neighbouring *patches* belong together, as a CNN's sliding filters do; Dosovitskiy et al. 2021.
Here it learns colour quickly but shape much later than the CNN: train both and compare). The **text tower** is the bundled MiniLM, frozen, with a
trainable projection on top (it already knows English), or a bag of words trained from zero (it knows only
the words in the captions). Both end in the same 64-d space, every vector scaled to length 1.

Each step takes a batch of N pairs and scores all N x N image-caption cosines, times a learned scale:
- the **softmax loss (CLIP)** asks each image "which of these N captions is yours?" and each caption
  "which image?": a cross-entropy along every row and every column;
- the **sigmoid loss (SigLIP)** asks N x N separate yes/no questions, one per pair, with a learned bias
  as well, so no pair competes with the rest of its row.

**What to look for.** The snapshot matrices start as noise and turn diagonal: each caption's best image
becomes its own. Six colour x shape pairs ({held}) never appear in training; the model meets "blue" and
"triangle" only in other pairs. Zero-shot accuracy on them tells you whether the space *composed* the two
words, or only memorised pairs it was shown.
""".format(held=", ".join(f"{c} {s}" for c, s in HELD_OUT))

HELDOUT_QUESTION = (
    "Before you train: the model never sees a blue triangle (nor the five other held-out pairs). "
    "Asked to pick among all 36 prompts 'a {colour} {shape}', how will it do on those held-out pictures?"
)
HELDOUT_CHOICES = [
    "About chance (1 in 36): it never saw them",
    "Far above chance, but below the pairs it saw",
    "As well as on the pairs it saw",
]

BATCH_QUESTION = (
    "Before you compare: every run sees the same number of examples, only the batch size changes. "
    "At the smallest batch, which loss holds up better?"
)
BATCH_CHOICES = ["softmax (CLIP)", "sigmoid (SigLIP)", "neither: they end up about equal"]

COMPARE_INTRO = """
### Does the sigmoid loss hold up better at small batches?
The SigLIP paper (Zhai et al. 2023, §4.1) reports that the sigmoid loss beats the softmax loss by a large margin
when the batch is *smaller than 16k*: its small batches are 512 to 16k, trained on billions of examples. This
toy tests a different regime: batches of 8 to 128 and tens of thousands of examples. Whatever it finds, it neither
confirms nor refutes the paper at the paper's scale. Both losses, several batch sizes, the **same number of
examples seen** in every run (a batch of 8 takes 16 times as many steps as a batch of 128), everything else equal;
run several seeds, since one seed moves a run by several points.
In a softmax batch of 8, each row's softmax has only 7 negatives to push against; a sigmoid pair is
judged on its own, whatever else is in the batch. The sigmoid bias starts at -10, the paper's choice for
batches of thousands, where one pair in thousands is a match; at a batch of 8 one pair in 8 is. The
*SigLIP starting bias* field above lets you test whether that matters (log(1/7) ≈ -1.95, the log-odds of one
positive in 8, fits a batch of 8).
"""

REGISTRY_NOTE = """
**Use it elsewhere.** Each run registers the model for your browser session only, as `{model_id}`
({scoring}-scored). Pick it in the CLIP zero-shot or SigLIP vs CLIP tab. It has only ever seen coloured
shapes: download a picture from the gallery above and give it that, with labels like "a red circle".
"""

# Within this many points of accuracy two runs count as "about equal": one held-out image
# is 1/120 of the test set, and a new seed moves a run by a few points.
EQUAL_WITHIN = 0.03


def heldout_outcome(result: TrainResult) -> int:
    """Which of ``HELDOUT_CHOICES`` the measured figures support (index)."""
    if result.heldout_accuracy < 2 * result.chance:
        return 0
    if result.heldout_accuracy >= result.seen_accuracy - EQUAL_WITHIN:
        return 2
    return 1


def reveal_heldout(prediction: Optional[str], result: TrainResult) -> str:
    """The answer to the held-out question, from this run's figures."""
    outcome = HELDOUT_CHOICES[heldout_outcome(result)]
    times = result.heldout_accuracy / result.chance
    verdict = judge(prediction, outcome, answer_shown=True)
    return (
        f"**Reveal.** {verdict} Held-out pairs: **{result.heldout_accuracy:.0%}** ({times:.1f} x chance, "
        f"{result.chance:.1%}); seen pairs: **{result.seen_accuracy:.0%}**. So: *{outcome}*.\n\n"
        f"On the held-out pictures the colour was named right {result.heldout_colour_accuracy:.0%} of the time and "
        f"the shape {result.heldout_shape_accuracy:.0%}: colour is learned first, shape later (train longer and "
        f"watch the second number climb). With colour words that no caption used (\"crimson\", \"navy\", ...) "
        f"the seen pictures were named right {result.unseen_words_accuracy:.0%} of the time: "
        + ("MiniLM brought those words with it." if result.settings.text_tower == "minilm"
           else "a bag of words maps an unknown word to one shared vector, so it cannot use them; try the MiniLM tower.")
    )


PAPER_REGIME = ("the SigLIP paper's small batches are 512 to 16k, after billions of examples (Zhai et al. 2023, "
                "§4.1)")
Compares = Union[CompareResult, Sequence[CompareResult]]


def _as_list(compare: Compares) -> list[CompareResult]:
    return [compare] if isinstance(compare, CompareResult) else list(compare)


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation; 0 for a single value)."""
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def accuracies(compares: Compares, loss: str, batch_size: int) -> list[float]:
    """Held-out accuracy of ``loss`` at ``batch_size``, one per seed."""
    return [c.accuracy(loss, batch_size) for c in _as_list(compares)]


def batch_outcome(compare: Compares) -> Optional[int]:
    """Which of ``BATCH_CHOICES`` the comparison supports at its smallest batch (index), or None.
    With several seeds the mean gap decides, and a gap within the seeds' own spread
    (sample standard deviation of the gap) counts as equal."""
    compares = _as_list(compare)
    sizes = sorted({r.batch_size for c in compares for r in c.rows})
    losses = {r.loss for c in compares for r in c.rows}
    if not compares or not sizes or losses != {"softmax", "sigmoid"}:
        return None
    small = sizes[0]
    gaps = [a - b for a, b in zip(accuracies(compares, "sigmoid", small), accuracies(compares, "softmax", small))]
    mean, sd = spread(gaps)
    if abs(mean) <= max(EQUAL_WITHIN, sd):
        return 2
    return 1 if mean > 0 else 0


def _cell(values: list[float]) -> str:
    mean, sd = spread(values)
    if len(values) == 1:
        return f"**{mean:.0%}**"
    return f"**{mean:.0%} ± {sd:.0%}** (range {min(values):.0%}–{max(values):.0%})"


def reveal_batch(prediction: Optional[str], compare: Compares) -> str:
    """The answer to the batch-size question, from this comparison's figures (one
    ``CompareResult`` per seed): mean ± sample standard deviation over seeds."""
    compares = _as_list(compare)
    outcome = batch_outcome(compares)
    if outcome is None:
        return "Compare both losses to answer the question."
    sizes = sorted({r.batch_size for c in compares for r in c.rows})
    small, large = sizes[0], sizes[-1]
    n = len(compares)
    lines = [
        f"- {LOSS_NAMES[loss]}: batch {small} → {_cell(accuracies(compares, loss, small))}, "
        f"batch {large} → {_cell(accuracies(compares, loss, large))}"
        for loss in ("softmax", "sigmoid")
    ]
    gaps = [a - b for a, b in zip(accuracies(compares, "sigmoid", small), accuracies(compares, "softmax", small))]
    gap_mean, gap_sd = spread(gaps)
    answer = BATCH_CHOICES[outcome]
    verdict = judge(prediction, answer, answer_shown=True)
    seeds = (f"{n} seeds (mean ± sample standard deviation)" if n > 1 else
             "one seed: a second seed can move a run by several points, so run more before you trust a small gap")
    band = (f"within {EQUAL_WITHIN:.0%}" + (f" or the seeds' spread of the gap ({gap_sd:.0%})" if n > 1 else "")
            + " counts as equal")
    return (
        f"**Reveal.** Held-out accuracy, same {compares[0].examples} examples per run, {seeds}:\n" + "\n".join(lines)
        + f"\n\n{verdict} At batch {small}, sigmoid minus softmax: {gap_mean:+.1%}"
        + (f" ± {gap_sd:.1%}" if n > 1 else "") + f". This comparison says: *{answer}* ({band}).\n\n"
        f"Regime tested: batches {small} to {large}, {compares[0].examples} examples per run; {PAPER_REGIME}. "
        "A toy at this scale does not test, let alone refute, the paper's claim; it shows what the two losses do here."
    )
