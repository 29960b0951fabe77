"""Text encoders and CLIP/SigLIP towers on ONNX Runtime: the same vectors, faster on a CPU.

A BERT-family encoder (MiniLM, BERT) is exported with ``torch.onnx.export`` from the
very weights the registry loaded, the first time it is used, and the graph is
cached on disk (``~/.cache/playground-onnx`` or ``PLAYGROUND_ONNX_DIR``) under a key
made of the model, its weight files and the library versions, so later starts
only load it. Tokenisation stays the model's own tokenizer; pooling (mean or
``[CLS]``) and normalisation happen in numpy exactly as sentence-transformers does
them, so the vectors match the torch path (tests assert cosine ≥ 0.9999).

Used on the CPU when ``onnxruntime`` is installed, unless ``PLAYGROUND_ONNX=0``.
On a GPU, and whenever the export or the session fails (logged), the torch path
serves. ``quantize=True`` makes a dynamically quantised int8 graph: faster still,
but its vectors drift (cosine ~0.93 to fp32 at worst), so it is only ever an
explicit model id (``minilm-int8``), never the default.

The image and text towers of an open_clip model (CLIP, SigLIP) are exported the same
way, each on its own (``onnx_tower_for``), keyed by the weights and the open_clip
and timm versions too; preprocessing and tokenisation stay open_clip's own.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from playground.paths import first_writable, package_versions

ONNX_ENV = "PLAYGROUND_ONNX"
ONNX_DIR_ENV = "PLAYGROUND_ONNX_DIR"
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
log = logging.getLogger(__name__)


def onnx_available() -> bool:
    """Whether onnxruntime is installed: a look at the files, not an import (an install
    that then fails to import is logged and the torch path serves, see ``onnx_encoder_for``)."""
    return importlib.util.find_spec("onnxruntime") is not None


def onnx_enabled(device: str) -> bool:
    """ONNX Runtime serves text encoders on the CPU when installed, unless PLAYGROUND_ONNX=0."""
    if os.environ.get(ONNX_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return device == "cpu" and onnx_available()


def cache_root() -> Path:
    """Where exported graphs live: ``PLAYGROUND_ONNX_DIR``, else ``playground-onnx`` under
    ``XDG_CACHE_HOME`` (default ``~/.cache``), else under the system temp dir when
    home is not writable (as ``playground.paths.cache_dir`` does)."""
    if os.environ.get(ONNX_DIR_ENV):
        return Path(os.environ[ONNX_DIR_ENV])
    home = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    candidates = [os.path.join(home, "playground-onnx"), os.path.join(tempfile.gettempdir(), "playground-onnx")]
    return Path(first_writable(candidates, hint=f"set {ONNX_DIR_ENV} to one"))


LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime")


def weight_files(folder: str) -> list[str]:
    """The transformers weight files present in ``folder`` (what an export is keyed by)."""
    return [os.path.join(folder, f) for f in ("model.safetensors", "pytorch_model.bin") if os.path.isfile(os.path.join(folder, f))]


def graph_key(model_id: str, weights: Sequence[str], quantize: bool, recipe: Optional[dict] = None) -> str:
    """A key that changes when the weights, the libraries or the export settings do.
    ``recipe`` names what else an export depends on (a tower's method, its libraries)."""
    files = []
    for path in weights:  # the file itself, wherever it is linked from (a cache's snapshot, a hard link)
        stat = os.stat(path)
        files.append([stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns])
    blob = {"model": model_id, "files": files, "quantize": quantize, "opset": OPSET, **package_versions(LIBRARIES)}
    if recipe:
        blob["recipe"] = recipe
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


KEEP_GRAPHS = 3  # per model id: older exports (other weights, other library versions) are removed
KEEP_ALL = 12  # in all: the least recently used beyond that are removed too


def prune(model_id: str, keep: Path) -> None:
    """Keep the disk cache bounded: at most ``KEEP_GRAPHS`` exports of ``model_id`` and
    ``KEEP_ALL`` in all, the most recently used (``keep`` counts as just used)."""
    import shutil

    os.utime(keep)
    folders = sorted((f for f in cache_root().iterdir() if f.is_dir()), key=lambda f: f.stat().st_mtime, reverse=True)
    same = [f for f in folders if f.name.rsplit("-", 1)[0] == model_id]
    survivors = [f for f in folders if f not in same[KEEP_GRAPHS:]][:KEEP_ALL]
    for old in folders:
        if old not in survivors:
            shutil.rmtree(old, ignore_errors=True)


MAX_BATCH = 64  # rows in one run
MAX_PADDING = 0.1  # a batch grows while its padding stays under this share of its real tokens


def length_batches(lengths: Sequence[int], max_batch: int = MAX_BATCH, max_padding: float = MAX_PADDING) -> list[list[int]]:
    """Row indices grouped shortest first into batches that pad little: a batch
    takes the next row while ``longest * rows <= (1 + max_padding) * real tokens``
    and it has fewer than ``max_batch`` rows. Every index appears once."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    real = 0
    for i in order:
        batch = batches[-1] if batches else None
        if batch is not None and len(batch) < max_batch and lengths[i] * (len(batch) + 1) <= (1 + max_padding) * (real + lengths[i]):
            batch.append(i)
            real += lengths[i]
        else:
            batches.append([i])
            real = lengths[i]
    return batches


class OnnxEncoder:
    """An exported encoder: texts in, pooled (not yet normalised) float32 rows out."""

    def __init__(self, path: Path, session, tokenizer, pooling: str, max_length: int) -> None:
        self.session = session
        self.names = [i.name for i in self.session.get_inputs()]
        self.tokenizer, self.pooling, self.max_length = tokenizer, pooling, max_length
        self.path = path

    def encode(self, texts: list[str]) -> np.ndarray:
        """Pooled rows for ``texts``, in their order. The texts are tokenised once,
        then run in batches of similar token length (see ``length_batches``): padding
        is compute spent on nothing, and sorting by characters, as callers do, still
        pads a batch of 64 by about half (measured on the bundled corpus)."""
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
        batches = length_batches([len(ids) for ids in encoded["input_ids"]])
        pooled = []
        for rows in batches:
            feeds = self._padded(encoded, rows)
            pooled.append(self._pool(self.session.run(None, feeds)[0], feeds["attention_mask"]))
        out = np.concatenate(pooled)  # in batch order: put back in the texts' order
        out[[r for rows in batches for r in rows]] = out.copy()
        return out

    def _padded(self, encoded, rows: list[int]) -> dict:
        """The model's inputs for ``rows``, padded as the tokenizer itself pads
        (its pad token, its padding side), as int64."""
        longest = max(len(encoded["input_ids"][r]) for r in rows)
        pad_values = {
            "input_ids": self.tokenizer.pad_token_id or 0, "attention_mask": 0,
            "token_type_ids": getattr(self.tokenizer, "pad_token_type_id", 0),
        }
        feeds = {}
        for name in self.names:
            if name not in encoded:
                continue
            batch = np.full((len(rows), longest), pad_values.get(name, 0), dtype=np.int64)
            for i, r in enumerate(rows):
                values = encoded[name][r]
                if self.tokenizer.padding_side == "left":
                    batch[i, longest - len(values):] = values
                else:
                    batch[i, : len(values)] = values
            feeds[name] = batch
        if "token_type_ids" in self.names and "token_type_ids" not in feeds:
            feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        return feeds

    def _pool(self, hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return hidden[:, 0].astype(np.float32)
        mask = attention_mask[..., None].astype(np.float32)
        return ((hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)).astype(np.float32)

    def file_bytes(self) -> int:
        return os.path.getsize(self.path)


def _export(hf_model, tokenizer, path: Path) -> None:
    """Export ``hf_model`` (a transformers encoder) to ``path``, with batch and
    sequence length dynamic."""
    import torch

    class ByKeyword(torch.nn.Module):  # transformers 5 takes these by keyword (positional ones collide with use_cache)
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = tokenizer(["an example sentence", "a second, longer example sentence"], padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    model = ByKeyword(hf_model).eval()
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants: expected here
        torch.onnx.export(
            model, tuple(sample[name] for name in INPUTS), str(path), input_names=list(INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
        )


def _cached_graph(model_id: str, key: str, export, quantize: bool = False) -> Path:
    """The graph of ``model_id`` in the disk cache under ``key``: exported now with
    ``export(path)`` (and quantised) when missing; one process exports at a time."""
    from filelock import FileLock

    folder = cache_root() / f"{model_id}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("model-int8.onnx" if quantize else "model.onnx")
    with FileLock(str(folder / "export.lock")):
        if not path.exists():
            fp32 = folder / "model.onnx"
            if not fp32.exists():
                export(folder / "partial.onnx")
                os.replace(folder / "partial.onnx", fp32)
            if quantize:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantize_dynamic(str(fp32), str(folder / "partial-int8.onnx"), weight_type=QuantType.QInt8)
                os.replace(folder / "partial-int8.onnx", path)
    prune(model_id, keep=folder)
    return path


def _session(path: Path, threads: Optional[int]):
    import onnxruntime as ort

    if threads is None:
        import torch

        threads = torch.get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_encoder_for(
    model_id: str, hf_model, tokenizer, weights: Sequence[str], pooling: str, max_length: int,
    quantize: bool = False, threads: Optional[int] = None,
) -> Optional[OnnxEncoder]:
    """The ONNX encoder for ``hf_model``, exported now or loaded from the disk cache;
    None (and a log line) when that fails, so the caller keeps its torch path."""
    try:
        key = graph_key(model_id, weights, quantize)
        path = _cached_graph(model_id, key, lambda p: _export(hf_model, tokenizer, p), quantize=quantize)
        return OnnxEncoder(path, _session(path, threads), tokenizer, pooling, max_length)
    except Exception as exc:  # the torch path serves instead
        log.warning("ONNX Runtime path for %s unavailable, using torch: %s: %s", model_id, type(exc).__name__, exc)
        return None


TOWER_LIBRARIES = ("open_clip_torch", "timm")


class OnnxTower:
    """One exported tower of an image-text model: a batch of pixels (float32) or of
    token ids (int64) in, its rows (not yet normalised) out."""

    def __init__(self, path: Path, session) -> None:
        self.path, self.session = path, session
        self.input = session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input: batch})[0].astype(np.float32, copy=False)

    def file_bytes(self) -> int:
        return os.path.getsize(self.path)


def _export_tower(model, method: str, sample, path: Path) -> None:
    """``model.<method>`` (``encode_image`` or ``encode_text``) to ``path``, batch dynamic."""
    import torch

    class Tower(torch.nn.Module):  # the model as a submodule, so its weights export as weights
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, x):
            return getattr(self.model, method)(x)

    fastpath = torch.backends.mha.get_fastpath_enabled()
    # nn.MultiheadAttention's fused inference kernel has no ONNX export; its plain path computes the same
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants: expected here
            torch.onnx.export(
                Tower(model).eval(), (sample,), str(path), input_names=["x"], output_names=["rows"],
                dynamic_axes={"x": {0: "batch"}, "rows": {0: "batch"}}, opset_version=OPSET, dynamo=False,
            )
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def onnx_tower_for(
    model_id: str, model, tower: str, sample, weights: Sequence[str], threads: Optional[int] = None,
) -> Optional[OnnxTower]:
    """The ONNX graph of an open_clip model's ``tower`` ("image" or "text"), exported
    from ``model`` with ``sample`` (a batch of its input) or loaded from the disk
    cache; None (and a log line) when that fails, so the caller keeps torch for it."""
    method = {"image": "encode_image", "text": "encode_text"}[tower]
    name = f"{model_id}-{tower}"
    try:
        key = graph_key(name, weights, False, recipe={"method": method, **package_versions(TOWER_LIBRARIES)})
        path = _cached_graph(name, key, lambda p: _export_tower(model, method, sample, p))
        return OnnxTower(path, _session(path, threads))
    except Exception as exc:  # the torch path serves instead
        log.warning("ONNX Runtime path for %s's %s tower unavailable, using torch: %s: %s",
                    model_id, tower, type(exc).__name__, exc)
        return None
