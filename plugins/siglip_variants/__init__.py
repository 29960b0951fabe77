"""Lab: SigLIP-* (the SigLIP variants). Part "why the sigmoid loss scales": the batch split
over k simulated devices, the sigmoid loss computed chunk by chunk around a ring against the
softmax loss with its all-gather, and what each device holds and receives."""
from playground import Lab, hookimpl

LAB_ID = "siglip_variants"


def _build(ctx):
    from .ui import build  # gradio only when the tab is built

    build(ctx)


@hookimpl
def register_labs(register):
    from .headless import add_arguments, format_result, run

    register(
        Lab(
            id=LAB_ID,
            title="SigLIP-*",
            build=_build,
            order=55,
            description=(
                "Why the sigmoid loss scales: the batch split over k devices, chunk by chunk "
                "around a ring, against the softmax's all-gather."
            ),
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
        )
    )
