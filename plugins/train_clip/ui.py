"""The tab: controls, the two predict-then-reveal questions, and the wiring to compute."""
from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.web.downloads import write_downloads
from playground.contract.lab import LabContext
from playground.web.ui import check_numbers, friendly_errors, session_id

from . import lesson
from .claims import CLAIMS, bias_figures
from .compute import (
    COMPARE_BATCH_SIZES, COMPARE_EXAMPLES, LOSS_NAMES, TrainSettings, as_image_text_model, compare_batch_sizes, train_clip,
)
from .figures import accuracy_figure, compare_figure, loss_figure, snapshot_figure

DEFAULTS = TrainSettings()
SESSION_MODEL_IDS = {"softmax": "my-clip", "sigmoid": "my-siglip"}
BATCH_SIZES = [8, 16, 32, 64, 128, 256]
COMPARE_COLUMNS = ["loss", "batch_size", "steps", "examples_seen", "heldout_accuracy", "seen_accuracy", "final_loss", "seconds",
                   "seed"]


def minilm_embedder(registry):
    """``embed_texts`` for the frozen text tower: the registry's MiniLM, asked for at each
    call (so a model the registry unloaded to save memory is simply loaded again)."""
    return lambda texts: registry.get("minilm").encode_texts(texts)


def settings_from(loss, batch_size, steps, lr, seed, image_tower, text_tower, bias_init=DEFAULTS.bias_init) -> TrainSettings:
    """Settings from the controls; a missing or malformed value says which and what to enter."""
    values = {"batch size": batch_size, "steps": steps, "learning rate": lr, "seed": seed,
              "starting SigLIP bias": bias_init}
    check_numbers(values, whole=("batch size", "steps", "seed"))
    settings = TrainSettings(
        loss=loss or DEFAULTS.loss, batch_size=int(batch_size), steps=int(steps), lr=float(lr), seed=int(seed),
        image_tower=image_tower or DEFAULTS.image_tower, text_tower=text_tower or DEFAULTS.text_tower,
        bias_init=float(bias_init),
    )
    settings.validate()
    return settings


def gallery_items(images: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The snapshot images, enlarged 4x (nearest neighbour, so the pixels stay honest)."""
    return [(np.kron(im, np.ones((4, 4, 1), dtype=np.uint8)), f"img {i + 1}") for i, im in enumerate(images)]


def summary_markdown(result, model_id: str) -> str:
    s = result.settings
    bias = "" if result.logit_bias is None else "; " + CLAIMS["bias.moved"].words(bias_figures(result))
    return (
        f"**{LOSS_NAMES[s.loss]}** loss, {s.image_tower} image tower, {s.text_tower} text tower, batch {s.batch_size}, "
        f"{s.steps} steps ({result.examples_seen} examples seen) in **{result.seconds:.1f} s**. "
        f"Final loss {result.final_loss:.3f}; learned scale **{result.logit_scale:.1f}** "
        f"(temperature {1 / result.logit_scale:.3f}){bias}.\n\n"
        f"Zero-shot among 36 prompts: held-out pairs **{result.heldout_accuracy:.1%}**, seen pairs "
        f"**{result.seen_accuracy:.1%}**, chance {result.chance:.1%}.\n"
        + lesson.REGISTRY_NOTE.format(model_id=model_id, scoring=s.loss)
    )


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    gr.Markdown(lesson.INTRO, elem_classes=["lesson"])
    with gr.Row():
        loss = gr.Radio([(LOSS_NAMES[k], k) for k in ("softmax", "sigmoid")], value=DEFAULTS.loss, label="Loss")
        image_tower = gr.Radio([("small CNN", "cnn"), ("tiny ViT (8x8 patches)", "vit")],
                               value=DEFAULTS.image_tower, label="Image tower")
        text_tower = gr.Radio([("MiniLM, frozen, + projection", "minilm"), ("bag of words, trained", "bow")],
                              value=DEFAULTS.text_tower, label="Text tower")
    with gr.Row():
        batch_size = gr.Slider(2, 256, value=DEFAULTS.batch_size, step=1, label=f"Batch size (default {DEFAULTS.batch_size})")
        steps = gr.Slider(10, 5000, value=DEFAULTS.steps, step=10, label=f"Steps (default {DEFAULTS.steps})")
        lr = gr.Number(value=DEFAULTS.lr, label=f"Learning rate (default {DEFAULTS.lr})")
        seed = gr.Number(value=DEFAULTS.seed, precision=0, label="Seed (default 0)")
        bias_init = gr.Number(value=DEFAULTS.bias_init, label=f"SigLIP starting bias (default {DEFAULTS.bias_init:g})")
    heldout_prediction = gr.Radio(lesson.HELDOUT_CHOICES, label=lesson.HELDOUT_QUESTION)
    train_button = gr.Button("Train", variant="primary")
    summary = gr.Markdown()
    heldout_reveal = gr.Markdown()
    heldout_votes = ClassVotes(ctx, "heldout", heldout_prediction, heldout_reveal)
    gallery = gr.Gallery(label="The snapshot batch: images 1-8 (columns of the matrices)", columns=8, height=200,
                         format="png", object_fit="contain")
    snapshots_plot = gr.Plot(label="Caption x image similarity over training")
    with gr.Row():
        loss_plot = gr.Plot(label="Loss")
        accuracy_plot = gr.Plot(label="Zero-shot accuracy")
    downloads = gr.File(label="Download this run's figures (JSON, CSV)", file_count="multiple")

    gr.Markdown(lesson.COMPARE_INTRO, elem_classes=["lesson"])
    with gr.Row():
        compare_sizes = gr.CheckboxGroup(BATCH_SIZES, value=list(COMPARE_BATCH_SIZES), label="Batch sizes")
        compare_examples = gr.Slider(256, 131072, value=COMPARE_EXAMPLES, step=256,
                                     label=f"Examples seen per run (default {COMPARE_EXAMPLES})")
        compare_seeds = gr.Slider(1, 5, value=1, step=1, label="Seeds",
                                  info="the seed above, then the next ones; the reveal gives mean ± spread")
    batch_prediction = gr.Radio(lesson.BATCH_CHOICES, label=lesson.BATCH_QUESTION)
    compare_button = gr.Button("Compare both losses (two runs per batch size: several minutes)", variant="secondary")
    batch_reveal = gr.Markdown()
    batch_votes = ClassVotes(ctx, "batch", batch_prediction, batch_reveal)
    compare_plot = gr.Plot(label="Held-out accuracy vs batch size")
    compare_table = gr.Dataframe(headers=COMPARE_COLUMNS, label="Every run", interactive=False)

    @friendly_errors
    def run_training(loss, batch_size, steps, lr, seed, image_tower, text_tower, bias, prediction,
                     request: gr.Request, progress=gr.Progress()):
        settings = settings_from(loss, batch_size, steps, lr, seed, image_tower, text_tower, bias)
        embed = minilm_embedder(registry) if settings.text_tower == "minilm" else None
        progress(0, desc="preparing data" + (" and MiniLM caption vectors" if embed else ""))
        result = train_clip(
            settings, embed,
            progress=lambda step, total, running: progress((step, total), desc=f"step {step}/{total}, loss {running:.3f}"),
        )
        model_id = SESSION_MODEL_IDS[settings.loss]
        registry.add_session_model(session_id(request), model_id, as_image_text_model(result, model_id))
        files = write_downloads(
            "train_clip", figures=result.summary(),
            table=pd.DataFrame({"step": np.arange(1, len(result.losses) + 1), "loss": result.losses}),
        )
        return (
            summary_markdown(result, model_id), lesson.reveal_heldout(prediction, result),
            gallery_items(result.display_images), snapshot_figure(result), loss_figure(result),
            accuracy_figure(result), files,
        )

    @friendly_errors
    def run_comparison(sizes, examples, lr, seed, image_tower, text_tower, bias, prediction, n_seeds=1,
                       progress=gr.Progress()):
        if not sizes:
            raise ValueError("Tick at least one batch size to compare (for example 8, 32 and 128).")
        if examples is None:
            raise ValueError("Examples seen per run is empty; enter a number such as 65536.")
        n_seeds = int(n_seeds or 1)
        if not 1 <= n_seeds <= 5:
            raise ValueError(f"Seeds must be between 1 and 5, got {n_seeds}.")
        first = int(seed or 0)
        n_runs = 2 * len(sizes) * n_seeds
        progress((0, n_runs), desc=f"run 1 of {n_runs}")
        compares = []
        for k in range(n_seeds):
            base = settings_from("sigmoid", max(int(s) for s in sizes), DEFAULTS.steps, lr, first + k, image_tower,
                                 text_tower, bias)
            embed = minilm_embedder(registry) if base.text_tower == "minilm" else None
            offset = 2 * len(sizes) * k
            compares.append(compare_batch_sizes(
                base, [int(s) for s in sizes], int(examples), embed,
                progress=lambda done, total, acc: progress(
                    (offset + done, n_runs), desc=f"run {offset + done} of {n_runs} done (held-out {acc:.0%})"),
            ))
        table = pd.concat([pd.DataFrame(c.summary()["runs"]).assign(seed=first + k) for k, c in enumerate(compares)],
                          ignore_index=True)
        return lesson.reveal_batch(prediction, compares), compare_figure(compares[0]), table

    heldout_votes.after(train_button.click(
        run_training, [loss, batch_size, steps, lr, seed, image_tower, text_tower, bias_init, heldout_prediction],
        [summary, heldout_reveal, gallery, snapshots_plot, loss_plot, accuracy_plot, downloads],
        api_name="train_clip_train",
    ))
    batch_votes.after(compare_button.click(
        run_comparison, [compare_sizes, compare_examples, lr, seed, image_tower, text_tower, bias_init, batch_prediction,
                         compare_seeds],
        [batch_reveal, compare_plot, compare_table], api_name="train_clip_compare",
    ))
