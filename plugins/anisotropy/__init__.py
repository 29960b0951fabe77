"""Lab 1, text anisotropy: an encoder whose objective never asks the vectors of
unrelated texts to point apart (BERT's masked-LM and next-sentence prediction, or
mean-pooled GloVe) against a contrastive one, on texts from four clearly different
domains (an illustrative comparison: the models differ in more than the objective);
then centering and whitening.

The tab is built by ``ui.build``; the experiment itself is ``compute.analyse``;
``playground run anisotropy`` runs it headless (``headless.run``).
"""
from __future__ import annotations

from playground import Lab, hookimpl

from .headless import PREDICTION, add_arguments, format_result, run, show

LAB_ID = "anisotropy"


def build(ctx):
    from .ui import build as build_ui  # gradio is imported only when the tab is built

    return build_ui(ctx)


@hookimpl
def register_labs(register):
    register(
        Lab(
            id=LAB_ID,
            title="Text anisotropy",
            build=build,
            order=10,
            description=(
                "A non-contrastive encoder (BERT or GloVe) against a contrastive one on four text domains: cosine matrices, "
                "intra/inter histograms, separation, anisotropy, projections and a noisy linear probe (noise at "
                "matched dimension by default)."
            ),
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
            prediction=PREDICTION,
            show=show,
        )
    )
