"""Dev mode's reload: run the server in a child process and restart it when a
Python file of the playground or of an installed plugin changes.

Gradio's own reload mode re-executes one script; a lab lives in a separately
installed package, so a watcher that restarts the whole server is simpler and
reloads every plugin the same way. The child runs with ``PLAYGROUND_DEV=1``, so
compute errors show their traceback in the page (see ``playground.web.ui.dev_mode``).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from playground.env import DEV_ENV, RELOAD_CHILD_ENV


POLL_SECONDS = 1.0


def watched_paths() -> list[Path]:
    """The playground's own packages and the source of each installed plugin,
    found without importing any of them."""
    shell = importlib.util.find_spec("playground")
    paths = [Path(p) for p in shell.submodule_search_locations]
    plugins = importlib.util.find_spec("plugins")
    if plugins is not None and plugins.submodule_search_locations:
        paths += [Path(p) for p in plugins.submodule_search_locations]
    for ep in importlib.metadata.entry_points(group="playground"):
        spec = importlib.util.find_spec(ep.module.split(".")[0])
        if spec is None or spec.origin in (None, "built-in", "frozen"):
            continue
        origin = Path(spec.origin)
        paths.append(origin.parent if origin.name == "__init__.py" else origin)
    return paths


def snapshot(paths: list[Path]) -> dict[str, float]:
    """Modification time of every ``.py`` file under ``paths``."""
    stamps = {}
    for path in paths:
        files = [path] if path.is_file() else path.rglob("*.py")
        for file in files:
            try:
                stamps[str(file)] = file.stat().st_mtime
            except OSError:
                continue
    return stamps


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def serve_with_reload(argv: list[str], paths: Optional[list[Path]] = None, command: Optional[list[str]] = None) -> int:
    """Run ``playground <argv>`` as a child and restart it when a file under ``paths``
    (default: ``watched_paths()``) changes; returns the child's exit status once it
    stops by itself (or 0 on Ctrl-C). ``command`` replaces ``python -m playground``."""
    env = {**os.environ, DEV_ENV: "1", RELOAD_CHILD_ENV: "1"}
    paths = watched_paths() if paths is None else paths
    previous = signal.signal(signal.SIGTERM, _stop)  # `kill` stops the server too, not only the watcher
    try:
        return _watch(argv, paths, command or child_command(), env)
    finally:
        signal.signal(signal.SIGTERM, previous)


def child_command() -> list[str]:
    """``python -m playground``, with ``-P`` (Python 3.11+) so that the current folder
    is not put on ``sys.path``: a lab scaffolded there would shadow the installed one."""
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *safe_path, "-m", "playground"]


def _watch(argv: list[str], paths: list[Path], command: list[str], env: dict) -> int:
    while True:
        stamps = snapshot(paths)
        child = subprocess.Popen([*command, *argv], env=env)
        try:
            while child.poll() is None:
                time.sleep(POLL_SECONDS)
                if snapshot(paths) != stamps:
                    print("playground: source changed; restarting the app (reload the page).", flush=True)
                    child.terminate()
                    child.wait(timeout=30)
                    break
            else:
                return child.returncode
        except KeyboardInterrupt:
            child.terminate()
            child.wait(timeout=30)
            return 0
