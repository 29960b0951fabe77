"""Lab: SigLIP-* (the SigLIP variants), in three parts: why the sigmoid loss scales (the batch
split over k simulated devices, the sigmoid loss chunk by chunk around a ring against the softmax
loss with its all-gather: ``scaling``), multilingual alignment (a toy trained here on captions in
five languages, two tokenizers: ``multilingual``; the real checkpoints side by side:
``real_models``), and resolution (ViT-B-16-SigLIP's image tower at 224 to 512 px and its patch
grid: ``resolution``; a toy where a two-pixel mark decides the label at two input sizes:
``detail_toy``, its claim in ``claims``). Headless: ``headless``; the tab: ``ui``."""
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
                "Why the sigmoid loss scales (the batch split over k devices, chunk by chunk around a "
                "ring, against the softmax's all-gather); multilingual captions and tokenizers; "
                "higher-resolution patch grids, and a detail only the larger input keeps."
            ),
            add_arguments=add_arguments,
            run=run,
            format_result=format_result,
        )
    )
