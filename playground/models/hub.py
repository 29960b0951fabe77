"""Where a model's files come from: a bundled package, a local folder, the local
Hugging Face cache, or (only where ``hub_allowed()``) a download from the Hub.

Every Hub model is described by the files its loader reads (``RepoFiles``). The
loaders never talk to the Hub themselves: ``snapshot_folder`` finds those files in
the local cache, downloads the missing ones only where downloads are allowed, and
hands the loader a plain local folder. So a local run sends no request at all, a
Space that has every file cached sends none either, and a slow or failing Hub
costs a bounded time (``PLAYGROUND_HUB_TIMEOUT`` seconds without progress,
default 15) before a clear message, never a stalled class.
"""
from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from playground.models.registry import ModelSpec, ModelUnavailableError, _seconds_env, hub_allowed, hub_off_reason

CACHE_HOWTO = "(A hosted Space downloads by itself; a copy in the local Hugging Face cache is used as it is.)"
HUB_TIMEOUT_ENV = "PLAYGROUND_HUB_TIMEOUT"
DEFAULT_HUB_TIMEOUT = 15.0


@dataclass(frozen=True)
class RepoFiles:
    """The files a loader reads from a Hub repository.

    ``required``: groups of alternatives; one file of each group must be there
    (``("model.safetensors", "pytorch_model.bin")`` is one group). ``optional``:
    read when present, fetched when the Hub has them, never required.
    """

    required: tuple[tuple[str, ...], ...]
    optional: tuple[str, ...] = ()

    def describe(self, group: Sequence[str]) -> str:
        return " or ".join(group)


def hub_timeout() -> float:
    """Seconds a Hub request may go without an answer or progress before the load fails."""
    return _seconds_env(HUB_TIMEOUT_ENV, DEFAULT_HUB_TIMEOUT)


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
    return found if isinstance(found, str) and os.path.exists(found) else None


def local_dir(source: str) -> Optional[str]:
    """``source`` as a local folder (plain path or ``local-dir:PATH``), if it is one."""
    path = source[len("local-dir:"):] if source.startswith("local-dir:") else source
    return path if os.path.isdir(path) else None


def missing_files(repo_id: str, files: RepoFiles) -> list[str]:
    """The required groups of ``files`` with no file in the local cache, described."""
    return [files.describe(group) for group in files.required if not any(cached_file(repo_id, f) for f in group)]


def missing_in_folder(folder: str, files: RepoFiles) -> list[str]:
    """The required groups of ``files`` with no file in ``folder``, described."""
    return [
        files.describe(group) for group in files.required
        if not any(os.path.isfile(os.path.join(folder, f)) for f in group)
    ]


def hub_availability(repo_id: str, files: RepoFiles, size_note: str) -> tuple[bool, str]:
    """(available, reason) for a model that lives on the Hub as ``repo_id``: every
    file its loader reads must be cached, or downloads must be allowed."""
    missing = missing_files(repo_id, files)
    if not missing:
        return True, "in the local Hugging Face cache"
    if hub_allowed():
        return True, f"downloads {repo_id} from the Hugging Face Hub on first use ({size_note})"
    partly = len(missing) < len(files.required)
    what = f"the local cache holds part of {repo_id} but not {'; '.join(missing)}" if partly else f"needs {repo_id}"
    return False, f"{what} from the Hugging Face Hub, and {hub_off_reason()}. {CACHE_HOWTO}"


def _snapshot_of(path: str, filename: str) -> str:
    """The snapshot folder holding cached ``path`` (the file may sit in a subfolder)."""
    folder = os.path.dirname(path)
    for _ in range(filename.count("/")):
        folder = os.path.dirname(folder)
    return folder


def snapshot_folder(repo_id: str, files: RepoFiles, timeout: Optional[float] = None) -> str:
    """A local folder holding every file ``files`` requires of ``repo_id``.

    Cached files are used as they are, with no request to the Hub. Missing files
    are downloaded only where ``hub_allowed()``; a Hub that answers with an error
    or goes ``timeout`` seconds without progress ends the load with
    ``ModelUnavailableError``.
    """
    missing = missing_files(repo_id, files)
    if missing and not hub_allowed():
        raise ModelUnavailableError(
            f"{repo_id} is not in the local Hugging Face cache (missing {'; '.join(missing)}), and "
            f"{hub_off_reason()}. {CACHE_HOWTO}"
        )
    if missing:
        _download(repo_id, files, hub_timeout() if timeout is None else timeout)
    found = [cached_file(repo_id, f) for group in files.required for f in group]
    first = next((p for p in found if p), None)
    if first is None:  # pragma: no cover - _download raised already
        raise ModelUnavailableError(f"{repo_id}: no file could be found after downloading.")
    name = next(f for group in files.required for f in group if cached_file(repo_id, f) == first)
    return _snapshot_of(first, name)


class _DropLoadReport(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "LOAD REPORT" not in str(record.msg)


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' state-dict load report for the duration.

    BERT's checkpoint carries its pre-training heads (masked-LM and next-sentence
    prediction); an encoder does not use them, so transformers prints a table of
    "UNEXPECTED" keys on every load. Callers check missing keys themselves
    (``output_loading_info=True``), which is the part of that report that matters.
    """
    logger = logging.getLogger("transformers.modeling_utils")
    quiet = _DropLoadReport()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


# -- downloading, bounded in time ------------------------------------------------
def _endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _repo_cache_folder(repo_id: str) -> str:
    from huggingface_hub import constants

    return os.path.join(constants.HF_HUB_CACHE, "models--" + repo_id.replace("/", "--"))


def _bytes_on_disk(folder: str) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def _probe(repo_id: str, filename: str, timeout: float) -> bool:
    """Whether the Hub has ``filename``: one HEAD request, no retries. Raises
    ``ModelUnavailableError`` when the Hub does not answer or answers an error."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError

    url = hf_hub_url(repo_id, filename, endpoint=_endpoint())
    try:
        get_hf_file_metadata(url, timeout=timeout, retry_on_errors=False, endpoint=_endpoint())
        return True
    except EntryNotFoundError:
        return False
    except Exception as exc:
        raise ModelUnavailableError(
            f"The Hugging Face Hub did not serve {repo_id}/{filename} ({_short(exc)}). "
            "Try again in a minute; the other models keep working."
        ) from exc


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _download(repo_id: str, files: RepoFiles, timeout: float) -> None:
    """Fetch the missing required files (first available of each group) and the
    optional files the Hub has, in a worker thread watched for progress."""
    todo: list[str] = []
    for group in files.required:
        if any(cached_file(repo_id, f) for f in group):
            continue
        chosen = next((f for f in group if _probe(repo_id, f, timeout)), None)
        if chosen is None:
            raise ModelUnavailableError(f"The Hugging Face Hub has none of {files.describe(group)} in {repo_id}.")
        todo.append(chosen)
    todo += [f for f in files.optional if f not in todo and not cached_file(repo_id, f) and _probe(repo_id, f, timeout)]

    outcome: dict[str, BaseException] = {}

    def work() -> None:
        from huggingface_hub import hf_hub_download

        try:
            for filename in todo:
                hf_hub_download(repo_id, filename, etag_timeout=timeout, endpoint=_endpoint())
        except BaseException as exc:  # reported to the waiting thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"download {repo_id}", daemon=True)
    worker.start()
    folder = _repo_cache_folder(repo_id)
    last_size, last_change = -1, time.monotonic()
    while worker.is_alive():
        worker.join(0.25)
        size = _bytes_on_disk(folder)
        if size != last_size:
            last_size, last_change = size, time.monotonic()
        elif time.monotonic() - last_change > timeout:
            raise ModelUnavailableError(
                f"The Hugging Face Hub stopped sending {repo_id} ({timeout:.0f} s without progress). "
                "Try again in a minute; the other models keep working."
            )
    if "error" in outcome:
        raise ModelUnavailableError(
            f"Downloading {repo_id} from the Hugging Face Hub failed ({_short(outcome['error'])}). "
            "Try again in a minute; the other models keep working."
        ) from outcome["error"]
