"""Lab: CLIP zero-shot image classification (classify your own photo)."""
from playground import Lab, hookimpl


def _build(ctx):
    from .ui import build  # gradio only when the tab is built

    build(ctx)


@hookimpl
def register_labs(register):
    from .headless import add_arguments, format_result, run

    register(
        Lab(
            id="clip_zero_shot",
            title="CLIP zero-shot",
            build=_build,
            order=40,
            description="Classify a photo by labels typed in words: CLIP's softmax over prompt embeddings.",
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
        )
    )
