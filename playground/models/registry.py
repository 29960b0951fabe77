"""The shared model registry: one per process, shared by every lab and every user.

``registry.get("minilm")`` returns a loaded model, loading it on first use, once
per process even when many requests ask at the same moment. Models that cannot
be had (no network and no local copy) are listed as unavailable with the reason.
A memory budget unloads the least recently used model when a new one would not fit.
Models a user trains (a fine-tuned encoder, a CLIP trained from scratch) live in
that user's session only.
"""
from __future__ import annotations

import gc
import os
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from playground.models.gpu import on_zero_gpu, track
from playground.models import availability_for, loader_for
from playground.models.base import EmbeddingCache, TextModel

MAX_MODEL_GB_ENV = "PLAYGROUND_MAX_MODEL_GB"
DEVICE_ENV = "PLAYGROUND_DEVICE"
HUB_ENV = "PLAYGROUND_HUB"
DEFAULT_MAX_MODEL_GB = 6.0
RETRY_AFTER_ENV = "PLAYGROUND_RETRY_AFTER"
DEFAULT_RETRY_AFTER = 60.0  # seconds a failed load is remembered before it is tried again


class UnknownModelError(KeyError):
    """Asked for a model id or alias nobody registered."""

    def __init__(self, model_id: str, known: list[str]) -> None:
        self.model_id = model_id
        self.known = known
        super().__init__(model_id)

    def __str__(self) -> str:
        return f"Unknown model {self.model_id!r}. Known models: {', '.join(self.known)}."


class ModelUnavailableError(RuntimeError):
    """The model is registered but cannot be loaded here; the message says why and what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """A model a plugin offers (contract).

    Args:
        id: the registry id (``minilm``, ``clip-vit-b-32``, ...).
        kind: ``"text"`` or ``"image-text"``.
        family: which loader builds it: ``"sentence-transformers"``,
            ``"hf-encoder"``, ``"glove"``, ``"open_clip"``; or pass ``loader``.
        source: what the loader loads: a hub id, a local folder, an open_clip
            architecture name, or ``local-dir:PATH``.
        options: family options (``pretrained`` tag, ``pooling``, ``bundled_package``).
        aliases: other names that resolve to this id.
        description: one line for the Models panel.
        size_gb: estimated memory once loaded (used by the budget before loading).
        loader: optional ``loader(spec, device) -> model`` for a family the shell
            does not know; ``availability(spec) -> (bool, reason)`` may go with it.
    """

    id: str
    kind: str
    family: str = ""
    source: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    description: str = ""
    size_gb: float = 0.5
    loader: Optional[Callable[["ModelSpec", str], TextModel]] = None
    availability: Optional[Callable[["ModelSpec"], tuple[bool, str]]] = None

    def __post_init__(self) -> None:
        if self.kind not in ("text", "image-text"):
            raise ValueError(f"ModelSpec {self.id!r}: kind must be 'text' or 'image-text', got {self.kind!r}.")
        if not self.family and self.loader is None:
            raise ValueError(f"ModelSpec {self.id!r}: give a family or a loader.")


def normalise_name(name: str) -> str:
    """Ids compare case-insensitively and without an ``org/`` prefix."""
    return name.strip().lower()


def hub_allowed() -> bool:
    """Whether models may be downloaded from the Hugging Face Hub.

    ``HF_HUB_OFFLINE=1`` always forbids it. Otherwise ``PLAYGROUND_HUB=1`` allows
    and ``PLAYGROUND_HUB=0`` forbids; unset, downloads are allowed on a Hugging
    Face Space (``SPACE_ID`` is set) and not elsewhere, so no default code path
    of a local run or a test reaches for the network.
    """
    return not hub_off_reason()


def hub_off_reason() -> str:
    """Why downloads are off, and what turns them on; "" when they are allowed (see
    ``hub_allowed``). The three cases differ, and a message that blamed the network
    would send the user the wrong way."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return ("HF_HUB_OFFLINE=1 is set, which forbids downloads whatever else is set: "
                "unset it and set PLAYGROUND_HUB=1 where the Hub is reachable")
    flag = os.environ.get(HUB_ENV, "").strip()
    if flag:
        if flag.lower() in ("1", "true", "yes", "on"):
            return ""
        return f"{HUB_ENV}={flag} turns downloads off: set {HUB_ENV}=1 where the Hub is reachable"
    if os.environ.get("SPACE_ID"):
        return ""
    return ("downloads are off outside a Hugging Face Space unless PLAYGROUND_HUB=1 is set "
            "(so a local run never reaches for the network): set it, or run `playground serve --hub`")


def pick_device() -> str:
    """``PLAYGROUND_DEVICE`` if set, else CUDA, then Apple MPS, then CPU.

    On ZeroGPU the answer is CUDA even though no GPU is attached outside
    ``@gpu`` calls: the ``spaces`` package defers the move until one is.
    """
    explicit = os.environ.get(DEVICE_ENV, "").strip()
    if explicit:
        return explicit
    if on_zero_gpu():
        return "cuda"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _budget_gb() -> float:
    raw = os.environ.get(MAX_MODEL_GB_ENV, "")
    try:
        return float(raw) if raw else DEFAULT_MAX_MODEL_GB
    except ValueError:
        raise ValueError(f"{MAX_MODEL_GB_ENV}={raw!r} is not a number of gigabytes (for example 4 or 0.5).")


def _seconds_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds (for example 60).")


def fidelity_text(fidelity: Optional[dict]) -> str:
    """A quantised model's measured fidelity (see ``int8_fidelity``), in one line."""
    if not fidelity:
        return ""
    text = (f"cosine to fp32: min {fidelity['min_cosine']:.3f}, mean {fidelity['mean_cosine']:.3f} "
            f"({fidelity['texts']} texts)")
    if "alone_vs_batch_min_cosine" in fidelity:
        text += f"; a text alone vs in its batch: min {fidelity['alone_vs_batch_min_cosine']:.3f}"
    return text


class ModelRegistry:
    """Holds every registered ``ModelSpec`` and the models loaded from them.

    Args:
        device: where to load models; defaults to ``pick_device()``.
        max_gb: the memory budget; defaults to ``PLAYGROUND_MAX_MODEL_GB`` or 6.
    """

    def __init__(self, device: Optional[str] = None, max_gb: Optional[float] = None) -> None:
        self._device = device  # chosen on first use: finding out whether CUDA is there imports torch
        self.max_bytes = int((max_gb if max_gb is not None else _budget_gb()) * 1e9)
        self.specs: dict[str, ModelSpec] = {}
        self.owners: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self._loaded: OrderedDict[str, TextModel] = OrderedDict()  # LRU order, oldest first
        self._sizes: dict[str, int] = {}
        self._state_lock = threading.RLock()
        self._load_locks: dict[str, threading.Lock] = {}
        self._sessions: dict[str, dict[str, TextModel]] = {}
        self.cache = EmbeddingCache()
        self.key = track(self)  # how a forked ZeroGPU worker finds this registry (see playground.models.gpu)
        self.load_counts: dict[str, int] = {}
        self.load_seconds: dict[str, float] = {}
        self.load_attempts: dict[str, int] = {}
        self.retry_after = _seconds_env(RETRY_AFTER_ENV, DEFAULT_RETRY_AFTER)
        self._failures: dict[str, tuple[float, str]] = {}  # id -> (when, why), so a failing load is not rebuilt per request

    @property
    def device(self) -> str:
        """Where models load: the constructor's ``device``, else ``pick_device()``."""
        if self._device is None:
            self._device = pick_device()
        return self._device

    # -- registration -------------------------------------------------------------
    def register(self, spec: ModelSpec, owner: str = "") -> None:
        """Add ``spec``; an id or alias already taken raises ``ValueError``."""
        names = [spec.id, *spec.aliases]
        with self._state_lock:
            for name in names:
                taken = self._aliases.get(normalise_name(name))
                if taken is not None:
                    raise ValueError(f"model name {name!r} is already registered (as {taken!r}).")
            self.specs[spec.id] = spec
            self.owners[spec.id] = owner
            for name in names:
                self._aliases[normalise_name(name)] = spec.id

    def resolve(self, id_or_alias: str, session: Optional[str] = None) -> str:
        """The registry id for ``id_or_alias``; ``UnknownModelError`` lists the known ids."""
        if session and id_or_alias in self._sessions.get(session, {}):
            return id_or_alias
        found = self._aliases.get(normalise_name(str(id_or_alias)))
        if found is None:
            known = sorted(self.specs) + sorted(self._sessions.get(session or "", {}))
            raise UnknownModelError(str(id_or_alias), known)
        return found

    # -- availability -------------------------------------------------------------
    def availability(self, model_id: str) -> tuple[bool, str]:
        """(available, reason) without loading anything or touching the network.

        A model whose load failed recently is unavailable, with that failure as the
        reason, until ``PLAYGROUND_RETRY_AFTER`` seconds have passed."""
        model_id = self.resolve(model_id)
        failure = self.recent_failure(model_id)
        if failure:
            return False, failure
        spec = self.specs[model_id]
        check = spec.availability
        if check is None and spec.loader is None:

            check = availability_for(spec.family)
        if check is None:
            return True, "provided by its plugin"
        try:
            return check(spec)
        except Exception as exc:  # a broken check must not break the Models panel
            return False, f"availability check failed: {type(exc).__name__}: {exc}"

    def model_ids(self, kind: Optional[str] = None, available_only: bool = False, session: Optional[str] = None) -> list[str]:
        """Registered ids (and the session's own models), optionally of one kind."""
        ids = [i for i, s in self.specs.items() if kind is None or s.kind == kind]
        if available_only:
            ids = [i for i in ids if self.availability(i)[0]]
        ids += [i for i, m in self._sessions.get(session or "", {}).items() if kind is None or m.kind == kind]
        return ids

    # -- loading ------------------------------------------------------------------
    def get(self, id_or_alias: str, session: Optional[str] = None) -> TextModel:
        """The loaded model, loading it on first use (once, even under concurrency).

        Raises ``UnknownModelError`` for a name nobody registered and
        ``ModelUnavailableError`` (with the reason) for one that cannot be had here.
        """
        if session and id_or_alias in self._sessions.get(session, {}):
            return self._sessions[session][id_or_alias]
        model_id = self.resolve(id_or_alias)
        with self._state_lock:
            model = self._loaded.get(model_id)
            if model is not None:
                self._loaded.move_to_end(model_id)
                return model
            lock = self._load_locks.setdefault(model_id, threading.Lock())
        with lock:
            with self._state_lock:  # another thread may have loaded it while we waited
                model = self._loaded.get(model_id)
                if model is not None:
                    self._loaded.move_to_end(model_id)
                    return model
            return self._load(model_id)

    def recent_failure(self, model_id: str) -> Optional[str]:
        """Why ``model_id`` failed to load, if it did less than ``retry_after`` seconds ago."""
        with self._state_lock:
            failure = self._failures.get(model_id)
        if failure is None:
            return None
        when, why = failure
        age = time.monotonic() - when
        if age >= self.retry_after:
            return None
        return f"{why} (failed {age:.0f} s ago; tried again after {self.retry_after:.0f} s)"

    def peek(self, model_id: str, session: Optional[str] = None) -> TextModel:
        """The model, without taking a lock when it is already loaded: what a forked
        ZeroGPU worker calls, where a lock held by another thread at the moment of
        the fork would never be released."""
        found = self._sessions.get(session, {}).get(model_id) if session else None
        if found is None:
            found = self._loaded.get(model_id)
        return found if found is not None else self.get(model_id, session=session)

    def _load(self, model_id: str) -> TextModel:
        spec = self.specs[model_id]
        ok, reason = self.availability(model_id)
        if not ok:
            raise ModelUnavailableError(f"Model {model_id!r} is not available here: {reason}")
        self._make_room(int(spec.size_gb * 1e9), keep=model_id)
        loader = spec.loader
        if loader is None:

            loader = loader_for(spec.family)
        started = time.perf_counter()
        self.load_attempts[model_id] = self.load_attempts.get(model_id, 0) + 1
        cpu_only = bool(spec.options.get("cpu_only"))
        # On ZeroGPU a CPU-only model stays off the (per-call) GPU: on the CPU it never spends quota.
        device = "cpu" if cpu_only and on_zero_gpu() else self.device
        try:
            model = loader(spec, device)
        except Exception as exc:
            if isinstance(exc, ModelUnavailableError):
                why = str(exc)
            else:
                why = f"Model {model_id!r} failed to load: {type(exc).__name__}: {exc}"
            with self._state_lock:
                self._failures[model_id] = (time.monotonic(), why)
            del exc
            gc.collect()  # whatever the failed load built goes now, not at some later collection
            raise ModelUnavailableError(why)
        with self._state_lock:
            self._failures.pop(model_id, None)
        model.id = model.cache_key = model_id
        model.cache = self.cache
        model.locator = (self.key, model_id, None)
        model.cpu_only = model.cpu_only or cpu_only
        with self._state_lock:
            self._loaded[model_id] = model
            self._sizes[model_id] = model.memory_bytes() or int(spec.size_gb * 1e9)
            self.load_counts[model_id] = self.load_counts.get(model_id, 0) + 1
            self.load_seconds[model_id] = time.perf_counter() - started
        self._make_room(0, keep=model_id)
        return model

    def _make_room(self, incoming: int, keep: str) -> None:
        """Unload least recently used models until ``incoming`` more bytes fit."""
        with self._state_lock:
            while self._loaded and sum(self._sizes.values()) + incoming > self.max_bytes:
                victim = next((m for m in self._loaded if m != keep), None)
                if victim is None:
                    break
                self.unload(victim)

    def unload(self, model_id: str) -> None:
        with self._state_lock:
            model = self._loaded.pop(model_id, None)
            self._sizes.pop(model_id, None)
        if model is not None:
            model.unload()

    def is_loaded(self, id_or_alias: str, session: Optional[str] = None) -> bool:
        """Whether ``get`` would return at once (a session's own model always does);
        False for an unknown id, which ``get`` then reports."""
        try:
            model_id = self.resolve(id_or_alias, session)
        except UnknownModelError:
            return False
        return model_id in self._loaded or model_id in self._sessions.get(session or "", {})

    def loaded_ids(self) -> list[str]:
        """Loaded models, least recently used first."""
        with self._state_lock:
            return list(self._loaded)

    # -- a user's own models ------------------------------------------------------
    def add_session_model(self, session: str, model_id: str, model: TextModel) -> None:
        """Make ``model`` visible to one session only, under ``model_id``."""
        if normalise_name(model_id) in self._aliases:
            raise ValueError(f"{model_id!r} is a shared model's name; choose another for a session model.")
        model.id = model_id
        model.cache = self.cache
        # Unique per registration: two sessions may both call a model "tuned", and a
        # retrained model under an old name must not reuse the old one's rows.
        model.cache_key = f"session:{session}:{model_id}:{uuid.uuid4().hex}"
        model.locator = (self.key, model_id, session)
        with self._state_lock:
            previous = self._sessions.setdefault(session, {}).get(model_id)
            self._sessions[session][model_id] = model
        if previous is not None and previous is not model:
            self.cache.forget_model(previous.cache_key)

    def session_models(self, session: str) -> dict[str, TextModel]:
        return dict(self._sessions.get(session, {}))

    def drop_session(self, session: str) -> None:
        """Forget everything ``session`` owned (called when the browser tab closes)."""
        with self._state_lock:
            models = self._sessions.pop(session, {})
        for model in models.values():
            self.cache.forget_model(model.cache_key)
            model.unload()

    # -- reporting ----------------------------------------------------------------
    def status(self, session: Optional[str] = None) -> list[dict]:
        """One row per model: id, kind, available, reason, loaded, device, memory_gb, ..."""
        rows = []
        for model_id, spec in self.specs.items():
            ok, reason = self.availability(model_id)
            model = self._loaded.get(model_id)
            rows.append(
                {
                    "id": model_id,
                    "kind": spec.kind,
                    "family": spec.family or "custom",
                    "aliases": list(spec.aliases),
                    "available": ok,
                    "reason": reason,
                    "loaded": model is not None,
                    # an unloaded model's device stays undecided until a first load decides it (no torch import here)
                    "device": model.device if model is not None else (self._device or "auto"),
                    "backend": getattr(model, "backend", "torch") if model is not None else "",
                    "fidelity": getattr(model, "fidelity", None),
                    "memory_gb": round(self._sizes.get(model_id, 0) / 1e9, 3),
                    "plugin": self.owners.get(model_id, ""),
                    "description": spec.description,
                }
            )
        for model_id, model in self._sessions.get(session or "", {}).items():
            rows.append(
                {
                    "id": model_id, "kind": model.kind, "family": "session", "aliases": [],
                    "available": True, "reason": "trained in this session", "loaded": True,
                    "device": model.device, "memory_gb": round(model.memory_bytes() / 1e9, 3),
                    "plugin": "session", "description": "yours only; gone when the tab closes",
                }
            )
        return rows
