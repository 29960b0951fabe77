"""The tab: the data and the training knobs in; a progress bar with the running loss
and a stop button; the metrics before and after, the loss curve and the similarity
histograms out; the fine-tuned model registered for this session, downloadable as a
zip, with the run's settings as JSON.

It only wires components to ``compute`` and ``figures``.
"""
from __future__ import annotations

from typing import Optional

import gradio as gr
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.web.downloads import write_downloads
from playground.contract.lab import LabContext
from playground.web.ui import StopFlags, friendly_errors, model_choices, session_id

from .compute import (
    DEFAULT_MAX_HELDOUT, DEFAULT_MAX_TRAIN, MAX_PAIRS_SEEN, PREDICT_CHOICES, PREDICT_QUESTION, describe_pairs,
    is_trainable, load_pairs, reveal, run_fine_tune, save_model_zip, wrap_model,
)
from .data import MAX_CSV_ROWS, MIN_CSV_ROWS
from .figures import result_figures
from .metrics import METRIC_NAMES
from .train import LIMITS, TrainSettings

LESSON = """### Teach a sentence encoder your domain, and measure it
A contrastive model is only as good as the pairs it was trained on. Here you fine-tune a *private copy* of
all-MiniLM-L6-v2 on pairs from one domain, **code search**: the query is the one-line summary of a Python
standard-library function's docstring, the passage is the rest of its documentation (its signature and the
remaining paragraphs; never the summary itself, so matching copied words does not solve the task).

Each training batch holds B pairs. Every query is scored against all B passages, and the loss (InfoNCE, known in
sentence-transformers as MultipleNegativesRankingLoss) is a softmax cross-entropy that asks for its own passage
among the B: the other B − 1 passages are free negatives. The **scale** (1/τ) multiplies the cosines before the
softmax: higher means sharper. Training and evaluation use **different modules** of the standard library, so the
held-out figures measure what carries over, not what was memorised."""

LOOK_FOR = """- **Metrics** (held-out queries, each searching all held-out passages): *recall@k* is the share of queries whose
  passage is in the top k; *MRR@10* averages 1/rank of the right passage (0 beyond rank 10); *NDCG@10* discounts a hit
  at rank r by log2(r + 1).
- **Loss curve**: the loss per batch is noisy (each batch has different negatives); watch the running mean. With B
  pairs a model that guesses at random scores log B (3.5 for B = 32), a perfect one 0.
- **Histograms**: the cosine of each held-out query with its own passage (green) and with a random passage (red).
  Retrieval needs green above red *for the same query*; fine-tuning mainly widens the gap.
- Change one knob at a time. Try a very low scale (1) and a very high one (100); try one epoch against three; try
  a different seed to see how much of a change is noise.

**Discuss:** why do in-batch negatives get harder as the batch grows? What would a duplicate text in a batch do
to the loss?"""

DATA_CHOICES = [("Bundled: Python standard-library docstrings (code search)", "bundled"),
                ("My CSV (query,positive)", "upload")]
UPLOAD_HELP = (
    f"A UTF-8 CSV with a header row `query,positive`, {MIN_CSV_ROWS} to {MAX_CSV_ROWS} rows, every query and every "
    "positive unique. 20% of the rows (a fixed random choice) are held out for evaluation."
)
PHASES = {
    "before": "embedding the held-out pairs with the base model",
    "train": "starting training",
    "after": "embedding the held-out pairs with the fine-tuned model",
}
SESSION_PREFIX = "finetuned-"
LEARNING_RATES = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4)


def session_model_name(base_id: str) -> str:
    """``finetuned-minilm`` for minilm; fine-tuning a fine-tuned model keeps its name (and replaces it)."""
    return base_id if base_id.startswith(SESSION_PREFIX) else f"{SESSION_PREFIX}{base_id}"


def metrics_table(result) -> pd.DataFrame:
    change = result.change()
    return pd.DataFrame(
        [{"metric": m, "before": round(result.before.metrics[m], 4), "after": round(result.after.metrics[m], 4),
          "change": round(change[m], 4)} for m in METRIC_NAMES],
        columns=["metric", "before", "after", "change"],
    )


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    stops = StopFlags("Stopping after the current step; the model keeps what it has learnt so far.", idle="Nothing is training.")

    def trainable_choices(session: str) -> list[tuple[str, str]]:
        out = []
        for label, model_id in model_choices(registry, "text", session):
            spec = registry.specs.get(model_id)
            if spec is not None and spec.family == "sentence-transformers":
                out.append((label, model_id))
            elif spec is None and is_trainable(registry.get(model_id, session=session)):
                out.append((label, model_id))
        return out

    defaults = TrainSettings()
    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Accordion("What to look for", open=False):
        gr.Markdown(LOOK_FOR)
    with gr.Row():
        base_model = gr.Dropdown(choices=trainable_choices(""), value="minilm", label="Model to fine-tune",
                                 info="sentence-transformers models, and the ones you fine-tuned in this session")
        source = gr.Radio(DATA_CHOICES, value="bundled", label="Data")
    with gr.Row():
        upload = gr.File(label="Your pairs (CSV)", file_types=[".csv"], type="filepath", scale=2)
        with gr.Column(scale=3):
            gr.Markdown(UPLOAD_HELP)
            data_info = gr.Markdown(
                f"**Data:** the bundled set, {DEFAULT_MAX_TRAIN} training pairs and {DEFAULT_MAX_HELDOUT} held-out "
                "pairs from other modules (built from the installed standard library when you first train)."
            )
    with gr.Accordion("Training settings", open=True):
        with gr.Row():
            seed = gr.Number(value=defaults.seed, precision=0, label="Seed", info="fixes the batch order")
            epochs = gr.Slider(*LIMITS["epochs"], value=defaults.epochs, step=1, label="Epochs")
            batch_size = gr.Slider(*LIMITS["batch_size"], value=defaults.batch_size, step=4, label="Batch size",
                                   info="pairs per batch: each query gets batch − 1 negatives")
            max_steps = gr.Slider(*LIMITS["max_steps"], value=defaults.max_steps, step=1, label="Step cap")
        with gr.Row():
            learning_rate = gr.Dropdown([(f"{lr:g}", lr) for lr in LEARNING_RATES], value=defaults.learning_rate,
                                        label="Learning rate", info="AdamW's peak (warm-up, then linear decay)")
            scale = gr.Slider(*LIMITS["scale"], value=defaults.scale, step=1, label="Scale (1/τ)",
                              info="multiplies the cosines before the softmax")
            layers = gr.Slider(1, 6, value=defaults.trainable_layers, step=1, label="Layers that learn",
                               info="the top ones; the rest stay frozen (fewer: faster)")
        gr.Markdown(f"A run may see at most {MAX_PAIRS_SEEN} pairs (steps × batch size), so it ends within a "
                    "couple of minutes on a small CPU.")
    guess = gr.Radio([(text, key) for key, text in PREDICT_CHOICES.items()], label=PREDICT_QUESTION)
    with gr.Row():
        train = gr.Button("Train", variant="primary", scale=3)
        stop = gr.Button("Stop", variant="stop", scale=1)
    status = gr.Markdown()
    revealed = gr.Markdown()
    votes = ClassVotes(ctx, "run", guess, revealed)
    table = gr.Dataframe(label="Held-out retrieval, before and after", interactive=False, elem_id="fine_tune_metrics")
    metrics_plot = gr.Plot(label="Metrics before and after")
    with gr.Row(equal_height=False):
        loss_plot = gr.Plot(label="Loss curve")
        similarity_plot = gr.Plot(label="Positive vs random pairs")
    with gr.Row():
        settings_file = gr.File(label="This run: settings, data hash, library versions, figures (JSON)",
                                interactive=False)
        with gr.Column():
            zip_button = gr.Button("Prepare the fine-tuned model as a zip")
            zip_file = gr.File(label="Fine-tuned model (unzip, then SentenceTransformer(folder))", interactive=False)
    last_model = gr.State(None)  # the session model's name once a run finished

    @friendly_errors
    def describe_data(choice: str, path: Optional[str]):
        if choice == "upload" and path:
            return describe_pairs(load_pairs(path))
        if choice == "upload":
            return "Upload a `query,positive` CSV, or choose the bundled data."
        return describe_pairs(load_pairs(None))

    @friendly_errors
    def run_training(model_id, choice, path, seed_value, epochs_value, batch_value, steps_value, lr_value,
                     scale_value, layers_value, prediction, request: gr.Request, progress=gr.Progress()):
        session = session_id(request)
        if not model_id:
            raise ValueError("Pick a model to fine-tune first.")
        if choice == "upload" and not path:
            raise ValueError("You chose your own CSV but none is uploaded: upload a query,positive CSV, "
                             "or choose the bundled data.")
        settings = TrainSettings(
            seed=int(seed_value or 0), epochs=int(epochs_value), batch_size=int(batch_value),
            learning_rate=float(lr_value), scale=float(scale_value), max_steps=int(steps_value),
            trainable_layers=int(layers_value),
        ).validate()
        progress(0, desc="loading the data")
        pairs = load_pairs(path if choice == "upload" else None)
        base = registry.get(model_id, session=session)
        losses: list[float] = []

        def on_step(step: int, total: int, loss: float) -> None:
            losses.append(loss)
            recent = losses[-10:]
            progress((step, total), desc=f"training: loss {loss:.3f} (mean of last {len(recent)}: "
                                         f"{sum(recent) / len(recent):.3f})", unit="steps")

        with stops.running(session) as should_stop:
            result = run_fine_tune(base, pairs, settings, on_step=on_step, should_stop=should_stop,
                                   on_phase=lambda name: progress(0, desc=PHASES[name]))
        name = session_model_name(base.id)
        model = wrap_model(result.student, name, base.device)
        registry.add_session_model(session, name, model)  # cached under a key of its own
        figures = result_figures(result)
        provenance = result.provenance()
        provenance["session_model"] = name
        files = write_downloads("fine_tune", figures=provenance)
        summary = (
            f"Trained `{name}` from `{base.id}`: {len(result.log.losses)} of {result.log.steps_planned} steps "
            f"in {result.log.seconds:.0f} s{' (stopped)' if result.log.stopped else ''}. It is now in every "
            "model picker of this session (labelled *yours, this session*) until you close the tab."
        )
        choices = trainable_choices(session)
        return (summary, reveal(result, prediction), metrics_table(result), figures["metrics"], figures["loss"],
                figures["similarity"], files[0], name, gr.update(choices=choices, value=model_id), None)

    @friendly_errors
    def model_zip(name: Optional[str], request: gr.Request, progress=gr.Progress()):
        if not name:
            raise ValueError("Train a model first; then it can be downloaded.")
        session = session_id(request)
        if name not in registry.session_models(session):
            raise ValueError("Your fine-tuned model is gone (the session ended). Train again.")
        progress(0.2, desc="saving and zipping the model")
        return save_model_zip(registry.get(name, session=session).st, name)

    def refresh_models(current, request: gr.Request):
        return gr.update(choices=trainable_choices(session_id(request)), value=current)

    outputs = [status, revealed, table, metrics_plot, loss_plot, similarity_plot, settings_file, last_model,
               base_model, zip_file]
    votes.after(train.click(run_training, [base_model, source, upload, seed, epochs, batch_size, max_steps, learning_rate,
                               scale, layers, guess], outputs, api_name="fine_tune_run"))
    stop.click(stops.request_stop, None, status, api_name="fine_tune_stop", queue=False)
    zip_button.click(model_zip, last_model, zip_file, api_name="fine_tune_model_zip")
    @friendly_errors
    def uploaded(path: Optional[str]):
        choice = "upload" if path else "bundled"
        return choice, describe_data(choice, path)

    upload.change(uploaded, upload, [source, data_info], api_name="fine_tune_upload")
    source.input(describe_data, [source, upload], data_info, api_name="fine_tune_data")
    if ctx.tab is not None:
        ctx.tab.select(refresh_models, base_model, base_model, api_name="fine_tune_models")
