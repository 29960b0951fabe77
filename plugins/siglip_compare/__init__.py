"""Lab: SigLIP vs CLIP (softmax over labels against an independent sigmoid per label)."""
from playground import Lab, hookimpl


def _build(ctx):
    from .ui import build  # gradio only when the tab is built

    build(ctx)


@hookimpl
def register_labs(register):
    from .headless import add_arguments, format_result, run

    register(
        Lab(
            id="siglip_compare",
            title="SigLIP vs CLIP",
            build=_build,
            order=50,
            description=(
                "The same photo and labels through a softmax model and a sigmoid model; "
                "both losses as the batch grows."
            ),
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
        )
    )
