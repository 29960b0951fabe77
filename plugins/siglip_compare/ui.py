"""The tab: one photo and labels through a softmax model and a sigmoid model side by
side, their raw logits, both matrices for several photos, and both losses as the
batch grows. It only wires components to ``compute``.

Events use ``preprocess=False`` and check their values themselves: images are read
with ``playground.data.images.load_image`` and model pickers may hold a session's own
model (see the zero-shot tab's ui.py).
"""
from __future__ import annotations

from typing import Optional

import gradio as gr
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.data.images import GALLERY_START, bundled_photos, gallery_photos, load_image, photo_file, source_name
from playground.contract.lab import LabContext
from playground.web.ui import friendly_errors, model_choices, session_id
from playground.science.zero_shot import (
    DEFAULT_LABELS, DEFAULT_TEMPLATE, TEMPLATE_CHOICES, get_image_text_model, parse_labels, resolve_templates,
)
from playground.science.zero_shot_figures import matrix_figure

from .compute import (
    LOSS_CHOICES, LOSS_QUESTION, SCORES_CHOICES, SCORES_QUESTION, bias_and_padding_note, compare, logits_table,
    loss_comparison, pairing_note, pick_pair, reveal_losses, reveal_scores,
)
from .figures import losses_figure, side_by_side_scores

LESSON = """### SigLIP vs CLIP: one softmax over the batch, or one sigmoid per pair
Both models put images and texts in one space and compare them by cosine. They differ in the loss they were trained
with, and it shows in their scores. **CLIP** (left) learned with a softmax: for each image, its caption must beat every
other caption in the batch, so its scores are shares of one whole and always sum to 1. **SigLIP** (right) learned
with a sigmoid: each image–text pair is its own yes/no question, with a learned scale *t* and bias *b*, so each
label's score stands alone: all can be low, several can be high.

**What to look for.** Compare the sums under the two bar charts. Add a label that fits nothing: CLIP must still give
it a share, taken from the others; SigLIP leaves the other scores exactly as they were."""

LOSS_LESSON = """Each model's own training loss, computed on the bundled photos and their captions (pair *i* is photo *i*
with its caption), first on 2 pairs, then 3, ... up to all of them. The dashed line is the loss of a model that
cannot tell the pairs apart."""


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    clip_default, siglip_default, default_note = pick_pair(registry)

    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Row():
        with gr.Column(scale=1):
            image = gr.Image(
                value=photo_file(GALLERY_START[0]),  # a bundled photo preselected: Run works at once
                label="Your photo", sources=["upload", "webcam", "clipboard"], type="filepath", height=300,
            )
            bundled = gr.Dropdown(
                choices=[(f"{p.name}: {p.caption}", p.name) for p in bundled_photos()], value=GALLERY_START[0],
                label="…or a bundled photo",
            )
            labels = gr.Textbox(value=DEFAULT_LABELS, lines=3, label="Labels (comma- or newline-separated)")
            template = gr.Dropdown(
                choices=list(TEMPLATE_CHOICES), value=DEFAULT_TEMPLATE, allow_custom_value=True,
                label="Prompt template",
            )
            with gr.Row():
                clip_model = gr.Dropdown(
                    choices=model_choices(registry, "image-text"), value=clip_default, label="Left: CLIP (softmax)",
                )
                siglip_model = gr.Dropdown(
                    choices=model_choices(registry, "image-text"), value=siglip_default,
                    label="Right: SigLIP (sigmoid)",
                )
            note = gr.Markdown(default_note)
            guess = gr.Radio(list(SCORES_CHOICES), label=SCORES_QUESTION)
            run = gr.Button("Compare", variant="primary")
        with gr.Column(scale=1):
            with gr.Row():
                clip_scores = gr.Label(label="Left model's scores", num_top_classes=10)
                siglip_scores = gr.Label(label="Right model's scores", num_top_classes=10)
            bars = gr.Plot(label="Side by side")
            revealed = gr.Markdown()
            votes = ClassVotes(ctx, "scores", guess, revealed)
    with gr.Accordion("The raw logits: scale × cosine + bias", open=True):
        table = gr.Dataframe(
            headers=["model", "scoring", "label", "cosine", "scale", "bias", "logit", "probability"],
            interactive=False, wrap=True,
        )
        notes = gr.Markdown(bias_and_padding_note())
    with gr.Accordion("Several photos: both matrices", open=False):
        gallery = gr.Gallery(
            value=[(photo_file(name), name) for name in GALLERY_START], label="Photos (drop your own here too)",
            interactive=True, columns=6, height=200, type="filepath", file_types=["image"],
        )
        matrix_run = gr.Button("Score every photo with both models")
        with gr.Row():
            left_matrix = gr.Plot(label="Left model")
            right_matrix = gr.Plot(label="Right model")
    with gr.Accordion("The two losses as the batch grows", open=True):
        gr.Markdown(LOSS_LESSON)
        loss_guess = gr.Radio(list(LOSS_CHOICES), label=LOSS_QUESTION)
        loss_run = gr.Button("Compute both losses", variant="primary")
        loss_plot = gr.Plot(label="Loss against batch size")
        loss_reveal = gr.Markdown()
        loss_votes = ClassVotes(ctx, "losses", loss_guess, loss_reveal)
        loss_table = gr.Dataframe(interactive=False, label="The numbers")
    last = gr.State(None)

    def pickers(left: Optional[str], right: Optional[str], session: str):
        choices = model_choices(registry, "image-text", session)
        ids = [value for _, value in choices]
        left_default, right_default, _ = pick_pair(registry, session)
        left = left if left in ids else left_default
        right = right if right in ids else right_default
        return (
            gr.update(choices=choices, value=left), gr.update(choices=choices, value=right),
            pairing_note(registry, left, right, session),
        )

    def both_models(left: str, right: str, session: str):
        return get_image_text_model(registry, left, session), get_image_text_model(registry, right, session)

    @friendly_errors
    def show_bundled(name: Optional[str]):
        return photo_file(name) if name else gr.skip()

    @friendly_errors
    def about_models(left: Optional[str], right: Optional[str], request: gr.Request):
        return pairing_note(registry, left, right, session_id(request))

    @friendly_errors
    def refresh_models(left: Optional[str], right: Optional[str], request: gr.Request):
        return pickers(left, right, session_id(request))

    @friendly_errors
    def score_both(photo, labels_text: str, template_choice: str, left: str, right: str, request: gr.Request,
                   progress=gr.Progress()):
        label_list = parse_labels(labels_text)
        templates = resolve_templates(template_choice)
        picture = load_image(photo, what="The photo")
        progress(0.1, desc="loading both models")
        left_model, right_model = both_models(left, right, session_id(request))
        progress(0.4, desc="scoring with both models")
        name = source_name(photo, "your photo")
        results = compare(left_model, right_model, [picture], label_list, templates, [name])
        context = getattr(right_model, "context_length", None)
        return dict(results[0].ranked(0)), dict(results[1].ranked(0)), {"results": results, "context": context}

    @friendly_errors
    def draw_both(state, prediction: Optional[str], left: Optional[str], right: Optional[str], request: gr.Request):
        left_update, right_update, about = pickers(left, right, session_id(request))
        if not state:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), left_update, right_update, about
        clip, siglip = state["results"]
        return (
            side_by_side_scores(clip, siglip), reveal_scores(clip, siglip, prediction), logits_table([clip, siglip]),
            bias_and_padding_note(siglip, state["context"]), left_update, right_update, about,
        )

    @friendly_errors
    def score_gallery(items, labels_text: str, template_choice: str, left: str, right: str, request: gr.Request,
                      progress=gr.Progress()):
        label_list = parse_labels(labels_text)
        templates = resolve_templates(template_choice)
        names, pictures = gallery_photos(items)
        progress(0.1, desc="loading both models")
        left_model, right_model = both_models(left, right, session_id(request))
        progress(0.4, desc=f"embedding {len(pictures)} photos with both models")
        clip, siglip = compare(left_model, right_model, pictures, label_list, templates, names)
        return matrix_figure(clip), matrix_figure(siglip)

    @friendly_errors
    def run_losses(left: str, right: str, prediction: Optional[str], request: gr.Request, progress=gr.Progress()):
        progress(0.1, desc="loading both models")
        left_model, right_model = both_models(left, right, session_id(request))
        progress(0.3, desc="embedding the bundled photos and captions")
        clip, siglip = loss_comparison(left_model, right_model)
        table_rows = pd.DataFrame(clip.rows() + siglip.rows())
        return losses_figure(clip, siglip), reveal_losses(clip, siglip, prediction), table_rows

    bundled.change(show_bundled, bundled, image, api_name="siglip_compare_bundled")
    gr.on([clip_model.input, siglip_model.input], about_models, [clip_model, siglip_model], note,
          api_name="siglip_compare_model_info", preprocess=False)
    if ctx.tab is not None:
        ctx.tab.select(refresh_models, [clip_model, siglip_model], [clip_model, siglip_model, note],
                       api_name="siglip_compare_models", preprocess=False)
    votes.after(run.click(
        score_both, [image, labels, template, clip_model, siglip_model], [clip_scores, siglip_scores, last],
        api_name="siglip_compare", preprocess=False,
    ).success(
        draw_both, [last, guess, clip_model, siglip_model],
        [bars, revealed, table, notes, clip_model, siglip_model, note], api_name="siglip_compare_figures",
        preprocess=False,
    ))
    matrix_run.click(
        score_gallery, [gallery, labels, template, clip_model, siglip_model], [left_matrix, right_matrix],
        api_name="siglip_compare_matrix", preprocess=False,
    )
    loss_votes.after(loss_run.click(
        run_losses, [clip_model, siglip_model, loss_guess], [loss_plot, loss_reveal, loss_table],
        api_name="siglip_compare_losses", preprocess=False,
    ))
