"""The bundled four-domain corpus: medical notes, legal clauses, poetry lines and
Python docstrings.

The first three domains were written for this project and ship as
``domain_texts.csv`` (``text,label``). The fourth is harvested at run time from
the installed standard library: the first paragraph of real docstrings
(``inspect.getdoc``), deduplicated and length-limited, with the module each one
came from (``docstring_harvest.py``). The harvest runs in a process of its own, so
it is deterministic for a given Python version, and is cached in memory and on disk
(``playground.paths.cache_dir("corpus")``).

    >>> from playground.data.corpus import load_corpus
    >>> frame = load_corpus()          # columns: text, label, module
    >>> frame.label.value_counts()     # about 80 of each of the four labels
"""
from __future__ import annotations

import csv
import functools
import json
import os
import subprocess
import sys
from typing import Optional

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
WRITTEN_CSV = os.path.join(HERE, "domain_texts.csv")
DOCSTRING_LABEL = "docstring"
DEFAULT_DOCSTRINGS = 82
HARVEST_SCRIPT = os.path.join(HERE, "docstring_harvest.py")
# Bump when the harvesting rules change, so stale disk caches are ignored. 3: harvested
# in a process of its own (before, what the app had imported could change the sample).
HARVEST_VERSION = 3


def harvest_docstrings(n: int = DEFAULT_DOCSTRINGS, seed: int = 0) -> pd.DataFrame:
    """``n`` first paragraphs of real standard-library docstrings: columns text,
    label (``"docstring"``), module. Deterministic for a given Python version:
    harvested by ``docstring_harvest.py`` in a process of its own that imports only
    the standard library (what this process has imported cannot change the result)."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", HARVEST_SCRIPT, str(n), str(seed)],
        capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Harvesting standard-library docstrings failed: {done.stderr.strip()[-500:]}")
    rows = json.loads(done.stdout)
    return pd.DataFrame({"text": [t for t, _ in rows], "label": DOCSTRING_LABEL, "module": [m for _, m in rows]})


def _docstring_cache_path(n: int, seed: int) -> Optional[str]:
    try:
        from playground.paths import cache_dir

        folder = cache_dir("corpus")
    except OSError:
        return None
    version = f"py{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    return os.path.join(folder, f"stdlib-docstrings-v{HARVEST_VERSION}-{version}-n{n}-s{seed}.csv")


@functools.lru_cache(maxsize=4)
def _cached_docstrings(n: int, seed: int) -> pd.DataFrame:
    path = _docstring_cache_path(n, seed)
    if path and os.path.exists(path):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if list(frame.columns) == ["text", "label", "module"] and len(frame) == n:
                return frame
        except (OSError, ValueError, pd.errors.ParserError):
            pass  # a damaged cache is rebuilt below
    frame = harvest_docstrings(n, seed)
    if path:
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            frame.to_csv(tmp, index=False, quoting=csv.QUOTE_MINIMAL)
            os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        except OSError:
            pass
    return frame


def docstrings(n: int = DEFAULT_DOCSTRINGS, seed: int = 0) -> pd.DataFrame:
    """The harvested docstrings (cached in memory and on disk); a fresh copy each call."""
    return _cached_docstrings(n, seed).copy()


@functools.lru_cache(maxsize=1)
def _written() -> pd.DataFrame:
    frame = pd.read_csv(WRITTEN_CSV, dtype=str, keep_default_na=False)
    frame["module"] = ""
    return frame


def written_texts() -> pd.DataFrame:
    """The three domains written for this project: columns text, label, module (empty)."""
    return _written().copy()


def load_corpus(include_docstrings: bool = True, n_docstrings: int = DEFAULT_DOCSTRINGS) -> pd.DataFrame:
    """The bundled corpus: columns ``text``, ``label`` (``medical``, ``legal``,
    ``poetry``, ``docstring``) and ``module`` (the standard-library module of a
    docstring, ``""`` for the written texts). Rows are grouped by label; a fresh
    DataFrame each call (callers may modify it)."""
    parts = [written_texts()]
    if include_docstrings:
        parts.append(docstrings(n_docstrings))
    return pd.concat(parts, ignore_index=True)[["text", "label", "module"]]
