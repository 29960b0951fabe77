"""The real checkpoints side by side: the same photo and the same labels written in five
languages, through the English ``siglip-vit-b-16`` and the multilingual
``siglip-vit-b-16-i18n-256``, each label an independent sigmoid. Where a model cannot be
loaded here (offline, no cache), its row says why instead. No gradio here.
"""
from __future__ import annotations

from playground.models.registry import ModelUnavailableError, UnknownModelError
from playground.science.zero_shot import classify, get_image_text_model

from .languages import LANGUAGE_NAMES, LANGUAGES

MODEL_IDS = ("siglip-vit-b-16", "siglip-vit-b-16-i18n-256")
# Labels for the bundled photos, hand-written in each language (English, German, French, Japanese, Arabic).
PHOTO_LABELS = {
    "en": ("cat", "dog", "rocket", "cup of coffee"),
    "de": ("Katze", "Hund", "Rakete", "Tasse Kaffee"),
    "fr": ("chat", "chien", "fusée", "tasse de café"),
    "ja": ("猫", "犬", "ロケット", "コーヒー"),
    "ar": ("قطة", "كلب", "صاروخ", "فنجان قهوة"),
}


# Published Crossmodal-3600 image retrieval recall@1 per caption language, the sourced reference
# beside the live scores: open_clip's docs/openclip_multilingual_retrieval_results.csv at commit
# 9a3e7d0f199e4b554b6d2e3be7fa2e83062d8c8c, rows "ViT-B-16-SigLIP,webli" and
# "ViT-B-16-SigLIP-i18n-256,webli", columns "crossmodal3600 image_retrieval_recall@1 <lang>".
RETRIEVAL_SOURCE = ("open_clip, docs/openclip_multilingual_retrieval_results.csv at commit 9a3e7d0f "
                    "(Crossmodal-3600, image retrieval recall@1)")
PUBLISHED_RETRIEVAL_R1 = {
    "siglip-vit-b-16": {"en": 0.5147, "de": 0.5722, "fr": 0.5789, "ja": 0.0022, "ar": 0.0},
    "siglip-vit-b-16-i18n-256": {"en": 0.4911, "de": 0.685, "fr": 0.6328, "ja": 0.4319, "ar": 0.4289},
}


def published_table() -> list[dict]:
    """One row per language: each model's published Crossmodal-3600 image retrieval R@1
    (``PUBLISHED_RETRIEVAL_R1``), the sourced reference the live scores stand beside."""
    return [{"language": LANGUAGE_NAMES[lang],
             **{f"{model_id} (published R@1)": PUBLISHED_RETRIEVAL_R1[model_id][lang] for model_id in MODEL_IDS}}
            for lang in LANGUAGES]


def five_language_scores(registry, image, image_name: str = "photo", model_ids=MODEL_IDS,
                         session: str = "") -> list[dict]:
    """Per model: each language's labels scored against ``image`` (sigmoid probabilities,
    label order as in ``PHOTO_LABELS``), or ``{"model", "unavailable": reason}``."""
    rows = []
    for model_id in model_ids:
        try:
            model = get_image_text_model(registry, model_id, session)
        except (ModelUnavailableError, UnknownModelError) as error:
            rows.append({"model": model_id, "unavailable": str(error)})
            continue
        row = {"model": model_id, "scoring": model.scoring, "image": image_name, "languages": {}}
        for lang in LANGUAGES:
            # the bare label, template "{}": with SigLIP's learned negative bias every sigmoid may
            # come out small (the tab's lesson says so next to the table)
            result = classify(model, [image], list(PHOTO_LABELS[lang]), ("{}",), [image_name])
            row["languages"][lang] = {label: round(float(p), 4)
                                      for label, p in zip(result.labels, result.probabilities[0])}
        rows.append(row)
    return rows


def needs_the_hub(registry, model_ids=MODEL_IDS, session: str = "") -> str:
    """Markdown for the tab: empty when every one of ``model_ids`` can be had here, else
    what to do to get the real checkpoints, with each missing model's own reason."""
    missing = []
    for model_id in model_ids:
        if model_id not in registry.specs:
            if model_id not in registry.model_ids(session=session):
                missing.append((model_id, "not in this app's registry"))
            continue
        ok, reason = registry.availability(model_id)
        if not ok:
            missing.append((model_id, reason))
    if not missing:
        return ""
    lines = ["**Not available here.** This part runs the real checkpoints (the multilingual "
             "`siglip-vit-b-16-i18n-256` is `timm/ViT-B-16-SigLIP-i18n-256`, with a 250,000-piece tokenizer). "
             "They come from the Hugging Face Hub: use the hosted Space, start the app with "
             "`playground serve --hub` (or `PLAYGROUND_HUB=1`), or put them in the local Hugging Face cache with "
             "`hf download`. The toys above need none of this."]
    lines += [f"- `{model_id}`: {reason}" for model_id, reason in missing]
    return "\n".join(lines)


def score_table(rows: list[dict]) -> list[dict]:
    """One row per language × label with each scored model's sigmoid probability in its
    own column (models that could not be loaded are left out)."""
    scored = [row for row in rows if "languages" in row]
    table = []
    for lang in LANGUAGES:
        for index, label in enumerate(PHOTO_LABELS[lang]):
            entry = {"language": LANGUAGE_NAMES[lang], "label": label, "English label": PHOTO_LABELS["en"][index]}
            for row in scored:
                entry[row["model"]] = row["languages"][lang][label]
            table.append(entry)
    return table
