"""Lab 6, a mini contrastive fine-tune: train a private copy of the sentence encoder
with in-batch negatives on (query, passage) pairs, and measure retrieval on held-out
queries before and after.

The tab is built by ``ui.build``; the experiment is ``compute.run_fine_tune``;
``playground run fine_tune`` runs it headless (``headless.run``).
"""
from __future__ import annotations

from playground import Lab, hookimpl

from .headless import PREDICTION, add_arguments, format_result, run, show

LAB_ID = "fine_tune"


def build(ctx):
    from .ui import build as build_ui  # gradio is imported only when the tab is built

    return build_ui(ctx)


@hookimpl
def register_labs(register):
    register(
        Lab(
            id=LAB_ID,
            title="Contrastive fine-tune",
            build=build,
            order=60,
            description=(
                "Fine-tune the sentence encoder with in-batch negatives (InfoNCE) on code-search pairs, and "
                "measure held-out recall@k, MRR@10 and NDCG@10 before and after."
            ),
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
            prediction=PREDICTION,
            show=show,
        )
    )
