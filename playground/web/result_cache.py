"""A bounded in-memory cache of deterministic lab runs, shared by every user of the
process: when a class presses Run with the same defaults, the first run computes and
the others get its stored result. No gradio here.

The key is whatever fully determines a run: the lab, the models and their versions,
a hash of the data, the settings and the seed (``run_key``, ``model_versions``,
``data_hash``); labs call ``LabContext.shared_run``, which puts these together. Two identical runs that
arrive together compute once (the second waits for the first). ``PLAYGROUND_RESULT_CACHE=0``
turns it off; ``PLAYGROUND_RESULT_CACHE_SIZE`` bounds the entries (default 32).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

CACHE_ENV, SIZE_ENV = "PLAYGROUND_RESULT_CACHE", "PLAYGROUND_RESULT_CACHE_SIZE"


def run_key(*parts: Any) -> str:
    """A stable key for ``parts`` (JSON-able values; anything else by its ``repr``)."""
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def model_versions(registry, model_ids, session: str) -> list:
    """What identifies each model of a run: a registered model by its spec (id, source,
    options); a model trained in a session by that registration (its ``cache_key``, new at
    every training), so such runs are never shared with another session or a retrained model."""
    versions = []
    for model_id in model_ids:
        if model_id in registry.specs:
            versions.append((model_id, repr(registry.specs[model_id])))
        else:
            trained = registry.session_models(session).get(model_id)
            versions.append((model_id, session, getattr(trained, "cache_key", None)))
    return versions


def data_hash(data: Any) -> str:
    """A hash of a run's data: a pandas frame by its contents, bytes or text as they are."""
    if hasattr(data, "columns"):  # a DataFrame
        import pandas as pd

        return str(int(pd.util.hash_pandas_object(data, index=True).sum()))
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(bytes(data)).hexdigest()


class ResultCache:
    """``get_or_compute(key, compute)``: thread-safe, least recently used out first."""

    def __init__(self, max_items: int | None = None, enabled: bool | None = None) -> None:
        self.max_items = max_items if max_items is not None else int(os.environ.get(SIZE_ENV, "32"))
        self.enabled = enabled if enabled is not None else os.environ.get(CACHE_ENV, "1") != "0"
        self.hits = self.misses = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._items)

    def shared_run(self, compute: Callable[[], Any], lab_id: str, registry, models, session: str, *inputs: Any) -> Any:
        """``compute()`` once per identical run (see ``LabContext.shared_run``): the key is the
        lab, the models and their versions, and ``inputs``."""
        return self.get_or_compute(run_key(lab_id, model_versions(registry, models, session), *inputs), compute)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The stored value for ``key``, else ``compute()`` stored (an exception is not stored)."""
        if not self.enabled or self.max_items <= 0:
            return compute()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:  # an identical run already computing: wait for it, then read its result
            with self._lock:
                if key in self._items:
                    self.hits += 1
                    return self._items[key]
            value = compute()
            with self._lock:
                self.misses += 1
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
                self._computing.pop(key, None)
        return value
