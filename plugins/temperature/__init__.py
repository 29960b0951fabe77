"""Lab: temperature — train a projection head with InfoNCE at several τ and watch the geometry."""
from playground import Lab, hookimpl


def _build(ctx):
    from .ui import build  # gradio only when the tab is built

    build(ctx)


@hookimpl
def register_labs(register):
    from .headless import PREDICTION, add_arguments, format_result, run, show

    register(
        Lab(
            id="temperature",
            title="Temperature",
            build=_build,
            order=30,
            description="Train a head with InfoNCE at several temperatures τ: alignment, uniformity, collapse or spread.",
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
            prediction=PREDICTION,
            show=show,
        )
    )
