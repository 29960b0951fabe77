"""A loopback stand-in for the Hugging Face Hub, for the rehearsal.

Serves the rehearsal repos the way ``huggingface_hub`` asks for files
(``HEAD``/``GET /{repo}/resolve/{revision}/{file}``, ``GET /api/models/{repo}``),
and can misbehave on purpose: ``mode="ok"`` answers, ``"503"`` answers
Service Unavailable, ``"hang"`` accepts the connection and never answers. Every
request is logged (method and path), so a test can assert that a run sent none.

    with serve_hub(rehearsal_repos()) as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        ...
        assert hub.requests == []
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import unquote, urlparse

from playground.models.rehearsal.build import COMMIT, repo_files

MODES = ("ok", "503", "hang")


class HubStandIn:
    """The running server: ``url``, ``requests`` (a list of ``(method, path)``),
    and ``mode``, which may be changed while it runs."""

    def __init__(self, repos: Mapping[str, Path], mode: str = "ok") -> None:
        self.repos = {repo: Path(folder) for repo, folder in repos.items()}
        self.mode = mode
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._etags: dict[Path, str] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # the request log is ours, not stderr
                pass

            def do_HEAD(self) -> None:
                stand_in._answer(self, body=False)

            def do_GET(self) -> None:
                stand_in._answer(self, body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub stand-in", daemon=True)

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> "HubStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _, path in self.requests]

    # -- answering ------------------------------------------------------------------
    def _etag(self, path: Path) -> str:
        if path not in self._etags:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            self._etags[path] = digest.hexdigest()
        return self._etags[path]

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        with self._lock:
            self.requests.append((handler.command, handler.path))
        if self.mode == "hang":
            self._stop.wait(600)  # accept, never answer (until the server stops)
            return
        if self.mode == "503":
            self._send(handler, 503, b"Service Unavailable", {"Content-Type": "text/plain"}, body)
            return
        path = unquote(urlparse(handler.path).path)
        if path.startswith("/api/models/"):
            self._model_info(handler, path[len("/api/models/"):], body)
            return
        if "/resolve/" not in path:
            self._send(handler, 404, b"not found", {"X-Error-Code": "RepoNotFound"}, body)
            return
        repo, rest = path.lstrip("/").split("/resolve/", 1)
        filename = rest.split("/", 1)[1] if "/" in rest else ""
        folder = self.repos.get(repo)
        if folder is None:
            self._send(handler, 404, b"Repository not found", {"X-Error-Code": "RepoNotFound"}, body)
            return
        file = folder / filename
        if not filename or filename == ".complete" or not file.is_file():
            headers = {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found", "X-Repo-Commit": COMMIT}
            self._send(handler, 404, b"Entry not found", headers, body)
            return
        etag = self._etag(file)
        headers = {
            "X-Repo-Commit": COMMIT, "ETag": f'"{etag}"', "X-Linked-Etag": f'"{etag}"',
            "X-Linked-Size": str(file.stat().st_size), "Content-Type": "application/octet-stream",
        }
        self._send_file(handler, file, headers, body)

    def _model_info(self, handler, repo: str, body: bool) -> None:
        repo = repo.split("/revision/")[0]
        folder = self.repos.get(repo)
        if folder is None:
            self._send(handler, 404, b"Repository not found", {"X-Error-Code": "RepoNotFound"}, body)
            return
        info = {"id": repo, "modelId": repo, "sha": COMMIT, "siblings": [{"rfilename": f} for f in repo_files(folder)]}
        self._send(handler, 200, json.dumps(info).encode(), {"Content-Type": "application/json"}, body)

    @staticmethod
    def _send(handler, status: int, payload: bytes, headers: Mapping[str, str], body: bool) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if body:
            handler.wfile.write(payload)

    @staticmethod
    def _send_file(handler, file: Path, headers: Mapping[str, str], body: bool) -> None:
        handler.send_response(200)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(file.stat().st_size))
        handler.end_headers()
        if body:
            with open(file, "rb") as f:
                while block := f.read(1 << 20):
                    handler.wfile.write(block)


@contextlib.contextmanager
def serve_hub(repos: Mapping[str, os.PathLike], mode: str = "ok") -> Iterator[HubStandIn]:
    """Run a ``HubStandIn`` on a free loopback port for the duration of the block."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    hub = HubStandIn(repos, mode).start()
    try:
        yield hub
    finally:
        hub.stop()
