"""The lab's data: (query, positive) pairs, a train / held-out split, and a hash.

Two sources:

- the bundled **code-search set**, built at run time from the installed Python
  standard library's source (parsed with ``ast``: nothing is imported or run).
  For every public function, method and class with a docstring of at least two
  paragraphs, the *query* is the docstring's summary (its first paragraph, as a
  search a programmer might type) and the *passage* is the rest of its
  documentation: the signature followed by the remaining paragraphs.
  The summary never appears in the passage, so a model must match a short
  description to a longer explanation of the same thing, not find copied words.
  Train and held-out pairs come from different modules (a fixed split by a hash
  of the module name), so no function, and no module, is in both.
- an uploaded CSV with columns ``query,positive``, validated row by row.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

from playground.data.uploads import UploadError, read_csv_table

# Pure-Python standard-library modules and packages whose source is parsed. The
# list is fixed (not "everything installed") so the set is the same wherever the
# same Python runs; test suites and GUI/demo modules are left out.
STDLIB_SOURCES: tuple[str, ...] = (
    "argparse", "ast", "asyncio", "base64", "bdb", "bisect", "calendar", "cgi", "cmd", "code", "codecs",
    "collections", "concurrent", "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "difflib", "dis", "doctest", "email", "enum", "filecmp", "fileinput", "fnmatch", "fractions",
    "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http",
    "imaplib", "importlib", "inspect", "ipaddress", "json", "linecache", "locale", "logging", "lzma",
    "mailbox", "mimetypes", "multiprocessing", "netrc", "numbers", "operator", "optparse", "os", "pathlib",
    "pdb", "pickle", "pickletools", "pkgutil", "platform", "plistlib", "poplib", "posixpath", "pprint",
    "profile", "pstats", "queue", "quopri", "random", "re", "reprlib", "sched", "secrets", "selectors",
    "shelve", "shlex", "shutil", "smtplib", "socket", "socketserver", "sqlite3", "ssl", "statistics",
    "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit", "tokenize", "trace",
    "traceback", "types", "typing", "unittest", "urllib", "uuid", "warnings", "wave", "weakref", "xml",
    "zipfile", "zipimport", "zoneinfo",
)
SKIP_PARTS = {"test", "tests", "idle_test", "__main__"}

HELDOUT_SHARE = 0.25  # the share of modules (by a hash of the name) held out for evaluation
MAX_QUERY_CHARS = 160
MIN_QUERY_WORDS = 4
MIN_PASSAGE_BODY_CHARS = 60
MAX_PASSAGE_CHARS = 260  # about 70 word pieces: the passage fits the training length (96) untruncated

CSV_COLUMNS = ("query", "positive")
MAX_CSV_ROWS = 2000
MIN_CSV_ROWS = 20


@dataclass(frozen=True)
class Pair:
    """One (query, positive) pair and where it came from (``group``: its module, or its CSV row)."""

    query: str
    positive: str
    group: str = ""
    name: str = ""


@dataclass
class PairSet:
    """Train and held-out pairs, with a description of the source."""

    train: list[Pair]
    heldout: list[Pair]
    source: str
    notes: list[str] = field(default_factory=list)

    def data_hash(self) -> str:
        """sha256 of the exact pairs (in order, split included): same hash, same data."""
        payload = json.dumps(
            {"train": [[p.query, p.positive] for p in self.train],
             "heldout": [[p.query, p.positive] for p in self.heldout]},
            ensure_ascii=False, separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# -- the bundled code-search set ---------------------------------------------------
def _module_files(name: str) -> list[tuple[str, str]]:
    """(dotted module name, file path) for a module or every file of a package."""
    spec = importlib.util.find_spec(name)  # finds, does not import, a top-level name
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return []
    if not spec.submodule_search_locations:
        return [(name, spec.origin)]
    root = os.path.dirname(spec.origin)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_PARTS and not d.startswith(("_", ".")))
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, file), root)[:-3].replace(os.sep, ".")
            parts = rel.split(".")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(p in SKIP_PARTS or (p.startswith("_") and p != "__init__") for p in parts):
                continue
            found.append((".".join([name, *parts]), os.path.join(folder, file)))
    return found


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _signature(node: ast.AST, owner: str) -> str:
    prefix = f"{owner}." if owner else ""
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        return f"class {prefix}{node.name}({bases})" if bases else f"class {prefix}{node.name}"
    args = ast.unparse(node.args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix}{node.name}({args}){returns}"


def split_docstring(doc: str) -> Optional[tuple[str, str]]:
    """(summary, body) of a docstring: the first paragraph and the rest, each on one
    line; None when there is no body or the summary is not a usable query."""
    doc = inspect.cleandoc(doc)
    paragraphs = re.split(r"\n\s*\n", doc, maxsplit=1)
    if len(paragraphs) < 2:
        return None
    summary, body = _one_line(paragraphs[0]), _one_line(paragraphs[1])
    if len(summary) > MAX_QUERY_CHARS or len(summary.split()) < MIN_QUERY_WORDS:
        return None
    if len(body) < MIN_PASSAGE_BODY_CHARS or ">>>" in summary:
        return None
    if summary.lower() in body.lower():  # a body that repeats its summary would make retrieval trivial
        return None
    return summary, body


def _documented(tree: ast.Module) -> Iterable[tuple[ast.AST, str]]:
    """Public classes and functions at module level, and public methods of those classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            yield node, ""
            if isinstance(node, ast.ClassDef):
                for child in node.body:
                    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not child.name.startswith("_"):
                        yield child, node.name


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " ..."


def stdlib_pairs(modules: Sequence[str] = STDLIB_SOURCES) -> list[Pair]:
    """Every usable (summary, signature + rest of docstring) pair in ``modules``,
    sorted by module then name. Queries or passages that occur more than once are
    dropped entirely: a summary shared by two functions has no single right answer.

    Parsing takes a few seconds, so the result is remembered per process (the
    installed standard library does not change while it runs)."""
    return list(_stdlib_pairs(tuple(modules)))


@functools.lru_cache(maxsize=4)
def _stdlib_pairs(modules: tuple[str, ...]) -> tuple[Pair, ...]:
    pairs: list[Pair] = []
    for top in modules:
        for module, path in _module_files(top):
            try:
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), filename=path)
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node, owner in _documented(tree):
                doc = ast.get_docstring(node, clean=False)
                parts = split_docstring(doc) if doc else None
                if parts is None:
                    continue
                summary, body = parts
                passage = _truncate(f"{_signature(node, owner)}: {body}", MAX_PASSAGE_CHARS)
                if summary in passage:  # e.g. a "summary" that only repeats the signature
                    continue
                name = f"{module}.{owner + '.' if owner else ''}{node.name}"
                pairs.append(Pair(query=summary, positive=passage, group=module, name=name))
    return tuple(drop_ambiguous(pairs))


def drop_ambiguous(pairs: Sequence[Pair]) -> list[Pair]:
    """Pairs whose query and positive are each unique in ``pairs``."""
    queries: dict[str, int] = {}
    positives: dict[str, int] = {}
    for p in pairs:
        queries[p.query] = queries.get(p.query, 0) + 1
        positives[p.positive] = positives.get(p.positive, 0) + 1
    return [p for p in pairs if queries[p.query] == 1 and positives[p.positive] == 1]


def is_heldout_group(group: str, share: float = HELDOUT_SHARE) -> bool:
    """A fixed, seed-independent choice: a module is held out when a hash of its
    top-level package name falls in the first ``share`` of the range, so a whole
    package (``email`` with ``email.utils``, ...) lands on one side."""
    top = group.split(".")[0]
    digest = int(hashlib.sha256(top.encode("utf-8")).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < share


def subsample(pairs: Sequence[Pair], limit: Optional[int], seed: int = 0) -> list[Pair]:
    """At most ``limit`` pairs, a fixed random choice (original order kept)."""
    if limit is None or len(pairs) <= limit:
        return list(pairs)
    keep = np.sort(np.random.default_rng(seed).choice(len(pairs), size=limit, replace=False))
    return [pairs[i] for i in keep]


def bundled_pairs(max_train: Optional[int] = None, max_heldout: Optional[int] = None) -> PairSet:
    """The bundled code-search set, split by module; optionally subsampled (a fixed
    choice, independent of the training seed, so "before" figures never move)."""
    pairs = stdlib_pairs()
    train = [p for p in pairs if not is_heldout_group(p.group)]
    heldout = [p for p in pairs if is_heldout_group(p.group)]
    train, heldout = subsample(train, max_train, seed=1), subsample(heldout, max_heldout, seed=2)
    heldout_modules = sorted({p.group.split(".")[0] for p in heldout})
    notes = [
        f"{len(train)} training pairs from {len({p.group for p in train})} modules; "
        f"{len(heldout)} held-out pairs from {len({p.group for p in heldout})} other modules "
        f"({', '.join(heldout_modules)})."
    ]
    return PairSet(train=train, heldout=heldout, source="bundled: Python standard library docstrings", notes=notes)


# -- an uploaded CSV -------------------------------------------------------------
def _repeated(frame, column: str) -> list[str]:
    counts = frame[column].value_counts()
    return [str(t) for t in counts[counts > 1].index]


def _rows_of(frame, column: str, text: str) -> str:
    rows = [str(i + 2) for i in frame.index[frame[column] == text][:4]]  # +2: header and 1-based
    return ", ".join(rows)


def read_pairs_csv(source, max_rows: int = MAX_CSV_ROWS, min_rows: int = MIN_CSV_ROWS) -> list[Pair]:
    """Pairs from a ``query,positive`` CSV.

    Raises ``UploadError`` (a ``ValueError``) when: the file is not a readable UTF-8
    CSV, a column is missing, too few or too many usable rows, a query repeats, a
    positive repeats, or a query equals its own positive. Repeats are refused because
    in-batch negatives would treat one copy as the other's negative.
    """
    frame = read_csv_table(source, CSV_COLUMNS, max_rows=max_rows, min_rows=min_rows)
    for column in CSV_COLUMNS:
        repeated = _repeated(frame, column)
        if repeated:
            examples = "; ".join(f"{t[:60]!r} (rows {_rows_of(frame, column, t)})" for t in repeated[:3])
            raise UploadError(
                f"{len(repeated)} {column} text(s) appear more than once, e.g. {examples}. Each {column} must be "
                f"unique: in-batch negatives would treat one copy as a wrong answer for the other. "
                f"Remove or merge the repeated rows."
            )
    same = frame.index[frame["query"] == frame["positive"]]
    if len(same):
        raise UploadError(
            f"{len(same)} row(s) have a query identical to its positive (rows "
            f"{', '.join(str(i + 2) for i in same[:5])}); retrieval would be trivial. Give each query a different passage."
        )
    return [Pair(query=q, positive=p, group=f"row{i + 2}") for i, (q, p) in enumerate(zip(frame["query"], frame["positive"]))]


def split_uploaded(pairs: Sequence[Pair], heldout_share: float = 0.2, seed: int = 0) -> PairSet:
    """A fixed random split of uploaded pairs (every pair is its own group, and texts
    are unique, so no pair and no text is on both sides)."""
    n = len(pairs)
    order = np.random.default_rng(seed).permutation(n)
    n_heldout = max(1, int(round(n * heldout_share)))
    held = set(order[:n_heldout].tolist())
    train = [p for i, p in enumerate(pairs) if i not in held]
    heldout = [p for i, p in enumerate(pairs) if i in held]
    notes = [f"{len(train)} training pairs and {len(heldout)} held-out pairs (a fixed random {heldout_share:.0%} split)."]
    return PairSet(train=train, heldout=heldout, source="uploaded CSV", notes=notes)
