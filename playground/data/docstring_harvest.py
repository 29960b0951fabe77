"""Harvest first paragraphs of real standard-library docstrings: the fourth domain of
the bundled corpus (see ``playground.data.corpus``).

Run by ``corpus.harvest_docstrings`` as ``python -I -S docstring_harvest.py N SEED``,
in a process of its own that imports nothing but the standard library: other
libraries patch standard-library functions when they are imported (torch replaces
``inspect.getfile``, for one), so a harvest inside an app that has already imported
them would depend on what was imported first. This file uses only the standard
library and prints JSON: a list of ``[text, module]`` rows.
"""
from __future__ import annotations

import importlib
import inspect
import json
import random
import re
import sys
import warnings
from collections import defaultdict

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


def harvest(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, module) rows, sorted by module then text. Deterministic for a given
    Python version when run in a fresh ``python -I -S`` process.

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
        raise SystemExit(f"Only {len(pool)} usable docstrings found in the standard library; {n} requested.")
    rng.shuffle(pool)
    return sorted(pool[:n], key=lambda row: (row[1], row[0]))


if __name__ == "__main__":
    json.dump(harvest(int(sys.argv[1]), int(sys.argv[2])), sys.stdout)
