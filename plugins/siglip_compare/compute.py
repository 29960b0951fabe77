"""SigLIP against CLIP: the pure part.

The same images and labels go through a softmax model (CLIP) and a sigmoid model
(SigLIP); the scores, the raw logits with each model's scale and bias, and each
model's own training loss on bundled photo–caption pairs as the batch grows.
Scoring reuses the zero-shot lab's compute; losses come from ``playground.science.losses``.
Every function takes loaded ``ImageTextModel``s. No gradio here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from playground.data.images import Photo, bundled_photos
from playground.models.lazy import F, torch
from playground.science.losses import clip_loss, siglip_loss
from playground.models.base import ImageTextModel
from playground.models.registry import ModelRegistry
from playground.contract.verdict import judge
from playground.science.zero_shot import (
    DEFAULT_TEMPLATE, ZeroShotResult, classify, describe_model, known_scoring, model_note, pick_default_model,
)

from .claims import CLAIMS, chance_figures

DEFAULT_CLIP = "clip-vit-b-32"
DEFAULT_SIGLIP = "siglip-vit-b-16"
MIN_BATCH = 2


# -- the two models -------------------------------------------------------------------
def pick_pair(registry: ModelRegistry, session: str = "") -> tuple[Optional[str], Optional[str], str]:
    """(softmax model id, sigmoid model id, a Markdown note) to preselect: the real
    CLIP and SigLIP where they can be had, else the best stand-ins available here."""
    clip_id, _ = pick_default_model(registry, (DEFAULT_CLIP,), session, scoring="softmax")
    siglip_id, _ = pick_default_model(registry, (DEFAULT_SIGLIP,), session, scoring="sigmoid")
    return clip_id, siglip_id, pairing_note(registry, clip_id, siglip_id, session)


def pairing_note(registry: ModelRegistry, clip_id: Optional[str], siglip_id: Optional[str], session: str = "") -> str:
    """Both pickers' models described (and the real models, where missing here, with
    the reason), with a warning when the two score alike."""
    if clip_id is None and siglip_id is None:  # say once that nothing can be loaded
        missing = describe_model(registry, DEFAULT_SIGLIP) if DEFAULT_SIGLIP in registry.specs else ""
        return f"{missing}\n\n{model_note(registry, None, session, DEFAULT_CLIP)}".strip()
    lines = [
        f"Left: {model_note(registry, clip_id, session, DEFAULT_CLIP)}",
        f"Right: {model_note(registry, siglip_id, session, DEFAULT_SIGLIP)}",
    ]
    left = known_scoring(registry, clip_id, session) if clip_id else None
    right = known_scoring(registry, siglip_id, session) if siglip_id else None
    if left and right and left == right:
        lines.append(f"⚠ Both models score with a **{left}**: pick a model of the other kind to see the contrast.")
    return "\n\n".join(lines)


def compare(
    clip_model: ImageTextModel,
    siglip_model: ImageTextModel,
    images: Sequence,
    labels: Sequence[str],
    templates: Sequence[str] = (DEFAULT_TEMPLATE,),
    image_names: Optional[Sequence[str]] = None,
) -> tuple[ZeroShotResult, ZeroShotResult]:
    """The same images and labels scored by both models (each with its own transform,
    its own prompt embeddings, its own scale and bias). On ZeroGPU each model's
    encoding goes through its own ``@gpu`` call (see ``playground.models.gpu``)."""
    return (
        classify(clip_model, images, labels, templates, image_names),
        classify(siglip_model, images, labels, templates, image_names),
    )


def logits_table(results: Sequence[ZeroShotResult], image: int = 0) -> pd.DataFrame:
    """One row per model and label: cosine, scale, bias, logit = scale·cos + bias, probability."""
    rows = []
    for result in results:
        for j, label in enumerate(result.labels):
            rows.append({
                "model": result.model_id,
                "scoring": result.scoring,
                "label": label,
                "cosine": _sig(result.cosines[image, j]),
                "scale": _sig(result.logit_scale),
                "bias": None if result.logit_bias is None else _sig(result.logit_bias),
                "logit": _sig(result.logits[image, j]),
                "probability": _sig(result.probabilities[image, j]),
            })
    return pd.DataFrame(rows)


def _sig(x) -> float:
    """Four significant digits (a sigmoid score of 2e-5 must not print as 0)."""
    return float(f"{float(x):.4g}")


def sigmoid_threshold(logit_scale: float, logit_bias: Optional[float]) -> Optional[float]:
    """The cosine above which a sigmoid model says "yes" (p > 0.5): ``t·cos + b > 0``,
    so ``cos > −b/t``. None for a model without a bias."""
    if logit_bias is None or not logit_scale:
        return None
    return -float(logit_bias) / float(logit_scale)


def bias_and_padding_note(siglip: Optional[ZeroShotResult] = None, context_length: Optional[int] = None) -> str:
    """The lesson's note on SigLIP's bias and its fixed-length text, with the numbers
    of the model on the right once a comparison has run."""
    threshold = None if siglip is None else sigmoid_threshold(siglip.logit_scale, siglip.logit_bias)
    if siglip is None:
        live = "Run a comparison to see where that bar sits for the model on the right."
    elif threshold is None:
        live = (
            f"**{siglip.model_id}** has no bias: it scores with a {siglip.scoring}, so this part of the "
            "comparison needs a sigmoid model on the right."
        )
    else:
        reach = (
            "no label can pass it (a cosine is at most 1): every score stays below 50%"
            if threshold >= 1 else f"a label scores above 50% only if its cosine with the photo exceeds {threshold:.3f}"
        )
        live = (
            f"For **{siglip.model_id}**: t = {siglip.logit_scale:.3f}, b = {siglip.logit_bias:.3f}, so "
            f"t·cos + b > 0 needs cos > −b/t = {threshold:.3f}; {reach}."
        )
        if siglip.logit_bias_start is not None:  # a model trained here: say how far its bias moved
            live += (f" It started training at b = {siglip.logit_bias_start:.3f}: its bias has moved by "
                     f"{siglip.logit_bias - siglip.logit_bias_start:+.3f} since.")
    padded = (
        f" This model pads every prompt to **{context_length} tokens**."
        if context_length else ""
    )
    return f"""#### Why SigLIP has a bias
In a batch of N image–text pairs, N pairs match and N² − N do not. SigLIP asks one yes/no question per pair, so
almost every question has the answer *no*. With a bias b of about −10 at the start of training, the model answers
*no* to everything from the first step, which is already right for nearly all pairs; the gradient then goes into
lifting the few true pairs instead of fighting an avalanche of negatives. After training the bias is the bar a
pair must clear: the logit is t·cos + b, and the probability passes 50% only when that is positive. {live}
CLIP needs no bias: a softmax over the labels does not change when every logit moves by the same amount.

#### Why SigLIP's text is padded to a fixed length
SigLIP's text tower was trained on captions always padded to the same length with a pad token, with no mask
hiding the padding, and its text embedding is read at the **last position** of that sequence. For a short label
the last position is a pad token whose state depends on everything before it, so the padding is part of every
embedding the model learned. Pad to another length (for example only to the longest prompt in the batch, the
default of many tokenizers) and the last position holds a different token: the embedding changes and the scores
drift, even for the same label. So always pad to the fixed length: open_clip's SigLIP tokenizer does it by
itself; with `transformers`, pass `padding="max_length"`. CLIP reads its embedding at the end-of-text token under
a causal mask, so what comes after it (padding) cannot change it.{padded}"""


# -- predict, then reveal -------------------------------------------------------------
SCORES_QUESTION = "Before you run: will the SigLIP scores for your labels add up to 1, like CLIP's?"
SCORES_CHOICES = (
    "Yes: both models give a probability distribution over the labels",
    "Not necessarily: each SigLIP score is its own yes/no probability",
)


def reveal_scores(clip: ZeroShotResult, siglip: ZeroShotResult, guess: Optional[str]) -> str:
    left, right = float(clip.probabilities[0].sum()), float(siglip.probabilities[0].sum())
    facts = (
        f"**{clip.model_id}** ({clip.scoring}): the scores sum to **{left:.3f}**. "
        f"**{siglip.model_id}** ({siglip.scoring}): they sum to **{right:.3f}**. "
    )
    if siglip.scoring == "sigmoid":
        facts += (
            "A sigmoid scores each label on its own, so adding a label never lowers another label's score, and "
            "every label can be near 0 (nothing fits) or several near 1 (several fit)."
        )
    return judge(guess, SCORES_CHOICES[1] if siglip.scoring == "sigmoid" else SCORES_CHOICES[0]) + f" {facts}"


LOSS_QUESTION = "Before you run: as the batch grows from 2 to 13 pairs, what happens to the CLIP loss of a fixed model?"
LOSS_CHOICES = (
    "It grows: every new pair adds a competitor to each softmax",
    "It stays level: the loss is an average over pairs",
    "It falls: more pairs give more signal",
)
# A change of the CLIP loss under this share of chance's own rise (log N_last − log N_first)
# counts as level: a model that already separates every pair sits near 0 at every N.
LEVEL_SHARE = 0.05


def loss_outcome(clip: "BatchLosses") -> int:
    """Which of ``LOSS_CHOICES`` the CLIP loss supports (index): grows, level or falls."""
    band = LEVEL_SHARE * (clip.chance[-1] - clip.chance[0])
    change = clip.loss[-1] - clip.loss[0]
    return 0 if change > band else 2 if change < -band else 1


# -- losses as the batch grows --------------------------------------------------------
@dataclass
class BatchLosses:
    """One model's own training loss on the first n bundled pairs, for each n.

    ``loss``: the CLIP loss (softmax models) or the SigLIP loss (sigmoid models)
    with the model's own scale (and bias). ``chance``: the same loss when every
    cosine is equal (CLIP: log n; SigLIP: −log σ(b) − (n−1)·log σ(−b)).
    ``accuracy``: share of images whose own caption has the highest cosine.
    """

    model_id: str
    scoring: str
    loss_name: str
    sizes: list[int]
    loss: list[float]
    chance: list[float]
    accuracy: list[float]

    def rows(self) -> list[dict]:
        return [
            {"model": self.model_id, "loss_name": self.loss_name, "batch": n, "loss": round(l, 4),
             "chance": round(c, 4), "accuracy": round(a, 4)}
            for n, l, c, a in zip(self.sizes, self.loss, self.chance, self.accuracy)
        ]


def batch_sizes(n_pairs: int, smallest: int = MIN_BATCH) -> list[int]:
    if n_pairs < smallest:
        raise ValueError(f"Need at least {smallest} image–caption pairs to grow a batch; got {n_pairs}.")
    return list(range(smallest, n_pairs + 1))


def pair_embeddings(model: ImageTextModel, photos: Sequence[Photo]) -> tuple[np.ndarray, np.ndarray]:
    """Image and caption embeddings of ``photos`` (row i of each is a matching pair)."""
    return model.encode_images([p.image() for p in photos]), model.encode_texts([p.caption for p in photos])


def losses_as_batch_grows(
    model: ImageTextModel, image_emb: np.ndarray, text_emb: np.ndarray, sizes: Sequence[int]
) -> BatchLosses:
    """The model's own loss on the first n pairs, for each n in ``sizes``."""
    images = torch.from_numpy(np.asarray(image_emb, dtype=np.float32))
    texts = torch.from_numpy(np.asarray(text_emb, dtype=np.float32))
    scale = float(model.logit_scale)
    sigmoid = model.scoring == "sigmoid"
    bias = float(model.logit_bias) if model.logit_bias is not None else 0.0
    losses, chances, accuracies = [], [], []
    with torch.no_grad():
        for n in sizes:
            i, t = images[:n], texts[:n]
            if sigmoid:
                losses.append(float(siglip_loss(i, t, scale, bias)))
                b = torch.tensor(bias)
                chances.append(float(-F.logsigmoid(b) - (n - 1) * F.logsigmoid(-b)))
            else:
                losses.append(float(clip_loss(i, t, scale)))
                chances.append(math.log(n))
            cos = F.normalize(i, dim=-1) @ F.normalize(t, dim=-1).T
            accuracies.append(float((cos.argmax(dim=1) == torch.arange(n)).float().mean()))
    return BatchLosses(
        model_id=model.id, scoring=model.scoring, loss_name="SigLIP loss" if sigmoid else "CLIP loss",
        sizes=list(sizes), loss=losses, chance=chances, accuracy=accuracies,
    )


def loss_comparison(
    clip_model: ImageTextModel, siglip_model: ImageTextModel, photos: Optional[Sequence[Photo]] = None
) -> tuple[BatchLosses, BatchLosses]:
    """Both models' own losses on the bundled photo–caption pairs (in gallery
    order) as the batch grows from 2 pairs to all of them."""
    photos = list(photos) if photos is not None else bundled_photos()
    sizes = batch_sizes(len(photos))
    return tuple(
        losses_as_batch_grows(model, *pair_embeddings(model, photos), sizes) for model in (clip_model, siglip_model)
    )


def reveal_losses(clip: BatchLosses, siglip: BatchLosses, guess: Optional[str]) -> str:
    """The answer to the loss question, with each model's loss against chance, from the run."""
    first, last = clip.sizes[0], clip.sizes[-1]
    against = CLAIMS["loss.against_chance"]
    facts = (
        f"**{clip.model_id}**'s {clip.loss_name} went from {clip.loss[0]:.3f} (N={first}) to {clip.loss[-1]:.3f} "
        f"(N={last}); a model that cannot tell the pairs apart scores log N, from {clip.chance[0]:.3f} to "
        f"{clip.chance[-1]:.3f}. Each image's softmax runs over every caption in the batch, so each added pair "
        "is one more competitor for every image, and log N rises with N by definition: compare the loss with "
        f"log N, not with the smaller batch. **{siglip.model_id}**'s {siglip.loss_name} went from "
        f"{siglip.loss[0]:.3f} to {siglip.loss[-1]:.3f}: every pair is its own yes/no question, so a bigger batch "
        "only adds more (mostly easy) negatives, and no pair's term depends on the others. "
        f"{against.words(chance_figures(clip))}. {against.words(chance_figures(siglip))}."
    )
    return judge(guess, LOSS_CHOICES[loss_outcome(clip)]) + f" {facts}"
