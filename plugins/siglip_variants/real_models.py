"""The real checkpoints side by side: the same photo and the same labels written in five
languages, through the English ``siglip-vit-b-16`` and the multilingual
``siglip-vit-b-16-i18n-256``, each label an independent sigmoid. Where a model cannot be
loaded here (offline, no cache), its row says why instead. No gradio here.
"""
from __future__ import annotations

from playground.models.registry import ModelUnavailableError, UnknownModelError
from playground.science.zero_shot import classify, get_image_text_model

from .languages import LANGUAGES

MODEL_IDS = ("siglip-vit-b-16", "siglip-vit-b-16-i18n-256")
# Labels for the bundled photos, hand-written in each language (English, German, French, Japanese, Arabic).
PHOTO_LABELS = {
    "en": ("cat", "dog", "rocket", "cup of coffee"),
    "de": ("Katze", "Hund", "Rakete", "Tasse Kaffee"),
    "fr": ("chat", "chien", "fusée", "tasse de café"),
    "ja": ("猫", "犬", "ロケット", "コーヒー"),
    "ar": ("قطة", "كلب", "صاروخ", "فنجان قهوة"),
}


def five_language_scores(registry, image, image_name: str = "photo", model_ids=MODEL_IDS) -> list[dict]:
    """Per model: each language's labels scored against ``image`` (sigmoid probabilities,
    label order as in ``PHOTO_LABELS``), or ``{"model", "unavailable": reason}``."""
    rows = []
    for model_id in model_ids:
        try:
            model = get_image_text_model(registry, model_id)
        except (ModelUnavailableError, UnknownModelError) as error:
            rows.append({"model": model_id, "unavailable": str(error)})
            continue
        row = {"model": model_id, "scoring": model.scoring, "image": image_name, "languages": {}}
        for lang in LANGUAGES:
            result = classify(model, [image], list(PHOTO_LABELS[lang]), ("{}",), [image_name])
            row["languages"][lang] = {label: round(float(p), 4)
                                      for label, p in zip(result.labels, result.probabilities[0])}
        rows.append(row)
    return rows
