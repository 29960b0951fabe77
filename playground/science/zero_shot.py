"""Zero-shot image classification with an image-text model: what the two image labs
(CLIP zero-shot, SigLIP vs CLIP) share, so neither imports the other.

Labels become prompts ("a photo of a {}."), prompts become text embeddings (cached
per model and prompt by the registry's embedding cache, so a template's label
embeddings are computed once), the image becomes an embedding through the model's
own transform, and the scores are the model's: a softmax over the labels for a
CLIP-like model, an independent sigmoid per label for a SigLIP-like one.

Every function takes a loaded model (any ``ImageTextModel``: a registry model, a
tiny test model, or one a user trained in this session), so the functions work the
same from the tab, the CLI and a notebook. No gradio here.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from playground.models.base import ImageTextModel, l2_normalise
from playground.models.registry import ModelRegistry

DEFAULT_MODEL = "clip-vit-b-32"
DEFAULT_TEMPLATE = "a photo of a {}."
ENSEMBLE = "ensemble of 7 templates"
BARE_LABEL = "{}"
# A small prompt ensemble in the spirit of CLIP's ImageNet evaluation: the same label
# said several ways; the label's embedding is the normalised mean of the prompts'.
ENSEMBLE_TEMPLATES = (
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a close-up photo of the {}.",
    "a photo of the small {}.",
    "a photo of the large {}.",
    "a drawing of a {}.",
    "a bright photo of the {}.",
)
TEMPLATE_CHOICES = (DEFAULT_TEMPLATE, ENSEMBLE, BARE_LABEL)
DEFAULT_LABELS = "cat, coffee cup, rocket, astronaut, flower, temple"

MIN_LABELS = 2
MAX_LABELS = 50
MAX_LABEL_CHARS = 100
MAX_TEMPLATE_CHARS = 200
VIEW_MIN_SIDE = 320  # the ViT's view is enlarged (nearest neighbour) to at least this many pixels


# -- labels and prompts -----------------------------------------------------------
def parse_labels(
    text: str | Sequence[str] | None, min_labels: int = MIN_LABELS, max_labels: int = MAX_LABELS
) -> list[str]:
    """Labels from a comma- or newline-separated string (or a list of strings).

    Each label is stripped and its inner whitespace collapsed; empty entries (a
    trailing comma) are skipped. Raises ``ValueError`` with what to do for: no
    labels, labels of only spaces, fewer than ``min_labels``, more than
    ``max_labels``, a label longer than ``MAX_LABEL_CHARS``, duplicates (compared
    without case).
    """
    if text is None:
        parts: list[str] = []
    elif isinstance(text, str):
        parts = re.split(r"[,\n]", text)
    else:
        parts = [str(t) for t in text]
    labels = [" ".join(p.split()) for p in parts]
    labels = [label for label in labels if label]
    example = f"for example: {DEFAULT_LABELS}"
    if not labels:
        if any(parts) and any(p != "" for p in parts):
            raise ValueError(
                f"The labels box holds only spaces or separators. Type the labels to compare ({example})."
            )
        raise ValueError(f"No labels. Type at least {min_labels} labels, separated by commas or new lines ({example}).")
    if len(labels) > max_labels:
        raise ValueError(
            f"{len(labels)} labels given; the limit is {max_labels}. Keep the candidates you really want to "
            "compare (a softmax over hundreds of labels spreads the probability thin anyway)."
        )
    too_long = [label for label in labels if len(label) > MAX_LABEL_CHARS]
    if too_long:
        raise ValueError(
            f"The label {too_long[0][:40]!r}... is {len(too_long[0])} characters; the limit is {MAX_LABEL_CHARS}. "
            "Use a short name for the class."
        )
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for label in labels:
        first = seen.setdefault(label.lower(), label)
        if first is not label:
            shown = f"{first!r} more than once" if first == label else f"{first!r} and {label!r}"
            if shown not in duplicates:
                duplicates.append(shown)
    if duplicates:
        listed = "; ".join(duplicates)
        raise ValueError(
            f"Duplicate label(s): {listed}. Give each label once (case does not count): with a softmax, two "
            "copies of one label would split its probability between them."
        )
    if len(labels) < min_labels:
        raise ValueError(
            f"Only {len(labels)} label ({labels[0]!r}). Zero-shot classification picks among labels: "
            f"add at least {min_labels - len(labels)} more, separated by commas."
        )
    return labels


def resolve_templates(template: str | None) -> tuple[str, ...]:
    """The prompt templates for a template choice: ``DEFAULT_TEMPLATE`` for none,
    ``ENSEMBLE_TEMPLATES`` for ``ENSEMBLE``, else the one custom template, which
    must contain ``{}`` once (where the label goes)."""
    template = (template or "").strip()
    if not template:
        return (DEFAULT_TEMPLATE,)
    if template == ENSEMBLE:
        return ENSEMBLE_TEMPLATES
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"The template is {len(template)} characters; the limit is {MAX_TEMPLATE_CHARS}.")
    if template.count("{}") != 1:
        raise ValueError(
            f"The template {template!r} must contain {{}} exactly once, where the label goes "
            f"(for example {DEFAULT_TEMPLATE!r}); it contains it {template.count('{}')} times."
        )
    return (template,)


def prompts_for(labels: Sequence[str], templates: Sequence[str]) -> list[str]:
    """Every (label, template) prompt, label-major: label 0 with each template, then label 1, ..."""
    return [t.replace("{}", label) for label in labels for t in templates]


def label_embeddings(model: ImageTextModel, labels: Sequence[str], templates: Sequence[str]) -> np.ndarray:
    """One L2-normalised row per label: the mean of its prompts' embeddings, renormalised.

    Prompts go through ``model.encode_texts``, whose cache keys on (model id, prompt):
    the same labels with the same template are embedded once per process.
    """
    rows = model.encode_texts(prompts_for(labels, templates))
    per_label = rows.reshape(len(labels), len(templates), -1).mean(axis=1)
    return l2_normalise(per_label)


# -- models -----------------------------------------------------------------------
# The one next step when no image-text model can be had here (offline, nothing trained yet).
# Following it works: the tab's model list refreshes when the tab is selected again, and
# pick_default_model then picks the session's own model.
NO_IMAGE_TEXT_MODEL = (
    "No image-text model can be loaded here yet: none is bundled, and downloads from the Hugging Face Hub are off. "
    "Next step: open the Train a CLIP tab and press its Train button with the default settings; when you come "
    "back to this tab, my-clip (your model) is picked in the Model box and this button works."
)


def get_image_text_model(registry: ModelRegistry, model_id: str, session: str = "") -> ImageTextModel:
    """The loaded image-text model ``model_id`` (a shared one or the session's own).

    Raises ``ValueError`` when no model is picked or it is a text-only model,
    ``ModelUnavailableError`` (with the reason) when it cannot be had here.
    """
    if not model_id:  # nothing picked (an API call that left it out): the default for this session
        model_id = pick_default_model(registry, session=session)[0]
    if not model_id:
        raise ValueError(NO_IMAGE_TEXT_MODEL)
    spec = registry.specs.get(model_id)
    if spec is not None and spec.kind != "image-text":
        raise ValueError(f"{model_id!r} is a text-only model; pick an image-text model (CLIP or SigLIP).")
    model = registry.get(model_id, session=session or None)
    if getattr(model, "kind", "") != "image-text" or not hasattr(model, "encode_images"):
        raise ValueError(f"{model_id!r} is not an image-text model; pick a CLIP- or SigLIP-like model.")
    return model


def describe_model(registry: ModelRegistry, model_id: str, session: str = "") -> str:
    """One Markdown line about ``model_id``: what it is, or why it cannot be used here. A
    session model may carry a ``caveat`` (a sentence on what not to ask it), said here too."""
    if not model_id:
        return "No model picked."
    own = registry.session_models(session) if session else {}
    if model_id in own:
        model = own[model_id]
        about = getattr(model, "description", "") or "trained in this session"
        caveat = getattr(model, "caveat", "")  # what the model cannot be asked, in its own words
        return (f"**{model_id}**: yours, trained in this session ({about}); it scores with a {model.scoring}."
                + (f" ⚠ {caveat}" if caveat else ""))
    spec = registry.specs.get(model_id)
    if spec is None:
        return f"**{model_id}** is not a model this app knows (a session model from a tab that has closed?)."
    ok, reason = registry.availability(model_id)
    if ok:
        return f"**{model_id}**: {spec.description or spec.family}."
    return f"⚠ **{model_id}** cannot be used here: {reason}"


def known_scoring(registry: ModelRegistry, model_id: str, session: str = "") -> Optional[str]:
    """"softmax" or "sigmoid" for a model already in memory (a session's own, or a
    loaded shared one); None when finding out would mean loading it."""
    own = registry.session_models(session) if session else {}
    if model_id in own:
        return getattr(own[model_id], "scoring", None)
    if model_id in registry.loaded_ids():
        return getattr(registry.get(model_id), "scoring", None)
    return None


def pick_default_model(
    registry: ModelRegistry, preferred: Sequence[str] = (DEFAULT_MODEL,), session: str = "",
    scoring: Optional[str] = None,
) -> tuple[Optional[str], str]:
    """(the model to preselect, a Markdown note for the tab).

    The first of ``preferred`` that can be had here; else the first available
    image-text model (a session's own models count), preferring one known to
    score with ``scoring`` ("softmax" or "sigmoid"; known from a model in
    memory, else guessed from "siglip" in its id). The note says which
    preferred model is missing, why, and how to get it. ``None`` when no
    image-text model is available.
    """
    for model_id in preferred:
        if model_id in registry.specs and registry.availability(model_id)[0]:
            return model_id, describe_model(registry, model_id)
    candidates = registry.model_ids(kind="image-text", available_only=True, session=session or None)
    if scoring:
        def mismatch(model_id: str) -> bool:
            found = known_scoring(registry, model_id, session)
            if found is None:
                found = "sigmoid" if "siglip" in model_id.lower() else "softmax"
            return found != scoring

        candidates.sort(key=mismatch)
    wanted = preferred[0] if preferred else DEFAULT_MODEL
    if not candidates:
        return None, model_note(registry, None, session, wanted)
    chosen = candidates[0]
    return chosen, model_note(registry, chosen, session, wanted)


def model_note(
    registry: ModelRegistry, model_id: Optional[str], session: str = "", default: str = DEFAULT_MODEL
) -> str:
    """The Markdown note under a model picker: what the picked model is, and, when
    the ``default`` (the real model) cannot be used here, which it is, why, and how
    to get it."""
    if default in registry.specs and registry.availability(default)[0]:
        missing = ""
    elif default in registry.specs:
        missing = describe_model(registry, default)
    else:
        missing = f"**{default}** is not registered here."
    if model_id is None:
        return (
            f"{missing}\n\nNo image-text model can be loaded here. Train one in the *Train a CLIP* tab (it "
            "then appears among the models), or run the playground where the Hugging Face Hub is reachable "
            "(`PLAYGROUND_HUB=1 playground`, or the hosted Space)."
        ).strip()
    about = describe_model(registry, model_id, session)
    own = registry.session_models(session) if session else {}
    if not missing or model_id == default or model_id in own:  # the session's own model works: no Hub warning
        return about
    return f"{missing}\n\nUsing {about}"


# -- scoring ----------------------------------------------------------------------
@dataclass
class ZeroShotResult:
    """Scores of ``images`` against ``labels`` by one model.

    ``cosines``, ``logits`` and ``probabilities`` have shape (images, labels);
    ``logits = logit_scale * cosines (+ logit_bias)``; probabilities are a softmax
    over each row ("softmax") or a sigmoid of each cell ("sigmoid").
    """

    model_id: str
    scoring: str
    logit_scale: float
    logit_bias: Optional[float]
    labels: list[str]
    templates: list[str]
    image_names: list[str]
    cosines: np.ndarray
    logits: np.ndarray
    probabilities: np.ndarray
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    logit_bias_start: Optional[float] = None  # where the bias started training, when the model knows

    def ranked(self, image: int = 0) -> list[tuple[str, float]]:
        """(label, probability) of one image, highest first."""
        row = self.probabilities[image]
        return [(self.labels[j], float(row[j])) for j in np.argsort(-row, kind="stable")]

    def to_dict(self, image: int = 0) -> dict:
        """Plain JSON-able figures for one image (labels sorted by score)."""
        order = np.argsort(-self.probabilities[image], kind="stable")
        return {
            "model": self.model_id,
            "scoring": self.scoring,
            "logit_scale": float(self.logit_scale),
            "logit_bias": None if self.logit_bias is None else float(self.logit_bias),
            "templates": list(self.templates),
            "image": self.image_names[image],
            "top": self.labels[int(order[0])],
            "sum": float(self.probabilities[image].sum()),
            "scores": {self.labels[j]: float(self.probabilities[image, j]) for j in order},
            "logits": {self.labels[j]: float(self.logits[image, j]) for j in order},
            "cosines": {self.labels[j]: float(self.cosines[image, j]) for j in order},
            "seconds": round(float(self.seconds), 4),
        }


def classify(
    model: ImageTextModel,
    images: Sequence[Image.Image],
    labels: Sequence[str],
    templates: Sequence[str] = (DEFAULT_TEMPLATE,),
    image_names: Optional[Sequence[str]] = None,
) -> ZeroShotResult:
    """Score every image against every label with ``model``.

    Args:
        model: any loaded ``ImageTextModel``.
        images: RGB PIL images (``playground.data.images.load_image`` makes them);
            each goes through the model's own transform.
        labels: the class names (``parse_labels`` checks them).
        templates: prompt templates with ``{}`` for the label; several are averaged.
        image_names: names for the rows (default ``image 1``, ``image 2``, ...).
    """
    if not images:
        raise ValueError("No images to score. Upload a photo or pick a bundled one.")
    if not labels:
        raise ValueError("No labels to score against.")
    started = time.perf_counter()
    text_emb = label_embeddings(model, labels, templates)
    image_emb = model.encode_images(list(images))
    cosines = (image_emb @ text_emb.T).astype(np.float32)
    result = ZeroShotResult(
        model_id=model.id,
        scoring=model.scoring,
        logit_scale=float(model.logit_scale),
        logit_bias=None if model.logit_bias is None else float(model.logit_bias),
        labels=list(labels),
        templates=list(templates),
        image_names=list(image_names) if image_names else [f"image {i + 1}" for i in range(len(images))],
        cosines=cosines,
        logits=model.logits(image_emb, text_emb),
        probabilities=model.probabilities(image_emb, text_emb),
        logit_bias_start=getattr(model, "initial_logit_bias", None),
    )
    result.seconds = time.perf_counter() - started
    return result


# -- the ViT's view ---------------------------------------------------------------
@dataclass
class VitView:
    """The preprocessed image, enlarged, with the patch grid drawn over it."""

    pixels: np.ndarray  # H×W×3 uint8
    input_size: int
    patch_size: Optional[int]
    grid: int  # patches per side (0 for a model without patches)
    scale: int  # how much the input was enlarged for display
    preprocessing: str = ""  # how the photo became the square input, if the model says

    def caption(self) -> str:
        if not self.patch_size:
            return (
                f"The model sees a {self.input_size}×{self.input_size} image (shown {self.scale}× larger). "
                "Its image tower is not a ViT, so there is no patch grid."
            )
        return (
            f"The model sees a {self.input_size}×{self.input_size} image (shown {self.scale}× larger), made by "
            f"its own preprocessing{f' ({self.preprocessing})' if self.preprocessing else ''}. The ViT cuts it into {self.grid}×{self.grid} = "
            f"{self.grid * self.grid} patches of {self.patch_size}×{self.patch_size} pixels; each patch becomes "
            "one token, and the image embedding is read from the tokens after the transformer has mixed them."
        )


def draw_patch_grid(view: np.ndarray, patch: Optional[int], min_side: int = VIEW_MIN_SIDE) -> tuple[np.ndarray, int]:
    """``view`` (H×W×3 uint8, the model's square input) enlarged by a whole factor (nearest
    neighbour, so each input pixel stays a crisp square) with a line between every two
    patches of ``patch`` pixels (none when ``patch`` is None); returns (pixels, factor)."""
    side = int(view.shape[0])
    scale = max(1, math.ceil(min_side / max(side, 1)))
    big = Image.fromarray(view).resize((view.shape[1] * scale, side * scale), Image.Resampling.NEAREST)
    if patch:
        overlay = Image.new("RGBA", big.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        step = patch * scale
        width = max(1, scale // 2)
        for k in range(1, side // patch):
            draw.line([(k * step, 0), (k * step, big.size[1])], fill=(255, 230, 0, 200), width=width)
            draw.line([(0, k * step), (big.size[0], k * step)], fill=(255, 230, 0, 200), width=width)
        big = Image.alpha_composite(big.convert("RGBA"), overlay).convert("RGB")
    return np.asarray(big), scale


def vit_view(model: ImageTextModel, image: Image.Image, min_side: int = VIEW_MIN_SIDE) -> VitView:
    """``model.preprocess_view(image)`` enlarged with the patch grid drawn (``draw_patch_grid``)."""
    view = np.asarray(model.preprocess_view(image), dtype=np.uint8)
    side = int(view.shape[0])
    patch = int(model.patch_size) if getattr(model, "patch_size", None) else None
    pixels, scale = draw_patch_grid(view, patch, min_side)
    return VitView(
        pixels=pixels, input_size=side, patch_size=patch, grid=side // patch if patch else 0, scale=scale,
        preprocessing=getattr(model, "preprocessing", ""),
    )


def plain(markdown: str) -> str:
    """A Markdown note as plain text for the terminal."""
    return re.sub(r"[*`⚠]", "", markdown).replace("\n\n", " ").strip()
