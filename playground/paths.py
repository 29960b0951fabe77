"""Where the playground keeps files it can rebuild (harvested corpora, numba's
compiled code): ``PLAYGROUND_CACHE_DIR``, else ``~/.cache/contrastive-playground``,
else a folder under the system temp dir when home is not writable (some hosts)."""
from __future__ import annotations

import os
import tempfile

CACHE_ENV = "PLAYGROUND_CACHE_DIR"


def cache_dir(*parts: str) -> str:
    """A writable cache folder (created if needed), optionally a sub-folder of it."""
    roots = [os.environ.get(CACHE_ENV, ""), os.path.join(os.path.expanduser("~"), ".cache", "contrastive-playground"),
             os.path.join(tempfile.gettempdir(), "contrastive-playground")]
    return first_writable([os.path.join(root, *parts) for root in roots if root], hint=f"set {CACHE_ENV} to one")


def first_writable(folders, hint: str) -> str:
    """The first of ``folders`` that exists or can be made, and can be written to."""
    for path in folders:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    raise OSError(f"No writable cache folder; {hint}.")


def package_versions(names) -> dict:
    """``{name: installed version}`` ("absent" when not installed): part of the key of a
    cache that must be rebuilt when one of these libraries changes."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found
