"""Installed packages that look like playground labs but declare no ``playground``
entry point: without it nothing loads them, and nothing would say so.

A package looks like a lab when it depends on this project or imports
``playground.hookimpl``. Only metadata text and the sources of small packages (and
of editable installs) are read, so the scan costs about 0.1 s.
"""
from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse
from urllib.request import url2pathname

from playground.contract import hookspecs

HOOKIMPL_IMPORT = re.compile(r"from\s+playground(?:\.hookspecs)?\s+import[^\n]*\bhookimpl\b|\bplayground\.hookimpl\b")
OWN_DISTRIBUTION = "contrastive-playground"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _small_sources(dist: importlib.metadata.Distribution, limit: int = 100) -> list[Path]:
    """The top-level Python files of a small distribution (a student lab is small; a
    big RECORD is not even read), and of the source folder of an editable install."""
    info = getattr(dist, "_path", None)  # the .dist-info folder of an installed distribution
    try:
        small = info is not None and (Path(info) / "RECORD").stat().st_size < 20_000
    except OSError:
        small = False
    paths = []
    lines = (dist.read_text("RECORD") or "").splitlines() if small else []
    if len(lines) <= limit:
        for line in lines:
            rel = line.split(",", 1)[0]
            if rel.endswith(".py") and rel.count("/") <= 1 and ".dist-info" not in rel and "__editable__" not in rel:
                paths.append(Path(str(dist.locate_file(rel))))
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except ValueError:
        direct = {}
    url = direct.get("url", "")
    if direct.get("dir_info", {}).get("editable") and url.startswith("file://"):
        root = Path(url2pathname(urlparse(url).path))
        paths += sorted(root.glob("*.py"))[:limit] + sorted(root.glob("*/*.py"))[:limit]
    return paths


REQUIRES_US = re.compile(r"^Requires-Dist:\s*contrastive[-_.]playground\b(?![^\n]*extra\s*==)", re.I | re.M)
METADATA_NAME = re.compile(r"^Name:\s*(\S+)", re.M)


def _looks_like_a_lab(dist: importlib.metadata.Distribution, metadata: str) -> bool:
    """Depends on this project, or imports ``playground.hookimpl``."""
    if REQUIRES_US.search(metadata):
        return True
    for path in _small_sources(dist):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(65536)
            if "playground" in text and HOOKIMPL_IMPORT.search(text):
                return True
        except OSError:
            continue
    return False


def _module_of(dist: importlib.metadata.Distribution) -> str:
    """The distribution's top-level module, as its entry point would name it."""
    top = (dist.read_text("top_level.txt") or "").split()
    if top:
        return top[0]
    for path in _small_sources(dist):
        return path.parent.name if path.name == "__init__.py" else path.stem
    return "your_module"


def distributions_missing_entry_point(wanted: Optional[set[str]] = None) -> list[tuple[str, str]]:
    """Installed distributions that look like playground labs (they depend on this
    project or import ``playground.hookimpl``) but declare no ``playground`` entry
    point, as ``(distribution name, its module)``. Reads metadata text only (fast)."""
    wanted_keys = {_normalise(w) for w in wanted} if wanted is not None else None
    missing = []
    seen = set()
    for dist in importlib.metadata.distributions():
        metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        match = METADATA_NAME.search(metadata)
        name = match.group(1) if match else ""
        key = _normalise(name)
        if not name or key in seen or key == OWN_DISTRIBUTION:
            continue
        seen.add(key)
        if wanted_keys is not None and key not in wanted_keys:
            continue
        if f"[{hookspecs.PROJECT_NAME}]" in (dist.read_text("entry_points.txt") or ""):
            continue
        if _looks_like_a_lab(dist, metadata):
            missing.append((name, _module_of(dist)))
    return missing


def missing_entry_point_error(dist: str, module: str) -> LookupError:
    exc = LookupError(
        f"the installed distribution {dist} looks like a playground lab (it depends on "
        "contrastive-playground or imports playground.hookimpl) but declares no `playground` entry point, "
        "so none of its labs is loaded."
    )
    lab = module.removesuffix("_lab")
    exc.fix = (
        f'Add `[project.entry-points.playground]` and below it `{lab} = "{module}"` to its pyproject.toml, '
        "then `pip install -e .` again."
    )
    return exc
