"""The SigLIP-* tab. It only wires components to the compute modules."""
from __future__ import annotations

from typing import Optional

import gradio as gr
import pandas as pd

from playground.classroom.ui import ClassVotes
from playground.contract.lab import LabContext
from playground.web.ui import friendly_errors

from .figures import device_cost_figure
from .scaling import CHOICES, QUESTION, agreement, cost_rows, device_costs, reveal

LESSON = """### SigLIP-*: what the sigmoid variants bring
**Why the sigmoid loss scales.** Training on a batch of B image–text pairs spread over k devices, each device
embeds its own B/k pairs. The softmax (CLIP) loss needs, for every image, a normaliser over *every* text in the
batch, so each device must first gather every embedding (B × d of each) and build its full B/k × B rows of logits.
The sigmoid (SigLIP) loss is a plain sum of independent per-pair terms, so it can be computed chunk by chunk: each
device scores its images against the text chunk it holds, passes that chunk to its neighbour around a ring, and
after k steps every image has met every text (Zhai et al. 2023, *Sigmoid Loss for Language Image Pre-Training*,
section 3.3). Both are computed here exactly, on simulated devices; the figures count the bytes of the tensors the
loss code creates on each device."""


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
