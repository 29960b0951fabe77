"""The bundled four-domain corpus: medical notes, legal clauses, poetry lines and
Python docstrings.

The first three domains were written for this project and ship as
``domain_texts.csv`` (``text,label``). The fourth is harvested at run time from
the installed standard library: the first paragraph of real docstrings
(``inspect.getdoc``), deduplicated and length-limited, with the module each one
came from. The harvest is deterministic for a given Python version and is cached
in memory and on disk (``playground.paths.cache_dir("corpus")``).

    >>> from playground.data.corpus import load_corpus
    >>> frame = load_corpus()          # columns: text, label, module
    >>> frame.label.value_counts()     # about 80 of each of the four labels
"""
from __future__ import annotations

import csv
import functools
import importlib
import inspect
import os
import random
import re
import sys
import warnings
from collections import defaultdict
from typing import Optional

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
WRITTEN_CSV = os.path.join(HERE, "domain_texts.csv")
DOCSTRING_LABEL = "docstring"
DEFAULT_DOCSTRINGS = 82
HARVEST_VERSION = 2  # bump when the harvesting rules change, so stale disk caches are ignored

# Standard-library modules that import without side effects on every platform
# the playground runs on. Missing ones (an older or trimmed Python) are skipped.
STDLIB_MODULES = (
    "abc", "argparse", "ast", "asyncio", "base64", "bisect", "bz2", "calendar", "cmath", "codecs",
    "collections", "colorsys", "concurrent.futures", "configparser", "contextlib", "copy", "csv",
    "dataclasses", "datetime", "decimal", "difflib", "email.message", "email.utils", "enum", "filecmp",
    "fnmatch", "fractions", "functools", "getopt", "gettext", "glob", "graphlib", "gzip", "hashlib",
    "heapq", "hmac", "html", "html.parser", "http.client", "http.cookies", "inspect", "io", "ipaddress",
    "itertools", "json", "keyword", "linecache", "locale", "logging", "lzma", "math", "mimetypes",
    "operator", "os", "pathlib", "pickle", "pkgutil", "platform", "plistlib", "pprint", "queue",
    "quopri", "random", "re", "reprlib", "sched", "secrets", "selectors", "shelve", "shlex", "shutil",
    "smtplib", "socket", "sqlite3", "statistics", "string", "struct", "subprocess", "tarfile",
    "tempfile", "textwrap", "threading", "time", "timeit", "tokenize", "traceback", "types", "typing",
    "unicodedata", "urllib.parse", "urllib.request", "uuid", "warnings", "weakref", "wave",
    "xml.dom.minidom", "xml.etree.ElementTree", "zipfile", "zlib",
)
MIN_CHARS, MAX_CHARS, MIN_WORDS = 40, 220, 6
MAX_PER_MODULE = 3  # keeps the sample spread over many modules

# Signature lines ("new(name, data=b'') - ...", "a, b = f(X) ...", "string -> datetime ...").
_SIGNATURE = re.compile(r"^\w[\w.]*\(|^[\w, ]+=\s*[\w.]+\(|-->|^[\w ]{1,30}->")
_SKIP = re.compile(r">>>|^(deprecated|alias for|see |same as |internal|private|helper)", re.IGNORECASE)


def first_paragraph(doc: str) -> str:
    """The first paragraph of a cleaned docstring, on one line."""
    para = doc.strip().split("\n\n")[0]
    return " ".join(para.split())


def usable_docstring(text: str) -> bool:
    """Keep prose sentences of a sensible length; drop signatures, doctests, stubs."""
    if not (MIN_CHARS <= len(text) <= MAX_CHARS) or len(text.split()) < MIN_WORDS:
        return False
    if _SIGNATURE.search(text) or _SKIP.search(text):
        return False
    return sum(c.isalpha() for c in text) >= 0.6 * len(text)


def _documented_objects(module) -> list[tuple[str, object]]:
    """Public functions and classes defined in ``module``, and public methods of those classes."""
    found = []
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        found.append((name, obj))
        if inspect.isclass(obj):
            for meth_name, meth in sorted(vars(obj).items()):
                if not meth_name.startswith("_") and inspect.isroutine(meth):
                    found.append((f"{name}.{meth_name}", meth))
    return found


def harvest_docstrings(n: int = DEFAULT_DOCSTRINGS, seed: int = 0) -> pd.DataFrame:
    """``n`` first paragraphs of real standard-library docstrings: columns text,
    label (``"docstring"``), module. Deterministic for a given Python version.

    Only an object's own docstring counts (``obj.__doc__``, not one inherited
    from a base class); duplicates are dropped case-insensitively; at most
    ``MAX_PER_MODULE`` per module, so the sample covers many modules.
    """
    by_module: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some modules warn on import (deprecations)
        for module_name in STDLIB_MODULES:
            try:
                module = importlib.import_module(module_name)
            except Exception:  # absent on this Python: skip it
                continue
            for _name, obj in _documented_objects(module):
                own = getattr(obj, "__doc__", None)
                if not isinstance(own, str) or not own.strip():
                    continue
                text = first_paragraph(inspect.getdoc(obj) or "")
                if usable_docstring(text) and text.lower() not in seen:
                    seen.add(text.lower())
                    by_module[module_name].append(text)
    rng = random.Random(seed)
    pool = []
    for module_name in sorted(by_module):
        texts = list(by_module[module_name])
        rng.shuffle(texts)
        pool += [(text, module_name) for text in texts[:MAX_PER_MODULE]]
    if len(pool) < n:
        raise RuntimeError(f"Only {len(pool)} usable docstrings found in the standard library; {n} requested.")
    rng.shuffle(pool)
    pool = sorted(pool[:n], key=lambda row: (row[1], row[0]))
    return pd.DataFrame(
        {"text": [t for t, _ in pool], "label": DOCSTRING_LABEL, "module": [m for _, m in pool]}
    )


def _docstring_cache_path(n: int, seed: int) -> Optional[str]:
    try:
        from ..paths import cache_dir

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
