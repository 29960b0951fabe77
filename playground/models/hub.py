"""Where a model's files come from: a bundled package, a local folder, the local
Hugging Face cache, or (only where ``hub_allowed()``) a download from the Hub."""
from __future__ import annotations

import importlib
import os
from typing import Optional

from ..registry import ModelSpec, hub_allowed

HUB_HOWTO = (
    "Run where the Hugging Face Hub is reachable with PLAYGROUND_HUB=1 (a hosted Space "
    "allows it by itself), or download it once there so it sits in the local cache."
)


def bundled_path(spec: ModelSpec) -> Optional[str]:
    """The folder a bundled package ships (``options['bundled_package']``), or None."""
    package = spec.options.get("bundled_package")
    if not package:
        return None
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    return str(module.get_model_path())


def cached_file(repo_id: str, filename: str) -> Optional[str]:
    """A file of ``repo_id`` already in the local Hugging Face cache (no network)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename)
    return found if isinstance(found, str) else None


def local_dir(source: str) -> Optional[str]:
    """``source`` as a local folder (plain path or ``local-dir:PATH``), if it is one."""
    path = source[len("local-dir:"):] if source.startswith("local-dir:") else source
    return path if os.path.isdir(path) else None


def hub_availability(spec: ModelSpec, repo_id: str, probe_file: str, size_note: str) -> tuple[bool, str]:
    """(available, reason) for a model that lives on the Hub as ``repo_id``."""
    if local_dir(spec.source):
        return True, f"local folder {local_dir(spec.source)}"
    if cached_file(repo_id, probe_file):
        return True, "in the local Hugging Face cache"
    if hub_allowed():
        return True, f"downloads from the Hugging Face Hub on first use ({size_note})"
    return False, f"needs {repo_id} from the Hugging Face Hub, which this machine does not reach. {HUB_HOWTO}"


def pretrained_location(spec: ModelSpec) -> tuple[str, bool]:
    """(what to pass to ``from_pretrained``, whether to forbid downloads)."""
    path = bundled_path(spec) or local_dir(spec.source)
    if path:
        return path, True
    return spec.source, not hub_allowed()
