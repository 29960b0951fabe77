"""Lab: triplet margin — sweep α on real triplets, then train a projection with it."""
from playground import Lab, hookimpl


def _build(ctx):
    from .ui import build  # gradio only when the tab is built

    build(ctx)


@hookimpl
def register_labs(register):
    from .headless import PREDICTION, add_arguments, format_result, run, show

    register(
        Lab(
            id="triplet_margin",
            title="Triplet margin",
            build=_build,
            order=20,
            description="Sweep the triplet margin α on real embeddings: loss, active triplets, d(a,p) against d(a,n).",
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
            prediction=PREDICTION,
            show=show,
        )
    )
