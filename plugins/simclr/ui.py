"""The tab: controls, the pair grid and the ViT's patches, training with progress and a
stop button, the probes, neighbours and projection, and the two experiments."""
from __future__ import annotations


import gradio as gr
import numpy as np
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.contract.lab import LabContext
from playground.models.gpu_policy import request_seconds
from playground.models.registry import on_zero_gpu
from playground.web.ui import StopFlags, check_numbers, friendly_errors, session_id

from . import lesson
from .compute import MAX_BATCH, MAX_STEPS, SWEEP_BATCH_SIZES, SWEEP_IMAGES, SimCLRSettings, augment_away, \
    batch_size_sweep, expected_cpu_seconds, positive_pairs, runs_on_gpu, train_simclr
from .data import SHAPE_ATTRIBUTES, load_images
from .figures import (
    augment_figure, batch_figure, loss_figure, neighbours_grid, pair_grid, patch_tokens, probe_figure, projection_figure,
)
from .options import ENCODER_NAMES, PATCH

DEFAULTS = SimCLRSettings()
SWEEP_CHOICES = [8, 16, 32, 64, 128, 256, 512]
PICTURE_HEIGHT = 420  # pixels: the pair grid and the patches, each shown whole
PROBE_COLUMNS = ["attribute", "classes", "chance", "trained encoder", "untrained encoder", "raw pixels"]


def settings_from(data, encoder, augment, batch_size, steps, tau, lr, seed) -> SimCLRSettings:
    """Settings from the controls; a missing or malformed value says which and what to enter."""
    values = {"batch size": batch_size, "steps": steps, "temperature τ": tau, "learning rate": lr, "seed": seed}
    check_numbers(values, whole=("batch size", "steps", "seed"))
    settings = SimCLRSettings(
        data=data or DEFAULTS.data, encoder=encoder or DEFAULTS.encoder, augment=tuple(augment or ()),
        batch_size=int(batch_size), steps=int(steps), tau=float(tau), lr=float(lr), seed=int(seed),
    )
    return settings.validate()


def probe_table(result) -> pd.DataFrame:
    return pd.DataFrame([
        [p.attribute, p.classes, round(p.chance, 3), round(p.probe_accuracy, 3), round(p.random_init_accuracy, 3),
         round(p.pixel_accuracy, 3)] for p in result.probes
    ], columns=PROBE_COLUMNS)


def experiment_table(experiment) -> pd.DataFrame:
    attrs = list(experiment.chance)
    return pd.DataFrame([
        [r.label, ", ".join(r.augment), r.batch_size, r.steps, *[round(r.probes[a], 3) for a in attrs],
         round(r.final_loss, 3), round(r.seconds, 1)] for r in experiment.runs
    ], columns=["run", "augmentations", "batch", "steps", *attrs, "final loss", "seconds"])


def pictures(data: str, encoder: str, augment, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The pair grid, and the first image cut into the ViT's patch tokens."""
    originals, v1, v2 = positive_pairs(data, augment, seed)
    return pair_grid(originals, v1, v2), patch_tokens(originals[0], PATCH)


def build(ctx: LabContext) -> None:
    stops = StopFlags("Stopping after the current step; the probes then measure what was learnt so far.")

    gr.Markdown(lesson.INTRO, elem_classes=["lesson"])
    with gr.Row():
        data = gr.Radio([("handwritten digits (real, 8x8)", "digits"), ("generated shapes", "shapes")],
                        value=DEFAULTS.data, label="Images")
        encoder = gr.Radio([(ENCODER_NAMES[k], k) for k in ("cnn", "vit")], value=DEFAULTS.encoder, label="Encoder")
    augment = gr.CheckboxGroup(lesson.AUGMENTATION_CHOICES, value=list(DEFAULTS.augment),
                               label="Augmentations (each view of an image gets its own random draw of each)")
    with gr.Row():
        # from 1, so that a student who tries a batch of 1 reads why it cannot work
        batch_size = gr.Slider(1, MAX_BATCH, value=DEFAULTS.batch_size, step=1,
                               label=f"Batch size N (default {DEFAULTS.batch_size})")
        steps = gr.Slider(10, MAX_STEPS, value=DEFAULTS.steps, step=10,
                          label=f"Steps (default {DEFAULTS.steps}, at most {MAX_STEPS})")
        tau = gr.Number(value=DEFAULTS.tau, label=f"Temperature τ (default {DEFAULTS.tau})")
        lr = gr.Number(value=DEFAULTS.lr, label=f"Learning rate (default {DEFAULTS.lr})")
        seed = gr.Number(value=DEFAULTS.seed, precision=0, label="Seed (default 0)")
    controls = [data, encoder, augment, batch_size, steps, tau, lr, seed]
    pairs_button = gr.Button("Show positive pairs")
    # The long explanations are captions above the pictures, not their labels: Gradio lays a
    # label over its picture's top, where a long one covers it (issue 30 item 6). A fixed height
    # lets the picture shrink to fit whole (the row of 16 patches at the bottom was cut off).
    with gr.Row():
        with gr.Column():
            gr.Markdown("**Positive pairs**: each row is an image, then its two views")
            pairs_image = gr.Image(label="Positive pairs", show_label=False, format="png", interactive=False,
                                   height=PICTURE_HEIGHT, elem_id="simclr-pairs")
        with gr.Column():
            gr.Markdown("**The tiny ViT's tokens**: the image cut into 16 patches of 8x8, then read as a row")
            patches_image = gr.Image(label="The tiny ViT's tokens", show_label=False, format="png", interactive=False,
                                     height=PICTURE_HEIGHT, elem_id="simclr-patches")
    with gr.Row():
        train_button = gr.Button("Train", variant="primary", scale=3)
        stop_button = gr.Button("Stop", variant="stop", scale=1)
    status = gr.Markdown()
    summary = gr.Markdown()
    with gr.Row():
        loss_plot = gr.Plot(label="Loss")
        probe_plot = gr.Plot(label="Linear probes")
    probes = gr.Dataframe(headers=PROBE_COLUMNS, label="Held-out probe accuracy per attribute", interactive=False)
    gr.Markdown("**Nearest neighbours** (trained features): each row a held-out query, then its 5 closest held-out images")
    neighbours_image = gr.Image(label="Nearest neighbours", show_label=False, format="png", interactive=False)
    colour_by = gr.Dropdown(list(SHAPE_ATTRIBUTES), value="shape", label="Colour the projection by")
    projection_plot = gr.Plot(label="2-D projection")
    run_state = gr.State()

    gr.Markdown(lesson.AUGMENT_INTRO, elem_classes=["lesson"])
    augment_prediction = gr.Radio(lesson.AUGMENT_CHOICES, label=lesson.AUGMENT_QUESTION)
    augment_button = gr.Button("Run experiment 1 (three runs on the shapes)")
    augment_reveal = gr.Markdown()
    augment_votes = ClassVotes(ctx, "augment", augment_prediction, augment_reveal)
    augment_plot = gr.Plot(label="Probe accuracy by augmentations used")
    augment_table = gr.Dataframe(label="Every run", interactive=False)

    gr.Markdown(lesson.BATCH_INTRO, elem_classes=["lesson"])
    with gr.Row():
        sweep_sizes = gr.CheckboxGroup(SWEEP_CHOICES, value=list(SWEEP_BATCH_SIZES), label="Batch sizes")
        sweep_images = gr.Slider(512, 65536, value=SWEEP_IMAGES, step=512,
                                 label=f"Images seen per run (default {SWEEP_IMAGES})")
    batch_prediction = gr.Radio(lesson.BATCH_CHOICES, label=lesson.BATCH_QUESTION)
    batch_button = gr.Button("Run experiment 2 (one run per batch size)")
    batch_reveal = gr.Markdown()
    batch_votes = ClassVotes(ctx, "batch", batch_prediction, batch_reveal)
    batch_plot = gr.Plot(label="Probe accuracy vs batch size")
    batch_table = gr.Dataframe(label="Every run", interactive=False)

    def callbacks(should_stop, progress, describe):
        """The progress and stop callbacks. On ZeroGPU they stay in this process (``@gpu``'s
        ``local``): a run in the GPU worker goes without them (the bar then says where it
        runs, ``on_gpu_note``), a run on the CPU (the default size, or one ZeroGPU refused) uses them."""
        return {"progress": lambda done, total, value: progress((done, total), desc=describe(done, total, value)),
                "should_stop": should_stop}

    def on_gpu_note(settings: SimCLRSettings, progress) -> None:
        """Where a run goes to ZeroGPU's worker, say so on the bar (it cannot report its steps)."""
        if on_zero_gpu() and runs_on_gpu(settings):
            progress(0, desc=f"training on the GPU ({settings.steps} steps; ZeroGPU lends it for up to "
                             f"{request_seconds(expected_cpu_seconds(settings))} s): the figures come when it ends")

    @friendly_errors
    def show_pairs(data, encoder, augment, seed):
        if seed is None:
            raise ValueError("The seed is empty; enter a whole number such as 0.")
        return pictures(data or DEFAULTS.data, encoder or DEFAULTS.encoder, augment, int(seed))

    @friendly_errors
    def run_training(data, encoder, augment, batch_size, steps, tau, lr, seed, request: gr.Request,
                     progress=gr.Progress()):
        settings = settings_from(data, encoder, augment, batch_size, steps, tau, lr, seed)
        session = session_id(request)
        progress(0, desc="measuring the baselines (untrained encoder, raw pixels)")
        on_gpu_note(settings, progress)
        with stops.running(session) as should_stop:
            result = train_simclr(settings, **callbacks(
                should_stop, progress, lambda s, n, loss: f"step {s}/{n}, running loss {loss:.3f}"))
        images = load_images(settings.data, settings.seed)
        pairs, patches = pictures(settings.data, settings.encoder, settings.augment, settings.seed)
        attributes = list(result.test_labels)
        return (
            pairs, patches, "", lesson.summary_markdown(result), loss_figure(result), probe_figure(result),
            probe_table(result), neighbours_grid(result, images.test.images), projection_figure(result),
            gr.update(choices=attributes, value=result.main_attribute), result,
        )

    @friendly_errors
    def recolour(result, attribute):
        if result is None:
            raise ValueError("Train first: the projection shows a trained encoder's features.")
        return projection_figure(result, attribute)

    @friendly_errors
    def run_augment(data, encoder, augment, batch_size, steps, tau, lr, seed, prediction, request: gr.Request,
                    progress=gr.Progress()):
        # the other controls may hold digits or no augmentation: the experiment adds colour and crop itself
        settings = settings_from("shapes", encoder, list(augment or []) + ["colour", "crop"], batch_size, steps, tau, lr, seed)
        session = session_id(request)
        progress((0, 3), desc="run 1 of 3")
        with stops.running(session) as should_stop:
            experiment = augment_away(settings, **callbacks(
                should_stop, progress, lambda d, n, loss: f"run {d} of {n} done (final loss {loss:.2f})"))
        return lesson.reveal_augment(prediction, experiment), augment_figure(experiment), experiment_table(experiment)

    @friendly_errors
    def run_batch(sizes, images, data, encoder, augment, batch_size, steps, tau, lr, seed, prediction,
                  request: gr.Request, progress=gr.Progress()):
        if not sizes:
            raise ValueError("Tick at least one batch size (for example 16, 64 and 256).")
        if images is None:
            raise ValueError(f"Images seen per run is empty; enter a number such as {SWEEP_IMAGES}.")
        base = settings_from(data, encoder, augment, max(int(s) for s in sizes), steps, tau, lr, seed)
        session = session_id(request)
        progress((0, len(sizes)), desc=f"run 1 of {len(sizes)}")
        with stops.running(session) as should_stop:
            experiment = batch_size_sweep(base, [int(s) for s in sizes], int(images), **callbacks(
                should_stop, progress, lambda d, n, loss: f"run {d} of {n} done (final loss {loss:.2f})"))
        return lesson.reveal_batch(prediction, experiment), batch_figure(experiment), experiment_table(experiment)

    pairs_button.click(show_pairs, [data, encoder, augment, seed], [pairs_image, patches_image], api_name="simclr_pairs")
    train_button.click(
        run_training, controls,
        [pairs_image, patches_image, status, summary, loss_plot, probe_plot, probes, neighbours_image, projection_plot,
         colour_by, run_state],
        api_name="simclr_train",
    )
    stop_button.click(stops.request_stop, None, status, api_name="simclr_stop", queue=False)
    colour_by.change(recolour, [run_state, colour_by], projection_plot, api_name="simclr_projection")
    augment_votes.after(augment_button.click(run_augment, [*controls, augment_prediction], [augment_reveal, augment_plot, augment_table],
                         api_name="simclr_augment"))
    batch_votes.after(batch_button.click(run_batch, [sweep_sizes, sweep_images, *controls, batch_prediction],
                       [batch_reveal, batch_plot, batch_table], api_name="simclr_batch"))
