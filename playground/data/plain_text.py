"""Unlabelled English text to pre-train a small language model on, offline: prose
paragraphs of the docstrings in installed scientific Python packages (numpy,
scikit-learn, pandas, scipy: what the playground itself requires).

The sources are read as text and parsed with ``ast`` (nothing is imported, so the
result depends only on the installed files, not on what this process has imported),
split into paragraphs, and kept when they read as prose: long enough, mostly letters,
no doctest, no section underline. Standard-library docstrings are left out on purpose:
the bundled four-domain corpus's docstrings come from the standard library, so a model
pre-trained here has never read the texts its geometry is measured on.

    >>> from playground.data.plain_text import docstring_paragraphs
    >>> texts = docstring_paragraphs(max_words=200_000)   # list of str, deterministic
"""
from __future__ import annotations

import ast
import functools
import json
import os
import re
import sysconfig
from typing import Optional

PACKAGES = ("numpy", "sklearn", "pandas", "scipy")  # read in this order until max_words
DISTRIBUTIONS = ("numpy", "scikit-learn", "pandas", "scipy")  # their versions key the disk cache
DEFAULT_MAX_WORDS = 600_000
MIN_WORDS, MAX_CHARS = 8, 1200
VERSION = 1  # bump when the rules change, so stale disk caches are ignored

_SECTION_RULE = re.compile(r"^\s*[-=~^]{3,}\s*$", re.M)  # numpydoc "Parameters\n----------"
_NOT_PROSE = re.compile(r">>>|\.\. \w+::|^\s*\w+ : ", re.M)  # doctests, rst directives, "x : int" lines


def prose_paragraphs(docstring: str) -> list[str]:
    """The paragraphs of one docstring that read as prose, each on one line."""
    kept = []
    for para in re.split(r"\n\s*\n", docstring):
        if _SECTION_RULE.search(para) or _NOT_PROSE.search(para):
            continue
        text = " ".join(para.split())
        if len(text.split()) < MIN_WORDS or len(text) > MAX_CHARS:
            continue
        if sum(c.isalpha() for c in text) < 0.7 * len(text):
            continue
        kept.append(text)
    return kept


def _source_files(package: str) -> list[str]:
    root = os.path.join(sysconfig.get_paths()["purelib"], package)
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in ("tests", "test", "testing", "__pycache__"))
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    return found


def _docstrings(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [d for node in ast.walk(tree) if isinstance(node, kinds) and (d := ast.get_docstring(node))]


def harvest_paragraphs(max_words: int = DEFAULT_MAX_WORDS, packages=PACKAGES) -> list[str]:
    """Distinct prose paragraphs from ``packages``' docstrings, in file order, until
    ``max_words`` words are collected (fewer if the packages hold fewer)."""
    seen: set[str] = set()
    kept: list[str] = []
    words = 0
    for package in packages:
        for path in _source_files(package):
            for doc in _docstrings(path):
                for text in prose_paragraphs(doc):
                    if text.lower() in seen:
                        continue
                    seen.add(text.lower())
                    kept.append(text)
                    words += len(text.split())
                    if words >= max_words:
                        return kept
    return kept


def _cache_path(max_words: int) -> Optional[str]:
    try:
        from playground.paths import cache_dir, package_versions

        folder = cache_dir("corpus")
    except OSError:
        return None
    versions = "-".join(f"{k}{v}" for k, v in package_versions(DISTRIBUTIONS).items())
    return os.path.join(folder, f"docstring-paragraphs-v{VERSION}-{versions}-w{max_words}.json")


@functools.lru_cache(maxsize=2)
def _cached(max_words: int) -> tuple[str, ...]:
    path = _cache_path(max_words)
    if path and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                return tuple(json.load(f))
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    texts = harvest_paragraphs(max_words)
    if path:
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(texts, f)
            os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        except OSError:
            pass
    return tuple(texts)


def docstring_paragraphs(max_words: int = DEFAULT_MAX_WORDS) -> list[str]:
    """The harvested paragraphs (cached in memory and on disk); a fresh list each call."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}.")
    return list(_cached(int(max_words)))
