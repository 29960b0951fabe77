"""Colour and shape words in five languages, written for this project (not machine
translated at run time): the captions and zero-shot labels of the multilingual toy.

Each language builds the noun phrase "a red circle" its own way: German and French
inflect the colour for the shape's gender, Japanese puts the colour first with no
article, Arabic puts the shape first and the colour after it, agreeing in gender.
"""
from __future__ import annotations

from playground.data.shapes import COLOURS, SHAPES

LANGUAGES = ("en", "de", "fr", "ja", "ar")
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "ja": "Japanese", "ar": "Arabic"}

# German: shape noun and gender (m, n, f); colour stems take the ending of the gender
# after the indefinite article (ein roter Kreis, ein rotes Quadrat, eine rote Raute).
_DE_SHAPES = {"circle": ("Kreis", "m"), "square": ("Quadrat", "n"), "triangle": ("Dreieck", "n"),
              "star": ("Stern", "m"), "diamond": ("Raute", "f"), "cross": ("Kreuz", "n")}
_DE_COLOURS = {"red": "rot", "green": "grün", "blue": "blau", "yellow": "gelb", "purple": "violett",
               "orange": "orangefarben"}
_DE_ARTICLE_ENDING = {"m": ("ein", "er"), "n": ("ein", "es"), "f": ("eine", "e")}

# French: noun, gender, then the colour (masculine, feminine) after the noun.
_FR_SHAPES = {"circle": ("cercle", "m"), "square": ("carré", "m"), "triangle": ("triangle", "m"),
              "star": ("étoile", "f"), "diamond": ("losange", "m"), "cross": ("croix", "f")}
_FR_COLOURS = {"red": ("rouge", "rouge"), "green": ("vert", "verte"), "blue": ("bleu", "bleue"),
               "yellow": ("jaune", "jaune"), "purple": ("violet", "violette"), "orange": ("orange", "orange")}

# Japanese: colour (an adjective or a noun with の) before the shape.
_JA_SHAPES = {"circle": "丸", "square": "四角", "triangle": "三角", "star": "星", "diamond": "ひし形", "cross": "十字"}
_JA_COLOURS = {"red": "赤い", "green": "緑の", "blue": "青い", "yellow": "黄色い", "purple": "紫の", "orange": "オレンジ色の"}

# Arabic: shape noun (gender), then the colour agreeing with it (masculine, feminine).
_AR_SHAPES = {"circle": ("دائرة", "f"), "square": ("مربع", "m"), "triangle": ("مثلث", "m"),
              "star": ("نجمة", "f"), "diamond": ("معين", "m"), "cross": ("صليب", "m")}
_AR_COLOURS = {"red": ("أحمر", "حمراء"), "green": ("أخضر", "خضراء"), "blue": ("أزرق", "زرقاء"),
               "yellow": ("أصفر", "صفراء"), "purple": ("بنفسجي", "بنفسجية"), "orange": ("برتقالي", "برتقالية")}

# A few caption templates per language around the noun phrase.
TEMPLATES = {
    "en": ("{np}", "a photo of {np}", "here is {np}", "{np} on a plain background"),
    "de": ("{np}", "ein Foto: {np}", "hier ist {np}", "{np} auf einfarbigem Hintergrund"),
    "fr": ("{np}", "photo : {np}", "voici {np}", "{np} sur un fond uni"),
    "ja": ("{np}", "{np}の写真", "これは{np}です", "無地の背景に{np}"),
    "ar": ("{np}", "صورة {np}", "هنا {np}", "{np} على خلفية سادة"),
}


def noun_phrase(language: str, colour: str, shape: str) -> str:
    """"a red circle" in ``language`` (one of ``LANGUAGES``)."""
    if colour not in COLOURS or shape not in SHAPES:
        raise ValueError(f"unknown colour or shape: {colour!r}, {shape!r}")
    if language == "en":
        article = "an" if colour[0] in "aeiou" else "a"
        return f"{article} {colour} {shape}"
    if language == "de":
        noun, gender = _DE_SHAPES[shape]
        article, ending = _DE_ARTICLE_ENDING[gender]
        return f"{article} {_DE_COLOURS[colour]}{ending} {noun}"
    if language == "fr":
        noun, gender = _FR_SHAPES[shape]
        masculine, feminine = _FR_COLOURS[colour]
        return f"{'un' if gender == 'm' else 'une'} {noun} {masculine if gender == 'm' else feminine}"
    if language == "ja":
        return f"{_JA_COLOURS[colour]}{_JA_SHAPES[shape]}"
    if language == "ar":
        noun, gender = _AR_SHAPES[shape]
        masculine, feminine = _AR_COLOURS[colour]
        return f"{noun} {masculine if gender == 'm' else feminine}"
    raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}.")


def caption(language: str, colour: str, shape: str, template: int) -> str:
    """One caption: template number ``template`` (any int, wrapped) of ``language`` around the noun phrase."""
    templates = TEMPLATES[language]
    return templates[template % len(templates)].format(np=noun_phrase(language, colour, shape))


def every_text() -> list[str]:
    """Every caption and label this toy can produce, in every language."""
    return [caption(lang, c, s, t) for lang in LANGUAGES for c in COLOURS for s in SHAPES
            for t in range(len(TEMPLATES[lang]))]
