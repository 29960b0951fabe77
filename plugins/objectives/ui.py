"""The tab: the two predictions, the controls, training with a progress bar and a stop
button, the arms side by side (table, histograms on one axis, projections), and the
trained encoders registered for the session as ``my-nll`` and ``my-contrastive``."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.contract.lab import LabContext
from playground.web.ui import StopFlags, check_numbers, friendly_errors, session_id

from . import lesson
from .compute import ObjectiveSettings, as_text_model, train_objectives
from .figures import NAMES, histogram_figure, projection_figure, training_figure
from .measures import FIGURES
from .options import NLL_NAMES, NLL_OBJECTIVES, SESSION_MODEL_IDS

DEFAULTS = ObjectiveSettings()
TABLE_COLUMNS = ["figure", *NAMES.values(), "meaning"]


def settings_from(nll, steps, more_steps, seed, scratch) -> ObjectiveSettings:
    """Settings from the controls; a missing or malformed value says which and what to enter."""
    check_numbers({"NLL steps": steps, "more steps": more_steps, "seed": seed},
                  whole=("NLL steps", "more steps", "seed"))
    return ObjectiveSettings(nll=nll or DEFAULTS.nll, steps=int(steps), more_steps=int(more_steps), seed=int(seed),
                             scratch=bool(scratch)).validate()


def figures_table(result) -> pd.DataFrame:
    """One row per figure, one column per arm (and the initialisation)."""
    final = result.figures()
    rows = [{"figure": result.token_metric, **{NAMES[k]: f["token_accuracy"] for k, f in final.items()},
             "meaning": f"always guessing the most frequent piece scores {result.baseline_accuracy:.3f}"}]
    rows += [{"figure": key, **{NAMES[k]: f[key] for k, f in final.items()}, "meaning": meaning}
             for key, meaning in FIGURES.items()]
    return pd.DataFrame(rows)


def summary_markdown(result) -> str:
    s = result.settings
    ids = ", ".join(f"`{SESSION_MODEL_IDS[k]}`" for k in result.arms)
    return (f"{NLL_NAMES[s.nll]} for {s.steps} steps, then {s.more_steps} more per arm; batch {s.batch_size}, "
            f"h{s.hidden} x {s.layers} layers, a {result.vocabulary_size}-piece vocabulary, "
            f"{result.training_texts} training paragraphs, seed {s.seed}: **{result.seconds:.0f} s**"
            + (" (stopped)" if result.stopped else "") + f".\n\nYour encoders are registered for this browser session "
            f"as {ids}: pick them in the Text anisotropy tab to see their full N x N matrices and the noise test.")


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    stops = StopFlags("Stopping after the current step; every arm keeps the same number of steps and is measured as it is.")

    gr.Markdown(lesson.INTRO, elem_classes=["lesson"])
    nll_prediction = gr.Radio(lesson.CHOICES, label=lesson.NLL_QUESTION)
    contrastive_prediction = gr.Radio(lesson.CHOICES, label=lesson.CONTRASTIVE_QUESTION)
    with gr.Row():
        nll = gr.Radio([(NLL_NAMES[k], k) for k in NLL_OBJECTIVES], value=DEFAULTS.nll, label="NLL objective")
        steps = gr.Slider(10, 3000, value=DEFAULTS.steps, step=10, label=f"NLL steps (default {DEFAULTS.steps})")
        more_steps = gr.Slider(10, 3000, value=DEFAULTS.more_steps, step=10,
                               label=f"Then, per arm (default {DEFAULTS.more_steps})")
        seed = gr.Number(value=DEFAULTS.seed, precision=0, label="Seed (default 0)")
        scratch = gr.Checkbox(value=False, label="Also SimCSE from scratch (slower)")
    with gr.Row():
        train_button = gr.Button("Train both arms", variant="primary", scale=3)
        stop_button = gr.Button("Stop", variant="stop", scale=1)
    status = gr.Markdown()
    summary = gr.Markdown()
    nll_reveal = gr.Markdown()
    nll_votes = ClassVotes(ctx, "nll", nll_prediction, nll_reveal)
    contrastive_reveal = gr.Markdown()
    contrastive_votes = ClassVotes(ctx, "contrastive", contrastive_prediction, contrastive_reveal)
    findings = gr.Markdown()
    table = gr.Dataframe(headers=TABLE_COLUMNS, label="The arms side by side (final figures)", interactive=False)
    histogram_plot = gr.Plot(label="Intra and inter similarities")
    projection_plot = gr.Plot(label="2-D projections")
    training_plot = gr.Plot(label="Over training")

    @friendly_errors
    def run_training(nll, steps, more_steps, seed, scratch, nll_guess, contrastive_guess, request: gr.Request,
                     progress=gr.Progress()):
        settings = settings_from(nll, steps, more_steps, seed, scratch)
        session = session_id(request)
        progress(0, desc="tokenising the training text")
        with stops.running(session) as should_stop:  # trains on the CPU, in this process: the callbacks reach it
            result = train_objectives(settings, should_stop=should_stop,
                                      progress=lambda done, total, message: progress((done, total), desc=message))
        for arm, model_id in SESSION_MODEL_IDS.items():
            if arm in result.arms:
                registry.add_session_model(session, model_id, as_text_model(result, arm, model_id))
        return ("", summary_markdown(result), lesson.reveal_nll(result, nll_guess),
                lesson.reveal_contrastive(result, contrastive_guess), lesson.findings(result), figures_table(result),
                histogram_figure(result), projection_figure(result), training_figure(result))

    event = train_button.click(
        run_training, [nll, steps, more_steps, seed, scratch, nll_prediction, contrastive_prediction],
        [status, summary, nll_reveal, contrastive_reveal, findings, table, histogram_plot, projection_plot, training_plot],
        api_name="objectives_train")
    nll_votes.after(event)
    contrastive_votes.after(event)
    stop_button.click(stops.request_stop, None, status, api_name="objectives_stop", queue=False)
