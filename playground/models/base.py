"""The shape every loaded model has, whatever its family.

Text models turn texts into L2-normalised float32 rows; image-text models also
turn images into rows of the same space and say how they score (softmax over
labels, as CLIP does, or an independent sigmoid per label, as SigLIP does).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from playground.models.gpu import dispatch_to_gpu, encode_images_on_gpu, encode_texts_on_gpu
from playground.models.gpu_policy import encoding_seconds

ProgressFn = Optional[Callable[[int, int], None]]


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero); float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class EmbeddingCache:
    """Rows already computed, keyed by (model id, text); shared by every lab and user.

    Bounded by ``max_rows``; the least recently used rows go first.
    """

    def __init__(self, max_rows: int = 200_000) -> None:
        self.max_rows = max_rows
        self._rows: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_many(self, model_id: str, texts: Sequence[str]) -> list[Optional[np.ndarray]]:
        with self._lock:
            out = []
            for text in texts:
                row = self._rows.get((model_id, text))
                if row is not None:
                    self._rows.move_to_end((model_id, text))
                    self.hits += 1
                else:
                    self.misses += 1
                out.append(row)
            return out

    def put_many(self, model_id: str, texts: Iterable[str], rows: np.ndarray) -> None:
        with self._lock:
            for text, row in zip(texts, rows):
                self._rows[(model_id, text)] = row
            while len(self._rows) > self.max_rows:
                self._rows.popitem(last=False)

    def forget_model(self, model_id: str) -> None:
        with self._lock:
            for key in [k for k in self._rows if k[0] == model_id]:
                del self._rows[key]

    def __len__(self) -> int:
        return len(self._rows)


class TextModel:
    """A loaded text encoder. Subclasses implement ``_encode``.

    Attributes:
        id: the registry id it was loaded under.
        device: where its weights live ("cpu", "cuda", ...).
        dim: the embedding width.
    """

    kind = "text"
    # Marks a model for the ZeroGPU stand-in, which reports any model that crosses into a
    # worker (playground.models.zero_gpu) without importing this module.
    is_playground_model = True
    # True for a model that computes well on the CPU and never asks ZeroGPU for a GPU
    # (MiniLM on ONNX Runtime, GloVe in numpy; set from the spec's ``cpu_only`` option).
    cpu_only = False

    def __init__(self, id: str, device: str = "cpu") -> None:
        self.id = id
        self.device = device
        self.dim = 0
        self.cache: Optional[EmbeddingCache] = None
        self.cache_key = id  # rows are cached under this key; a session model gets a unique one
        # (registry key, model id, session), set by the registry: how a ZeroGPU worker finds this model
        self.locator: Optional[tuple] = None

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def encode_texts(
        self, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn = None
    ) -> np.ndarray:
        """Embed ``texts``: float32 array of shape (len(texts), dim), rows L2-normalised.

        Texts already embedded by this model (in this process) come from the
        cache; only the new ones are encoded, each distinct text once.
        """
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cached = self.cache.get_many(self.cache_key, texts) if self.cache is not None else [None] * len(texts)
        # New texts, each once, shortest first: a batch of similar lengths pads least (sentence-transformers sorts too).
        todo = sorted(dict.fromkeys(t for t, row in zip(texts, cached) if row is None), key=len)
        fresh: dict[str, np.ndarray] = {}
        # On ZeroGPU, when the GPU gains enough (gpu_policy), all new texts go in one @gpu call
        # (strings in, rows out); elsewhere chunk by chunk.
        on_gpu = bool(todo) and self._dispatch("text", len(todo))
        step = len(todo) if on_gpu else batch_size
        for start in range(0, len(todo), step):
            chunk = todo[start : start + step]
            raw = encode_texts_on_gpu(self.locator, chunk, batch_size) if on_gpu else self._encode(chunk, batch_size)
            rows = l2_normalise(raw)
            fresh.update(zip(chunk, rows))
            if self.cache is not None:
                self.cache.put_many(self.cache_key, chunk, rows)
            if progress is not None:
                progress(min(start + step, len(todo)), len(todo))
        out = np.stack([row if row is not None else fresh[t] for t, row in zip(texts, cached)])
        return out.astype(np.float32, copy=False)

    def _dispatch(self, kind: str, n: int) -> bool:
        """Whether embedding ``n`` new items of ``kind`` goes through a ``@gpu`` call."""
        if self.cpu_only or self.locator is None:
            return False
        return dispatch_to_gpu(self.locator, cpu_seconds=encoding_seconds(self, kind, n))

    def memory_bytes(self) -> int:
        """Bytes its weights take (an estimate used for the memory budget)."""
        return 0

    def unload(self) -> None:
        """Drop references to the weights so they can be freed."""


class ImageTextModel(TextModel):
    """A loaded image-text model (CLIP- or SigLIP-like).

    Attributes:
        scoring: "softmax" (scores over labels sum to 1) or "sigmoid" (each
            label scored independently).
        logit_scale: the learned scale (1/temperature) applied to cosines.
        logit_bias: the learned bias (SigLIP) or None (CLIP).
        initial_logit_bias: where that bias started training, for a model trained in this
            app (None when unknown, as for a downloaded checkpoint).
        image_size: the side of the square image the model sees.
        patch_size: the ViT patch side, or None for a CNN.
    """

    kind = "image-text"
    scoring = "softmax"

    def __init__(self, id: str, device: str = "cpu") -> None:
        super().__init__(id, device)
        self.logit_scale = 100.0
        self.logit_bias: Optional[float] = None
        self.initial_logit_bias: Optional[float] = None
        self.image_size = 224
        self.patch_size: Optional[int] = None
        # How a photo becomes the square input, in words (for the ViT's-view caption).
        self.preprocessing = ""

    def encode_images(self, images: Sequence, batch_size: int = 16) -> np.ndarray:
        """Embed PIL images: float32 (len(images), dim), rows L2-normalised."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._dispatch("image", len(images)):  # images in, rows out: the model stays in the worker
            return l2_normalise(encode_images_on_gpu(self.locator, list(images), batch_size))
        rows = [self._encode_images(list(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
        return l2_normalise(np.concatenate(rows))

    def _encode_images(self, images: list) -> np.ndarray:
        raise NotImplementedError

    def preprocess_view(self, image) -> np.ndarray:
        """The image as the model sees it: HxWx3 uint8 at the model's input size."""
        raise NotImplementedError

    def logits(self, image_emb: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
        """``logit_scale * cos + logit_bias``: shape (images, texts)."""
        logits = self.logit_scale * (np.asarray(image_emb) @ np.asarray(text_emb).T)
        if self.logit_bias is not None:
            logits = logits + self.logit_bias
        return logits.astype(np.float32)

    def probabilities(self, image_emb: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
        """Scores per image and label: a softmax over labels (each row sums to 1)
        for "softmax" models, an independent sigmoid per pair for "sigmoid" ones."""
        logits = self.logits(image_emb, text_emb).astype(np.float64)
        if self.scoring == "sigmoid":
            return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def torch_module_bytes(module) -> int:
    """Bytes held by a torch module's parameters and buffers."""
    total = 0
    for t in list(module.parameters()) + list(module.buffers()):
        total += t.numel() * t.element_size()
    return total
