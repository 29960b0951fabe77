"""The SigLIP-* tab. It only wires components to the compute modules."""
from __future__ import annotations

from typing import Optional

import gradio as gr
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.contract.lab import LabContext
from playground.data.images import load_image, photo_file, source_name
from playground.web.ui import first_available, friendly_errors, model_choices, session_id

from .figures import detail_figure, device_cost_figure, multilingual_figure, resolution_figure
from .resolution import RESOLUTION_IDS, photo_with_grid
from .real_models import MODEL_IDS, RETRIEVAL_SOURCE, five_language_scores, needs_the_hub, published_table, score_table
from .scaling import CHOICES, QUESTION, agreement, cost_rows, device_costs, reveal

LESSON = """### SigLIP-*: what the sigmoid variants bring
**Why the sigmoid loss scales.** Training on a batch of B image–text pairs spread over k devices, each device
embeds its own B/k pairs. The softmax (CLIP) loss needs, for every image, a normaliser over *every* text in the
batch, so in the standard implementation each device first gathers every embedding (B × d of each) and builds its
full B/k × B rows of logits.
The sigmoid (SigLIP) loss is a plain sum of independent per-pair terms, so it can be computed chunk by chunk: each
device scores its images against the text chunk it holds, passes that chunk to its neighbour around a ring, and
after k steps every image has met every text (Zhai et al. 2023, *Sigmoid Loss for Language Image Pre-Training*,
section 3.3). Both are computed here exactly, on simulated devices; the figures count the bytes of the tensors the
loss code creates on each device."""

MULTILINGUAL_LESSON = """**Multilingual alignment (a toy trained here).** A tiny dual encoder learns coloured shapes from captions
written in English only, or in English, German, French, Japanese and Arabic mixed (the same steps), with a text tower
that reads either the English WordPiece of MiniLM or single characters of all five scripts. Then it labels fresh
pictures with the 36 colour × shape labels in each language. The table under the chart shows one label cut into each
tokenizer's pieces: what the text tower can tell apart."""

RESOLUTION_LESSON = """**Resolution.** ViT-B-16-SigLIP cuts the image into 16-pixel patches at every resolution, so 224 px gives
14 × 14 = 196 tokens and 512 px gives 32 × 32 = 1024. Each resolution's image tower is built here with the real
shapes (random weights: the arithmetic does not depend on them) and one image is timed through it on this machine.
The ImageNet zero-shot accuracy beside each is the published figure (open_clip's results table), not measured here."""

GRID_LESSON = """**The patch grid.** Pick a resolution: the photo is resized to that input size the way the checkpoint's own
preprocessing does, and the grid is drawn from the patch size read from the image tower. The patches stay 16 pixels,
so a larger input cuts the same photo into more patches and keeps more of its pixels. What decides whether a small
detail survives is the resize, not how many patches it covers: the toy below shows it."""

DETAIL_LESSON = """**A toy where a small detail decides the label (trained here, seconds).** Coloured shapes with a two-pixel
mark: red left of blue, or blue left of red. A tiny patch model learns it at 16 px and at 32 px, the same steps, a
fresh model with the same architecture and initial weights per size. A larger input keeps more pixels of the photo.
What decides whether a small detail survives is the resize, not how many patches it covers: in the toy the mark sits
inside one patch at both sizes. The 16-px pictures are shrunk by averaging 2 × 2 blocks (a box filter): predict which
size can learn the label."""

REAL_LESSON = """**The real checkpoints: one photo, labels in five languages.** The same photo is scored against the
same four labels hand-written in English, German, French, Japanese and Arabic, by the English `siglip-vit-b-16` and
the multilingual `siglip-vit-b-16-i18n-256` (trained on WebLI per its model card, `timm/ViT-B-16-SigLIP-i18n-256`,
which names no languages: "i18n" is the multilingual variant of Zhai et al. 2023; its tokenizer has 250,000 pieces,
`vocab_size` in open_clip's config for it). Each label is an independent sigmoid: the scores of one language need not
sum to one, and a label may score high in one language and near zero in another; the panel shows whether it does for
your photo. Each label is scored bare (the word alone, no "a photo of"), and SigLIP adds a learned bias to every logit
(it starts at −10 in Zhai et al. 2023 and in open_clip's config, so that the many unmatched pairs of a batch start
near zero and a match has to earn its score): every probability in the table can come out small, even for the right
label. Compare the labels of one row with each other rather than with 50%."""


def _pick(registry, wanted: str) -> Optional[str]:
    """``wanted`` when the registry offers it (available or not: the note says why not), else
    any available image-text model."""
    return wanted if wanted in registry.specs else first_available(registry, [], "image-text")


def build(ctx: LabContext) -> None:
    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Row():
        with gr.Column(scale=1):
            guess = gr.Radio(list(CHOICES.values()), label=QUESTION)
            run = gr.Button("Split the batch over the devices", variant="primary")
            check = gr.Markdown()
        with gr.Column(scale=2):
            plot = gr.Plot(label="Per device, against k")
            revealed = gr.Markdown()
            votes = ClassVotes(ctx, "scaling", guess, revealed)
    table = gr.Dataframe(interactive=False, label="The numbers (per device, float32)")

    @friendly_errors
    def split(prediction: Optional[str]):
        costs = device_costs()
        checks = agreement()
        worst = max(a.difference for a in checks)
        said = (f"Chunked against unchunked sigmoid loss, {len(checks)} runs (B = {checks[0].batch}, k = "
                f"{', '.join(str(k) for k in sorted({a.devices for a in checks}))}, 3 seeds): largest difference "
                f"{worst:.1e}.")
        return device_cost_figure(costs), reveal(costs, prediction), pd.DataFrame(cost_rows(costs)), said

    votes.after(run.click(split, [guess], [plot, revealed, table, check], api_name="siglip_variants_scaling"))

    with gr.Accordion("Multilingual alignment: a toy trained here (about a minute)", open=False):
        gr.Markdown(MULTILINGUAL_LESSON)
        train = gr.Button("Train the four models", variant="primary")
        languages_plot = gr.Plot(label="Zero-shot accuracy per label language")
        languages_said = gr.Markdown()
        languages_table = gr.Dataframe(interactive=False, label="One label in each language, in each tokenizer's pieces")

    with gr.Accordion("Resolution: 196 → 1024 tokens (about two minutes)", open=False):
        gr.Markdown(RESOLUTION_LESSON)
        measure = gr.Button("Time the four image towers", variant="primary")
        resolution_plot = gr.Plot(label="Tokens against cost")
        resolution_table = gr.Dataframe(interactive=False, label="Per resolution")
        gr.Markdown(GRID_LESSON)
        with gr.Row():
            grid_photo = gr.Image(value=photo_file("chelsea"), label="Photo", type="filepath", height=300,
                                  sources=["upload", "clipboard"])
            grid_view = gr.Image(label="What the image tower sees, cut into patches", interactive=False, height=300)
        with gr.Row():
            grid_model = gr.Radio(list(RESOLUTION_IDS), value=next(iter(RESOLUTION_IDS)), label="Resolution")
            draw = gr.Button("Draw the patch grid")
        grid_said = gr.Markdown()
        gr.Markdown(DETAIL_LESSON)
        train_detail = gr.Button("Train at 16 px and at 32 px (seconds)", variant="primary")
        detail_plot = gr.Plot(label="Accuracy per input size")
        detail_said = gr.Markdown()

    with gr.Accordion("The real checkpoints: labels in five languages (needs the Hub)", open=False):
        gr.Markdown(REAL_LESSON)
        with gr.Row():
            real_photo = gr.Image(value=photo_file("chelsea"), label="Photo", type="filepath", height=260,
                                  sources=["upload", "clipboard"])
            with gr.Column():
                english_model = gr.Dropdown(choices=model_choices(ctx.registry, "image-text"),
                                            value=_pick(ctx.registry, MODEL_IDS[0]), label="English model")
                multilingual_model = gr.Dropdown(choices=model_choices(ctx.registry, "image-text"),
                                                 value=_pick(ctx.registry, MODEL_IDS[1]), label="Multilingual model")
                score_real = gr.Button("Score the labels in five languages", variant="primary")
        real_said = gr.Markdown(needs_the_hub(ctx.registry))
        real_table = gr.Dataframe(interactive=False, label="Sigmoid probability of each label, per model")
        gr.Dataframe(pd.DataFrame(published_table()), interactive=False,
                     label=f"Published, for reference: {RETRIEVAL_SOURCE}")

    @friendly_errors
    def train_languages(progress=gr.Progress()):
        from .multilingual import label_pieces, reveal_multilingual, train_and_score

        runs = train_and_score(progress=lambda name, step, steps: progress(step / steps, desc=name))
        rows = [{**row, "wordpiece": " ".join(row["wordpiece"]), "characters": " ".join(row["characters"])}
                for row in label_pieces()]
        return multilingual_figure(runs), reveal_multilingual(runs), pd.DataFrame(rows)

    @friendly_errors
    def time_towers(progress=gr.Progress()):
        from .resolution import PUBLISHED, RESOLUTION_IDS, SOURCE, tower_cost

        costs = []
        for i, model_id in enumerate(RESOLUTION_IDS):
            progress(i / len(RESOLUTION_IDS), desc=f"building and timing {model_id}")
            costs.append(tower_cost(model_id))
        rows = [{"id": c.model_id, "side": c.side, "tokens": c.tokens, "latency s": c.latency_s,
                 "peak activation MB": c.peak_activation_mb,
                 "ImageNet zero-shot (published)": PUBLISHED[c.architecture]["imagenet_zero_shot"],
                 "source": SOURCE} for c in costs]
        return resolution_figure(costs), pd.DataFrame(rows)

    @friendly_errors
    def score_five_languages(photo, english: Optional[str], multilingual: Optional[str], request: gr.Request,
                             progress=gr.Progress()):
        picture = load_image(photo, what="The photo")
        session = session_id(request)
        picked = [m for m in (english, multilingual) if m]
        if not picked:
            raise ValueError("Pick at least one model (an image-text model: CLIP or SigLIP).")
        progress(0.1, desc="loading the models and scoring the labels")
        rows = five_language_scores(ctx.registry, picture, source_name(photo, "your photo"), picked, session)
        said = needs_the_hub(ctx.registry, picked, session)
        if not any("languages" in row for row in rows):
            return said, pd.DataFrame()
        return said, pd.DataFrame(score_table(rows))

    @friendly_errors
    def draw_grid(photo, model_id: Optional[str]):
        if not model_id:
            raise ValueError(f"Pick a resolution: one of {', '.join(RESOLUTION_IDS)}.")
        return photo_with_grid(load_image(photo, what="The photo"), model_id)

    @friendly_errors
    def compare_detail():
        from .detail_toy import DetailSettings, compare_sizes, summary

        settings = DetailSettings()
        runs = compare_sizes(settings)
        return detail_figure(runs), summary(runs, settings)["reveal"]

    draw.click(draw_grid, [grid_photo, grid_model], [grid_view, grid_said], api_name="siglip_variants_grid")
    grid_model.change(draw_grid, [grid_photo, grid_model], [grid_view, grid_said], api_name=False)
    grid_photo.change(draw_grid, [grid_photo, grid_model], [grid_view, grid_said], api_name=False)
    train_detail.click(compare_detail, None, [detail_plot, detail_said], api_name="siglip_variants_detail")
    train.click(train_languages, None, [languages_plot, languages_said, languages_table],
                api_name="siglip_variants_multilingual")
    measure.click(time_towers, None, [resolution_plot, resolution_table], api_name="siglip_variants_resolution")
    score_real.click(score_five_languages, [real_photo, english_model, multilingual_model], [real_said, real_table],
                     api_name="siglip_variants_real")
