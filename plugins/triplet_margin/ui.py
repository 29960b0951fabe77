"""The tab: labelled texts and two models in; the margin sweep, the distances, example
triplets and a trained projection out. It only wires components to ``compute``."""
from __future__ import annotations

from typing import Optional

import gradio as gr
import numpy as np
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.contract.lab import LabContext
from playground.models.base import TextModel
from playground.web.result_cache import data_hash
from playground.web.ui import first_available, friendly_errors, model_choices, serialised_plot, session_id
from playground.contract.verdict import judge

from . import compute
from .figures import distances_figure, sweep_figure, training_figure
from .lesson import PREDICT_CHOICES, PREDICT_QUESTION, sweep_reveal

LESSON = """### Triplet margin: how far is far enough?
A triplet is an **anchor**, a **positive** (another text with the anchor's label) and a **negative** (a text with a
different label). The triplet loss with margin α is `max(0, d(a,p) − d(a,n) + α)`: it is zero only once the negative
is farther from the anchor than the positive is, *by at least α*. Until then the triplet is **active**: it still pays
a loss, so in training it still pushes the positive in and the negative out.

**What to look for.** The sweep runs α from 0 to 1 on the same triplets for two models: GloVe (word vectors from
co-occurrence counts, never trained to compare two texts) and MiniLM (trained contrastively). Watch where each curve
of *active triplets* climbs: a model whose same-label and other-label distances barely differ is active almost at
once, because a small α already covers its whole gap. The histograms show why: the lower row is the gap
`d(a,n) − d(a,p)` of each triplet, and every triplet left of the dashed line (α) is active. *Hard* negatives (the
nearest text with another label) make the gap small or negative: the triplets a trained model still has to fix."""


TRAIN_LESSON = """### Train a projection with the triplet loss
Now let the loss do its work. A square matrix `W` (starting at the identity, so *before* is the model itself) maps
each frozen embedding to `W x`, normalised; it is trained for a few hundred steps with the triplet loss at your α,
on triplets drawn from half of the texts. The other half is never seen in training: its triplets and a linear probe
(logistic regression on half the held-out texts, scored on the rest) measure what changed."""

TRAIN_PREDICT_CHOICES = ["more triplets satisfied", "about the same", "fewer triplets satisfied"]
TRAIN_PREDICT_QUESTION = "Predict first: on held-out triplets (texts never used in training), after training…"


def _progress(progress: gr.Progress):
    return lambda fraction, desc: progress(fraction, desc=desc)


def _upload_path(upload) -> Optional[str]:
    if upload is None or upload == "":
        return None
    return getattr(upload, "name", upload)


def _texts(upload, per_label, seed) -> pd.DataFrame:
    return compute.load_texts(_upload_path(upload), per_label=int(per_label), seed=int(seed or 0))


def sweep_summary(result: compute.SweepResult, margin: float) -> str:
    lines = [f"**{len(result.texts)} texts**, {len(set(result.labels))} labels; at α = {margin:g}:"]
    for model_id, s in result.models.items():
        lines.append(
            f"- **{model_id}**: mean d(a,p) = {s.d_ap.mean():.3f}, mean d(a,n) = {s.d_an.mean():.3f}; "
            f"{compute.fraction_active(s.d_ap, s.d_an, margin):.0%} of {len(s.triplets)} triplets active, "
            f"{compute.fraction_satisfied(s.d_ap, s.d_an, margin):.0%} satisfy `d(a,p) + α < d(a,n)`"
        )
    return "\n".join(lines)


def train_reveal(result: compute.TrainResult, prediction: Optional[str]) -> str:
    b, a = result.before["satisfied"], result.after["satisfied"]
    outcome = TRAIN_PREDICT_CHOICES[0] if a > b + 0.02 else TRAIN_PREDICT_CHOICES[2] if a < b - 0.02 else TRAIN_PREDICT_CHOICES[1]
    verdict = judge(prediction, outcome) + " "
    return (
        f"#### Reveal\n{verdict}Held-out satisfied triplets went from **{b:.0%} to {a:.0%}** "
        f"({result.heldout_size} held-out texts, {result.train_size} training texts). The loss only ever saw the "
        "training texts, yet the map it learned moves unseen texts of one label together too: it learned a linear "
        f"map of the whole space (the {result.weight.shape[0]}×{result.weight.shape[1]} matrix W), not a list of "
        f"pairs. Probe accuracy: {result.before['probe_accuracy']:.0%} → "
        f"{result.after['probe_accuracy']:.0%}."
    )


class ProjectedModel(TextModel):
    """A session model: a base model's embeddings through the trained projection."""

    def __init__(self, base: TextModel, weight: np.ndarray) -> None:
        super().__init__(f"{base.id}-triplet", base.device)
        self.base = base
        self.weight = weight
        self.dim = int(weight.shape[0])

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return compute.project(self.weight, self.base.encode_texts(texts, batch_size=batch_size))

    def memory_bytes(self) -> int:
        return int(self.weight.nbytes)


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    choices = model_choices(registry, "text")
    default_a = first_available(registry, [compute.DEFAULT_MODELS[0]], "text")
    default_b = first_available(registry, [compute.DEFAULT_MODELS[1]], "text")

    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Row():
        model_a = gr.Dropdown(choices=choices, value=default_a, label="Model A")
        model_b = gr.Dropdown(choices=choices, value=default_b, label="Model B")
        metric = gr.Radio(list(compute.METRICS), value="cosine", label="Distance d",
                          info="cosine: 1 − cos(u, v); euclidean: ‖u − v‖ (on unit vectors)")
        mining = gr.Radio(list(compute.MININGS), value="random", label="Negatives",
                          info="hard: the nearest text with another label")
    with gr.Row():
        upload = gr.File(label="Optional: your own text,label CSV", file_types=[".csv"], type="filepath")
        with gr.Column():
            per_label = gr.Slider(5, 200, value=compute.DEFAULT_PER_LABEL, step=5, label="Texts per label (sample)")
            n_triplets = gr.Slider(50, 2000, value=compute.DEFAULT_TRIPLETS, step=50, label="Triplets")
            seed = gr.Number(value=0, precision=0, label="Seed")
    predict = gr.Radio(PREDICT_CHOICES, label=PREDICT_QUESTION)
    margin = gr.Slider(0.0, 1.0, value=compute.DEFAULT_MARGIN, step=0.05, label="Margin α",
                       info="moving it redraws the figures and examples without recomputing")
    run_button = gr.Button("Run the margin sweep", variant="primary")
    reveal = gr.Markdown()
    votes = ClassVotes(ctx, "run", predict, reveal)
    sweep_plot = gr.Plot(label="Margin sweep")
    summary = gr.Markdown()
    distances_plot = gr.Plot(label="Distances")
    gr.Markdown("#### Example triplets\nHalf that satisfy `d(a,p) + α < d(a,n)` and half that do not, per model.")
    examples = gr.Dataframe(wrap=True, interactive=False,
                            column_widths=["8%", "23%", "23%", "23%", "7%", "7%", "9%"])
    result_state = gr.State()

    @friendly_errors
    def run_sweep(a, b, metric_, mining_, upload_, per_label_, n_triplets_, seed_, margin_, prediction,
                  request: gr.Request, progress=gr.Progress()):
        frame = _texts(upload_, per_label_, seed_)
        ids, session = compute.parse_models([a or "", b or ""]), session_id(request)
        settings = dict(metric=metric_, mining=mining_, n_triplets=int(n_triplets_), margin=float(margin_),
                        seed=int(seed_ or 0))

        def sweep_and_draw():
            result = compute.run_sweep(registry, frame, ids, session=session, progress=_progress(progress), **settings)
            return result, _margin_views(result, settings["margin"])

        result, views = ctx.shared_run(sweep_and_draw, ids, session, data_hash(frame), settings)
        return (result, sweep_reveal(result, prediction), *views)

    def _margin_views(result, margin_):
        return (serialised_plot(sweep_figure(result, margin_)), sweep_summary(result, margin_),
                serialised_plot(distances_figure(result, margin_)), compute.example_triplets(result, margin_))

    @friendly_errors
    def change_margin(result, margin_):
        if result is None:
            raise ValueError("Run the margin sweep first; then the margin slider redraws its figures.")
        return _margin_views(result, float(margin_))

    votes.after(run_button.click(
        run_sweep,
        [model_a, model_b, metric, mining, upload, per_label, n_triplets, seed, margin, predict],
        [result_state, reveal, sweep_plot, summary, distances_plot, examples],
        api_name="triplet_margin_run",
    ))
    margin.release(change_margin, [result_state, margin], [sweep_plot, summary, distances_plot, examples],
                   api_name="triplet_margin_margin")

    gr.Markdown(TRAIN_LESSON, elem_classes=["lesson"])
    with gr.Row():
        train_model = gr.Dropdown(choices=choices, value=default_a, label="Model to train a projection on")
        steps = gr.Slider(50, 1000, value=300, step=50, label="Training steps")
        lr = gr.Number(value=0.01, label="Learning rate (Adam)")
    train_predict = gr.Radio(TRAIN_PREDICT_CHOICES, label=TRAIN_PREDICT_QUESTION)
    train_button = gr.Button("Train the projection (uses α, distance and negatives above)", variant="primary")
    train_reveal_md = gr.Markdown()
    train_votes = ClassVotes(ctx, "train", train_predict, train_reveal_md)
    train_plot = gr.Plot(label="Training")
    train_table = gr.Dataframe(interactive=False, label="Held-out figures, before and after")

    @friendly_errors
    def train(model_id, metric_, mining_, upload_, per_label_, seed_, margin_, steps_, lr_, prediction,
              request: gr.Request, progress=gr.Progress()):
        if not model_id:
            raise ValueError("Pick a model to train a projection on.")
        if lr_ is None or not 0 < float(lr_) <= 1:
            raise ValueError(f"The learning rate must be in (0, 1], got {lr_}; 0.01 works well.")
        session = session_id(request)
        frame = _texts(upload_, per_label_, seed_)
        progress(0, desc=f"embedding {len(frame)} texts with {model_id}")
        base = registry.get(model_id, session=session)
        emb = compute.embed(registry, model_id, frame["text"].tolist(), session)
        result = compute.train_projection(
            emb, frame["label"].tolist(), margin=float(margin_), metric=metric_, mining=mining_, steps=int(steps_),
            lr=float(lr_), seed=int(seed_ or 0), model_id=model_id, progress=_progress(progress),
        )
        if session:
            trained_id = f"{model_id}-triplet-a{float(margin_):g}"
            registry.cache.forget_model(trained_id)  # a retrained projection under the same name: no stale rows
            registry.add_session_model(session, trained_id, ProjectedModel(base, result.weight))
        return train_reveal(result, prediction), training_figure(result), pd.DataFrame(compute.summary_rows(result))

    train_votes.after(train_button.click(
        train,
        [train_model, metric, mining, upload, per_label, seed, margin, steps, lr, train_predict],
        [train_reveal_md, train_plot, train_table],
        api_name="triplet_margin_train",
    ))

    def refresh_pickers(request: gr.Request):
        fresh = model_choices(registry, "text", session_id(request))
        return gr.update(choices=fresh), gr.update(choices=fresh), gr.update(choices=fresh)

    if ctx.tab is not None:
        ctx.tab.select(refresh_pickers, None, [model_a, model_b, train_model], api_name="triplet_margin_models")
