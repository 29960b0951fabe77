"""The tab: a photo and labels in, sorted scores, the ViT's view and an image × label
matrix out. It only wires components to the shared scoring (``playground.science.zero_shot``)
and to this lab's question and reveal (``compute``).

Events use ``preprocess=False``: an image handler gets the uploaded file's path and
reads it with ``playground.data.images.load_image``, so a file that is not an image, a
corrupt one or a decompression bomb gets a clear message instead of failing inside
Gradio's own image decoding; and a model picker may hold a session's own model (one
trained in the train_clip tab) that Gradio's choice check would otherwise refuse. The
handlers check every value themselves.
"""
from __future__ import annotations

from typing import Optional

import gradio as gr

from playground.classroom.ui import ClassVotes
from playground.data.images import GALLERY_START, bundled_photos, gallery_photos, load_image, photo_file, source_name
from playground.contract.lab import LabContext
from playground.web.result_cache import data_hash
from playground.web.ui import friendly_errors, model_choices, session_id
from playground.science.zero_shot import (
    DEFAULT_LABELS, DEFAULT_TEMPLATE, TEMPLATE_CHOICES, classify, get_image_text_model, model_note, parse_labels,
    pick_default_model, resolve_templates, vit_view,
)
from .compute import PREDICT_CHOICES, PREDICT_QUESTION, reveal
from playground.science.zero_shot_figures import matrix_figure, scores_figure


LESSON = """### Zero-shot: classes written in words
CLIP was trained on image–caption pairs with one goal: an image and its own caption should land close together in a
shared space, closer than the image and any other caption in the batch (a symmetric InfoNCE loss). It never saw your
labels as classes. To classify, each label is written into a sentence (*"a photo of a {}."*), the sentences and the
photo are embedded into that space, and the cosine between the photo and each sentence, times the model's learned
scale, is a logit. A softmax over **your** labels turns the logits into probabilities.

**What to look for.** The scores depend on which labels you offer: remove one and every other probability moves.
A label that fits nothing still gets a share. Try the template ensemble (several wordings of each label, averaged)
and a bare label without a sentence around it. On the right, the ViT's view: the small square the model really sees,
cut into the patches that become its tokens."""

MATRIX_LESSON = """Several photos against the same labels at once. Each row is one photo; with a softmax model every row
sums to 1 (Σ on the right). Drop your own photos on the gallery, or remove some."""


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    default_id, default_note = pick_default_model(registry)
    photos = bundled_photos()

    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Row():
        with gr.Column(scale=1):
            image = gr.Image(
                value=photo_file(GALLERY_START[0]),  # a bundled photo preselected: Run works at once
                label="Your photo", sources=["upload", "webcam", "clipboard"], type="filepath", height=320,
            )
            bundled = gr.Dropdown(
                choices=[(f"{p.name}: {p.caption}", p.name) for p in photos], value=GALLERY_START[0],
                label="…or a bundled photo", info="real photos shipped with scikit-image and scikit-learn",
            )
            labels = gr.Textbox(value=DEFAULT_LABELS, lines=3, label="Labels (comma- or newline-separated)")
            template = gr.Dropdown(
                choices=list(TEMPLATE_CHOICES), value=DEFAULT_TEMPLATE, allow_custom_value=True,
                label="Prompt template", info="{} is where the label goes; pick the ensemble or type your own",
            )
            model = gr.Dropdown(
                choices=model_choices(registry, "image-text"), value=default_id, label="Model",
            )
            note = gr.Markdown(default_note)
            guess = gr.Radio(list(PREDICT_CHOICES), label=PREDICT_QUESTION)
            run = gr.Button("Classify", variant="primary")
        with gr.Column(scale=1):
            scores = gr.Label(label="Scores", num_top_classes=10)
            bar = gr.Plot(label="All labels, sorted")
            revealed = gr.Markdown()
            votes = ClassVotes(ctx, "run", guess, revealed)
            view = gr.Image(label="What the ViT sees", interactive=False, type="numpy", height=360)
            view_caption = gr.Markdown()
    with gr.Accordion("Several photos at once: the image × label matrix", open=True):
        gr.Markdown(MATRIX_LESSON)
        gallery = gr.Gallery(
            value=[(photo_file(name), name) for name in GALLERY_START], label="Photos (drop your own here too)",
            interactive=True, columns=6, height=220, type="filepath", file_types=["image"],
        )
        matrix_run = gr.Button("Score every photo against the labels")
        heatmap = gr.Plot(label="Image × label")
        matrix_info = gr.Markdown()
    last = gr.State(None)

    def refreshed_picker(current: Optional[str], session: str):
        choices = model_choices(registry, "image-text", session)
        ids = [value for _, value in choices]
        value = current if current in ids else pick_default_model(registry, session=session)[0]
        return gr.update(choices=choices, value=value), value

    @friendly_errors
    def show_bundled(name: Optional[str]):
        return photo_file(name) if name else gr.skip()

    @friendly_errors
    def about_model(model_id: Optional[str], request: gr.Request):
        return model_note(registry, model_id or None, session_id(request))

    @friendly_errors
    def refresh_models(current: Optional[str], request: gr.Request):
        session = session_id(request)
        update, value = refreshed_picker(current, session)
        return update, model_note(registry, value, session)

    @friendly_errors
    def score_photo(photo, labels_text: str, template_choice: str, model_id: str, request: gr.Request,
                    progress=gr.Progress()):
        label_list = parse_labels(labels_text)
        templates = resolve_templates(template_choice)
        picture = load_image(photo, what="The photo")
        session, name = session_id(request), source_name(photo, "your photo")

        def embed_and_score():
            progress(0.1, desc=f"loading {model_id}")
            model = get_image_text_model(registry, model_id, session)
            progress(0.5, desc="embedding the photo and the labels")
            return classify(model, [picture], label_list, templates, [name])

        result = ctx.shared_run(embed_and_score, [model_id], session, data_hash(picture.tobytes()), picture.size,
                                picture.mode, label_list, templates, name)
        return dict(result.ranked(0)), {"result": result, "image": picture}

    @friendly_errors
    def draw_photo(state, prediction: Optional[str], current: Optional[str], request: gr.Request):
        session = session_id(request)
        update, value = refreshed_picker(current, session)
        if not state:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), update, model_note(registry, value, session)
        result = state["result"]
        model = get_image_text_model(registry, result.model_id, session)
        seen = vit_view(model, state["image"])
        return (
            scores_figure(result), seen.pixels, seen.caption(), reveal(result, prediction), update,
            model_note(registry, value, session),
        )

    @friendly_errors
    def score_gallery(items, labels_text: str, template_choice: str, model_id: str, request: gr.Request,
                      progress=gr.Progress()):
        label_list = parse_labels(labels_text)
        templates = resolve_templates(template_choice)
        names, pictures = gallery_photos(items)
        progress(0.1, desc=f"loading {model_id}")
        model = get_image_text_model(registry, model_id, session_id(request))
        progress(0.5, desc=f"embedding {len(pictures)} photos")
        result = classify(model, pictures, label_list, templates, names)
        sums = result.probabilities.sum(axis=1)
        info = (
            f"{len(pictures)} photos × {len(label_list)} labels with **{result.model_id}** "
            f"({result.scoring}); row sums from {sums.min():.3f} to {sums.max():.3f}; {result.seconds:.2f} s."
        )
        return matrix_figure(result), info

    bundled.change(show_bundled, bundled, image, api_name="clip_zero_shot_bundled")
    model.input(about_model, model, note, api_name="clip_zero_shot_model_info", preprocess=False)
    if ctx.tab is not None:
        ctx.tab.select(
            refresh_models, model, [model, note], api_name="clip_zero_shot_models", preprocess=False,
        )
    votes.after(run.click(
        score_photo, [image, labels, template, model], [scores, last], api_name="clip_zero_shot", preprocess=False,
    ).success(
        draw_photo, [last, guess, model], [bar, view, view_caption, revealed, model, note],
        api_name="clip_zero_shot_figures", preprocess=False,
    ))
    matrix_run.click(
        score_gallery, [gallery, labels, template, model], [heatmap, matrix_info],
        api_name="clip_zero_shot_matrix", preprocess=False,
    )
