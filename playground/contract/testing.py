"""Tiny models of the real architectures, built from a config into a folder, for
tests, benchmarks and offline demos. They load through the very loaders the real
models use (``hf-encoder`` and ``open_clip``); only their size and their random
weights differ, so they check plumbing and shapes, never what a model knows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from playground.models.registry import ModelSpec

_WORDS = (
    "a photo of the an cat dog car plane rocket coffee astronaut cup bird flower tree house "
    "red green blue small big round square is on in at with and to for this that text"
).split()


def tiny_bert(folder: str | os.PathLike) -> Path:
    """Save a 2-layer, 32-wide BERT with a small word-level vocabulary into ``folder``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *_WORDS, *"abcdefghijklmnopqrstuvwxyz0123456789"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    return folder


def tiny_open_clip(folder: str | os.PathLike, sigmoid: bool = False) -> Path:
    """Save a tiny open_clip model into ``folder`` as ``local-dir:`` expects it.

    ``sigmoid=False`` gives a CLIP (softmax) model; ``sigmoid=True`` a SigLIP-style
    one with a learned logit bias, scored by independent sigmoids.
    """
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_cfg = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    }
    if sigmoid:
        model_cfg["init_logit_bias"] = -10.0
        model_cfg["init_logit_scale"] = 2.302585  # log 10, SigLIP's initial temperature
    config = {"model_cfg": model_cfg, "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    torch.manual_seed(1 if sigmoid else 0)
    from open_clip.model import CLIP

    model = CLIP(**model_cfg)
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


def tiny_model_specs(root: str | os.PathLike) -> list[ModelSpec]:
    """Build the three tiny models under ``root`` and return specs for them:
    ``tiny-bert`` (text), ``tiny-clip`` (softmax) and ``tiny-siglip`` (sigmoid)."""
    root = Path(root)
    bert = tiny_bert(root / "tiny-bert")
    clip = tiny_open_clip(root / "tiny-clip")
    siglip = tiny_open_clip(root / "tiny-siglip", sigmoid=True)
    return [
        ModelSpec(id="tiny-bert", kind="text", family="hf-encoder", source=str(bert),
                  options={"pooling": "cls"}, description="tiny random BERT (tests)", size_gb=0.001),
        ModelSpec(id="tiny-clip", kind="image-text", family="open_clip", source=f"local-dir:{clip}",
                  description="tiny random CLIP (tests)", size_gb=0.01),
        ModelSpec(id="tiny-siglip", kind="image-text", family="open_clip", source=f"local-dir:{siglip}",
                  description="tiny random SigLIP (tests)", size_gb=0.01),
    ]


# gradio_client gives each request httpx's default 5 s; on a busy machine the server's answer
# to "join the queue" can take longer, and the client then fails with a ReadTimeout though the
# server dropped nothing (what failed 7 of 30 students in issue 29). A browser waits; so do
# the clients of the load tests and benchmarks, for as long as a student would.
STUDENT_PATIENCE_S = 120


def student_client(url: str, **kwargs):
    """A ``gradio_client.Client`` of ``url`` that waits ``STUDENT_PATIENCE_S`` for each answer,
    as a student's browser does (``kwargs``: more ``Client`` arguments, e.g. ``headers``)."""
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": STUDENT_PATIENCE_S}, **kwargs)


def call_api(client, api_name: str, **overrides):
    """``client.predict`` of ``api_name`` (a ``gradio_client.Client``) with the endpoint's
    own default inputs, some overridden by parameter name: a load test or benchmark then
    names only what it changes. ``prediction`` is ignored where the endpoint has none."""
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]["parameters"]
    unknown = set(overrides) - {p["parameter_name"] for p in params} - {"prediction"}
    if unknown:
        raise KeyError(f"{api_name} has no parameter(s) {sorted(unknown)}")
    return client.predict(*[overrides.get(p["parameter_name"], p.get("parameter_default")) for p in params],
                          api_name=api_name)
