"""The tab: a model, the kind of positives and a list of τ in; per τ the trained
head's loss, alignment, uniformity, 2-D view and softmax out; then a live τ slider
over frozen embeddings. It only wires components to ``compute``."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.contract.lab import LabContext
from playground.web.result_cache import data_hash
from playground.web.ui import first_available, friendly_errors, model_choices, serialised_plot, session_id

from . import compute, lesson
from .figures import live_figure, projections_figure, softmax_figure, summary_figure

LESSON = """### Temperature: how sharp should the softmax be?
InfoNCE (here in its SimCLR form, NT-Xent) turns a batch into a classification: each view must pick out its
positive among all the other views, with probabilities `softmax(cos / τ)`. The temperature τ divides every cosine
before the softmax. Divide by a small τ and small differences in cosine become huge differences in probability: the
softmax is nearly one-hot, and only the few nearest negatives feel any push. Divide by a large τ and the softmax is
nearly flat: every negative is pushed a little, and a negative that is already close is not treated as urgent.

**The experiment.** The model's embeddings stay frozen. A small head (dropout, then a two-layer MLP to 32-d) is
trained from the same seed at each τ, on the same batches. Positives are either two *dropout views* of one text
(SimCSE-like: the only difference between the views is the random mask; SimCSE itself, Gao et al. 2021, trains the
whole encoder through its own dropout, while here the dropout sits on a frozen embedding in front of a small head) or
two *texts with the same label*. For each τ you get the final loss, an **alignment** in Wang & Isola's form (mean
squared distance over pairs; theirs is over the loss's own positive pairs, here it is measured over same-label texts
in both modes, so with dropout views it asks how close same-label texts come, which that loss never asked for: low
means each label is a tight cluster) and **uniformity** (log of the mean Gaussian similarity over all pairs:
low means the points are spread evenly over the sphere), a 2-D view, and the softmax one query puts over its batch.

**What to look for.** Compare the two kinds of positives: with same-label positives each label can shrink towards a
point (alignment near 0) and the whole cloud can crowd into a narrow cone (uniformity near 0) while the labels stay
apart: the reveal calls it a collapse only when they no longer separate (separation AUC 0.9 or less); with dropout
views nothing tells the head which texts belong together, so it spreads them out (dispersion). Neither extreme of τ need spread them most:
a τ so small that the batch is solved early stops the push, and one so large treats near and far negatives alike.
The loss values are not comparable across τ: the same geometry costs a different loss at each temperature.

*Further reading:* Chen et al. 2020 (SimCLR, NT-Xent); Gao et al. 2021 (SimCSE, dropout views); Wang & Isola 2020
(alignment and uniformity); Wang & Liu 2021 (temperature and the uniformity–tolerance trade-off)."""

PREDICT_CHOICES, PREDICT_QUESTION = lesson.PREDICT_CHOICES, lesson.PREDICT_QUESTION

LIVE_LESSON = """### Live: τ over fixed embeddings
Nothing is trained here: the frozen embeddings of the model above, one query, its positive (green) and fifteen
negatives, and a batch of same-label pairs for the InfoNCE loss. Move τ and watch the softmax sharpen as τ falls and
flatten as it grows; the curve on the right shows the loss and the softmax's entropy over the whole range of τ."""


def _progress(progress: gr.Progress):
    return lambda fraction, desc: progress(fraction, desc=desc)


reveal = lesson.reveal


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    choices = model_choices(registry, "text")
    default_model = first_available(registry, [compute.DEFAULT_MODEL], "text")

    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Row():
        model = gr.Dropdown(choices=choices, value=default_model, label="Model (frozen)")
        positives = gr.Radio([(compute.POSITIVE_NAMES[p], p) for p in compute.POSITIVES], value="dropout",
                             label="Positives")
        taus = gr.Textbox(value=", ".join(f"{t:g}" for t in compute.DEFAULT_TAUS), label="Temperatures τ",
                          info="comma-separated, between 0.001 and 10")
    with gr.Row():
        per_label = gr.Slider(5, 100, value=compute.DEFAULT_PER_LABEL, step=5, label="Texts per label (sample)")
        steps = gr.Slider(20, 1000, value=compute.DEFAULT_STEPS, step=10, label="Training steps per τ")
        seed = gr.Number(value=0, precision=0, label="Seed")
    predict = gr.Radio(PREDICT_CHOICES, label=PREDICT_QUESTION)
    run_button = gr.Button("Train a head at each τ", variant="primary")
    reveal_md = gr.Markdown()
    votes = ClassVotes(ctx, "run", predict, reveal_md)
    summary_plot = gr.Plot(label="Loss, alignment and uniformity against τ")
    table = gr.Dataframe(interactive=False, label="Per τ")
    projections_plot = gr.Plot(label="2-D views")
    softmax_plot = gr.Plot(label="Softmax over the batch")

    @friendly_errors
    def run_sweep(model_id, positives_, taus_, per_label_, steps_, seed_, prediction, request: gr.Request,
                  progress=gr.Progress()):
        if not model_id:
            raise ValueError("Pick a model first.")
        frame = compute.load_texts(per_label=int(per_label_), seed=int(seed_ or 0))
        session = session_id(request)
        settings = dict(taus=compute.parse_taus(taus_), positives=positives_, steps=int(steps_), seed=int(seed_ or 0))

        def sweep_and_draw():
            result = compute.run_sweep(registry, frame, model_id, session=session, progress=_progress(progress),
                                       **settings)
            rows = pd.DataFrame([{**t.row(), "entropy of the query's softmax": t.entropy}
                                 for t in result.taus]).round(4)
            figures = map(serialised_plot, (summary_figure(result), projections_figure(result), softmax_figure(result)))
            return result, rows, *figures

        result, rows, summary, projections, softmax = ctx.shared_run(
            sweep_and_draw, [model_id], session, data_hash(frame), settings)
        return reveal(result, prediction), summary, rows, projections, softmax

    votes.after(run_button.click(
        run_sweep, [model, positives, taus, per_label, steps, seed, predict],
        [reveal_md, summary_plot, table, projections_plot, softmax_plot], api_name="temperature_run",
    ))

    gr.Markdown(LIVE_LESSON, elem_classes=["lesson"])
    with gr.Row():
        live_tau = gr.Slider(0.01, 2.0, value=0.1, step=0.01, label="τ", scale=4)
        live_button = gr.Button("Show", scale=1)
    live_summary = gr.Markdown()
    live_plot = gr.Plot(label="Softmax over negatives at τ")

    @friendly_errors
    def live(model_id, tau, per_label_, seed_, request: gr.Request):
        if not model_id:
            raise ValueError("Pick a model first.")
        frame = compute.load_texts(per_label=int(per_label_), seed=int(seed_ or 0))
        emb = compute.embed(registry, model_id, frame["text"].tolist(), session_id(request))
        view = compute.live_view(emb, frame["text"].tolist(), frame["label"].tolist(), float(tau), seed=int(seed_ or 0))
        text = (f"At τ = {view.tau:g} the positive gets **p = {view.probabilities[0]:.3f}**, the largest negative "
                f"{view.probabilities[1:].max():.3f}; entropy {view.entropy:.2f} nats; InfoNCE loss on "
                f"{len(compute.label_pairs_batch(frame['label'].tolist(), seed=int(seed_ or 0))[0])} same-label pairs: "
                f"{view.loss:.3f}.")
        return text, live_figure(view)

    live_button.click(live, [model, live_tau, per_label, seed], [live_summary, live_plot], api_name="temperature_live")
    live_tau.release(live, [model, live_tau, per_label, seed], [live_summary, live_plot],
                     api_name="temperature_live_slider")

    def refresh_pickers(request: gr.Request):
        return gr.update(choices=model_choices(registry, "text", session_id(request)))

    if ctx.tab is not None:
        ctx.tab.select(refresh_pickers, None, [model], api_name="temperature_models")
