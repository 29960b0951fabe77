"""The lab's words: what it shows, the two predict-then-reveal questions, and the reveals.

Every sentence that states a direction is a claim (``playground.contract.claims``): its
predicate, evaluated on this run's figures, picks which of its two wordings the reveal
uses, so a reveal never says what its own run contradicts. No gradio here.

Sources: Ethayarajh 2019 (contextual token vectors of BERT, ELMo and GPT-2 are anisotropic);
Gao et al. 2019 (representation degeneration: likelihood training pushes the learned word
embeddings into a narrow cone); Gao et al. 2021 (SimCSE: dropout views as positives make
sentence vectors more uniform); Wang & Isola 2020 (alignment and uniformity).
"""
from __future__ import annotations

from typing import Optional

from playground.contract.claims import LOWER, Claims, compare
from playground.contract.verdict import judge

from .options import ARM_NAMES, NLL_NAMES

SOURCES = "Ethayarajh 2019; Gao et al. 2019; Gao et al. 2021; Wang & Isola 2020"
THRESHOLD = 0.5  # the questions' line: unrelated texts with a mean cosine above it sit in one cone
SAME_WITHIN = 0.01  # AUC or probe differences this small are not a direction

INTRO = """
### One encoder, two objectives
Every comparison of a BERT with a sentence encoder changes many things at once: the data, the size, the
pooling, the architecture, *and* the loss. Here only the loss changes. One small BERT-style encoder is built
from one seed, on the bundled MiniLM WordPiece vocabulary (cut to the pieces its training text uses), and
trained on unlabelled text: prose paragraphs of the docstrings of installed Python packages (numpy,
scikit-learn, pandas, scipy), never the texts it is measured on.

1. **NLL** (negative log-likelihood): for some steps it learns to predict hidden pieces of a paragraph
   (BERT's *masked-token* objective) or each next piece from the ones before (*next-token*, −Σ log p(x_t | x_<t)).
2. Then the encoder forks. One copy goes on with **more NLL**; the other with **unsupervised SimCSE**
   (Gao et al. 2021): each paragraph is encoded twice with dropout on, the two views are a positive pair, the
   other paragraphs of the batch are negatives (InfoNCE). That is one recipe for making a sentence encoder
   from a language model; most trained encoders use paired data instead.

Both arms see the same batches in the same order, with the same optimiser and schedule, for the same number of
steps: the test suite checks it. Then each is measured on the labelled four-domain corpus (medical, legal,
poetry, docstrings): mean cosine, same-domain (intra) and different-domain (inter) similarities, the separation
AUC, alignment and uniformity, a linear probe and a 2-D view. The labels are used only to measure.
"""

NLL_QUESTION = (f"Before you train: after NLL training, will unrelated texts (different domains) have a mean "
                f"cosine above {THRESHOLD}?")
CONTRASTIVE_QUESTION = f"And after the contrastive (SimCSE) steps: above {THRESHOLD}?"
CHOICES = [f"Yes, above {THRESHOLD}", f"No, {THRESHOLD} or below"]


def answer(inter_mean: float) -> str:
    """Which of ``CHOICES`` a measured mean cosine of unrelated texts supports."""
    return CHOICES[0] if inter_mean > THRESHOLD else CHOICES[1]


HOLDS, FAILS = "holds", "fails"


def flat_figures(f: dict) -> dict:
    """A run's figures (``{arm: {figure: value}}`` plus ``"baseline"`` and ``"metric"``, as
    ``run_figures`` gives them) under the flat names the claims read and word themselves with:
    ``nll_mean_cosine``, ``contrastive_uniformity``, ``ratio``, ..."""
    flat = {"baseline": f["baseline"], "metric": f.get("metric", "token accuracy"), "same": SAME_WITHIN,
            "threshold": THRESHOLD}
    for arm in ("init", "nll", "contrastive"):
        flat.update({f"{arm}_{k}": v for k, v in f[arm].items() if isinstance(v, float)})
    flat["ratio"] = f["nll"]["token_accuracy"] / max(f["baseline"], 1e-9)
    return flat


def _either(holds: bool) -> str:
    return HOLDS if holds else FAILS


# Worded per run (``CLAIMS`` in the reveal): each names which way this run went.
CLAIMS = Claims()
CLAIMS.declare(
    "nll_learns", lambda f: _either(f["nll_token_accuracy"] >= 2 * f["baseline"]),
    {HOLDS: "The NLL arm learned its task: {metric} **{nll_token_accuracy:.3f}** against {baseline:.3f} for always "
            "guessing the most frequent piece ({ratio:.1f} x).",
     FAILS: "The NLL arm's {metric} is **{nll_token_accuracy:.3f}** against {baseline:.3f} for always guessing the "
            "most frequent piece ({ratio:.1f} x): short of twice the baseline, so it has learned little beyond the "
            "frequent pieces."})
CLAIMS.declare(
    "init_is_a_cone", lambda f: _either(f["init_mean_cosine"] > f["nll_mean_cosine"] > THRESHOLD),
    {HOLDS: "The random initialisation was already a narrow cone (mean cosine **{init_mean_cosine:.2f}**); NLL "
            "training lowered it to **{nll_mean_cosine:.2f}**, still above {threshold}: token prediction narrowed "
            "the cone without removing it. (Gao et al. 2019 find likelihood training *creating* a cone, in the "
            "learned output word embeddings; these are mean-pooled hidden states, a different quantity.)",
     FAILS: "NLL training moved the mean cosine of the random initialisation from {init_mean_cosine:.2f} to "
            "{nll_mean_cosine:.2f}."})
CLAIMS.declare(
    "contrastive_spreads",
    lambda f: _either(f["contrastive_uniformity"] < f["nll_uniformity"]
                      and f["contrastive_mean_cosine"] < f["nll_mean_cosine"]),
    {HOLDS: "SimCSE spread the texts over the sphere: mean cosine {nll_mean_cosine:.2f} → "
            "**{contrastive_mean_cosine:.2f}**, uniformity {nll_uniformity:.2f} → **{contrastive_uniformity:.2f}** "
            "(lower is more uniform).",
     FAILS: "SimCSE did not spread the texts more than NLL did here (mean cosine {nll_mean_cosine:.2f} vs "
            "{contrastive_mean_cosine:.2f}, uniformity {nll_uniformity:.2f} vs {contrastive_uniformity:.2f})."},
    source="Gao et al. 2021; Wang & Isola 2020")
CLAIMS.declare(
    "contrastive_separates_less",
    lambda f: _either(compare(f["contrastive_separation_auc"], f["nll_separation_auc"], SAME_WITHIN) == LOWER),
    {HOLDS: "But it separated the domains *less*: AUC {nll_separation_auc:.3f} → **{contrastive_separation_auc:.3f}**. "
            "Two explanations fit, and this run does not tell them apart: its positives are two dropout views of one "
            "paragraph, which say nothing about which texts belong together; and every negative is a docstring, so "
            "the loss pushes one of the measured domains apart from itself.",
     FAILS: "Its separation of the domains did not fall by more than {same:.2f}: AUC {nll_separation_auc:.3f} → "
            "**{contrastive_separation_auc:.3f}**."})

# Stated in the README as what every seed shows (tests/test_docs_figures.py checks it on the
# stored seeds); the reveal uses ``CLAIMS``, which word themselves either way.
README_CLAIMS = Claims()
README_CLAIMS.declare(
    "nll_beats_baseline", lambda f: _either(f["nll_token_accuracy"] > f["baseline"]),
    {HOLDS: "The NLL arm predicts better than always guessing the most frequent piece ({ratio:.1f} x).",
     FAILS: "The NLL arm predicts no better than always guessing the most frequent piece ({ratio:.1f} x)."})


def _claim(key: str):
    return next(c for c in (*CLAIMS, *README_CLAIMS) if c.id == key)


def holds(key: str, figures: dict) -> bool:
    """Whether claim ``key`` holds on ``figures`` (in ``run_figures``' shape)."""
    return _claim(key).decide(flat_figures(figures)) == HOLDS


def say(key: str, figures: dict) -> str:
    """Claim ``key``'s sentence for ``figures`` (in ``run_figures``' shape), figures filled in."""
    return _claim(key).words(flat_figures(figures))


def run_figures(result) -> dict:
    """The figures the claims and reveals read: final per arm, the init, the baseline."""
    figures = {k: dict(v) for k, v in result.figures().items()}
    figures["baseline"] = result.baseline_accuracy
    figures["metric"] = result.token_metric
    return figures


def _stopped(result) -> str:
    s = result.settings
    return (f"*Stopped after {result.steps_done} of {s.steps + s.more_steps} steps: every arm took the same steps, "
            "but fewer than planned.*\n\n" if result.stopped else "")


def reveal_nll(result, prediction: Optional[str]) -> str:
    """The answer to the first question, from the NLL arm's measured inter-domain cosine."""
    inter = result.arms["nll"].final.geometry.figures["inter_mean"]
    measured = answer(inter)
    return (f"{_stopped(result)}{judge(prediction, measured, answer_shown=True)} After "
            f"{NLL_NAMES[result.settings.nll]} (arm *{ARM_NAMES['nll']}*), texts from different domains have a mean "
            f"cosine of **{inter:.2f}**: *{measured}*.")


def reveal_contrastive(result, prediction: Optional[str]) -> str:
    """The answer to the second question, from the contrastive arm's measured inter-domain cosine."""
    inter = result.arms["contrastive"].final.geometry.figures["inter_mean"]
    measured = answer(inter)
    return (f"{judge(prediction, measured, answer_shown=True)} After the SimCSE steps (arm "
            f"*{ARM_NAMES['contrastive']}*): **{inter:.2f}**: *{measured}*.")


def findings(result) -> str:
    """Markdown: what this run's figures say, claim by claim, and where the toy differs from BERT."""
    s = result.settings
    return "\n\n".join([
        "#### What this run shows",
        " ".join(say(c.id, run_figures(result)) for c in CLAIMS),
        f"Ethayarajh 2019 finds the token vectors of BERT, ELMo and GPT-2 anisotropic in all but the input layer; "
        f"that is a token-level measure and "
        f"this one is over mean-pooled texts, so the figures are not comparable: a toy of {s.hidden} x {s.layers} "
        f"layers trained for {s.steps + s.more_steps} steps shows the direction in one setting, not BERT's figures. "
        f"Sources: {SOURCES}.",
    ])
