"""Hello lab: a student lab for the contrastive playground.

Read it top to bottom: the compute function (plain Python, no gradio, so tests
and notebooks can call it), the figure, the tab's UI that wires them to
components, the headless run for `playground run hello`, and the hook that
registers the lab.
"""
from __future__ import annotations

import numpy as np

from playground import Lab, hookimpl

DEFAULT_MODEL = "minilm"
EXAMPLE = "A cat sits on the mat.\nA kitten is resting on a rug.\nInterest rates rose again this quarter."


# -- compute ---------------------------------------------------------------------
def cosine_table(registry, sentences: list[str], model_id: str = DEFAULT_MODEL) -> np.ndarray:
    """Pairwise cosine similarities of ``sentences`` under the model ``model_id``.

    The registry's vectors are L2-normalised, so the dot product is the cosine.
    """
    if len(sentences) < 2:
        raise ValueError("Give at least two sentences, one per line.")
    vectors = registry.get(model_id).encode_texts(sentences)
    return vectors @ vectors.T


# -- figure ----------------------------------------------------------------------
def cosine_figure(sims: np.ndarray, labels: list[str]):
    """A plotly heatmap of the cosine matrix (shown by ``gr.Plot``), rounded for display."""
    import plotly.graph_objects as go

    figure = go.Figure(
        go.Heatmap(z=sims.round(3), x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu_r",
                   texttemplate="%{z:.2f}", hovertemplate="%{y} / %{x}: %{z:.3f}<extra></extra>")
    )
    figure.update_layout(title="Cosine similarity", yaxis_autorange="reversed", height=420)
    return figure


# -- UI --------------------------------------------------------------------------
def build(ctx) -> None:
    import gradio as gr
    import pandas as pd

    from playground.web.ui import friendly_errors, model_choices

    gr.Markdown("Type sentences, one per line, and see how close the model puts each pair.")
    text = gr.Textbox(label="Sentences, one per line", lines=4, value=EXAMPLE)
    model = gr.Dropdown(model_choices(ctx.registry, "text"), value=DEFAULT_MODEL, label="Model")
    button = gr.Button("Compare", variant="primary")
    plot = gr.Plot(label="Cosine similarity")
    table = gr.Dataframe(label="Cosine similarity (table)")

    @friendly_errors
    def compare(text: str, model_id: str):
        sentences = [line.strip() for line in text.splitlines() if line.strip()]
        sims = cosine_table(ctx.registry, sentences, model_id)
        short = [s[:30] for s in sentences]
        return cosine_figure(sims, short), pd.DataFrame(sims.round(3), columns=short).assign(sentence=short)

    # Every api_name starts with the lab id, so gradio_client can call "/hello_compare".
    button.click(compare, [text, model], [plot, table], api_name="hello_compare")


# -- headless --------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("--sentences", default=EXAMPLE.replace("\n", "|"), help="sentences separated by |")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a text model id (see `playground models`)")


def run(args, ctx) -> dict:
    sentences = [s.strip() for s in args.sentences.split("|") if s.strip()]
    sims = cosine_table(ctx.registry, sentences, args.model)
    return {"model": args.model, "sentences": sentences, "cosine": sims.round(4).tolist()}


# -- registration ----------------------------------------------------------------
@hookimpl
def register_labs(register):
    register(
        Lab(
            id="hello",
            title="Hello lab",
            build=build,
            order=900,
            description="Compare sentences by cosine similarity under any text model.",
            add_arguments=add_arguments,
            run=run,
        )
    )
