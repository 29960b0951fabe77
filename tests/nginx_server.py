"""nginx on loopback in front of the test's replicas, from the shipped deploy/nginx.conf.

``render_config`` takes that file and changes only what differs on a test machine: the
upstream servers (loopback ports), the listen address, and the log, pid and temporary
file paths (a temporary folder). Debian's nginx (``apt-get install nginx``); missing, the
tests that need it skip with the reason, unless ``PLAYGROUND_REQUIRE_NGINX=1`` (CI).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import Sequence

REQUIRE_ENV = "PLAYGROUND_REQUIRE_NGINX"
CONFIG = os.path.join(os.path.dirname(__file__), "..", "deploy", "nginx.conf")


def nginx_binary() -> str:
    """Debian's nginx, or one on PATH; "" when there is none."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.isfile("/usr/sbin/nginx") else "")


def nginx_or_skip() -> None:
    """Skip the calling test, with the reason, where nginx is missing; fail instead under
    ``PLAYGROUND_REQUIRE_NGINX=1``."""
    import pytest

    if not nginx_binary():
        reason = "nginx is not installed (Debian: apt-get install nginx)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(reason)
        pytest.skip(reason)


def render_config(template: str, listen_port: int, replica_ports: Sequence[int], folder: str) -> str:
    """``template`` (deploy/nginx.conf) for loopback: its upstream servers become
    ``127.0.0.1:<port>`` (one per replica, with the template's options), it listens on
    ``127.0.0.1:<listen_port>``, and it writes its logs, pid and temporary files in ``folder``."""
    servers = re.findall(r"^(\s*)server\s+\S+:\d+(.*);$", template, flags=re.M)
    if not servers:
        raise ValueError("deploy/nginx.conf has no upstream 'server host:port ...;' line")
    indent, options = servers[0]
    upstream = "\n".join(f"{indent}server 127.0.0.1:{port}{options};" for port in replica_ports)
    text = re.sub(r"^\s*server\s+\S+:\d+.*;\n", "", template, flags=re.M)
    text = re.sub(r"(^\s*hash [^\n]*\n)", lambda m: m.group(1) + upstream + "\n", text, count=1, flags=re.M)
    text = re.sub(r"^(\s*)listen\s+\d+;", rf"\1listen 127.0.0.1:{listen_port};", text, flags=re.M)
    text = text.replace("/var/log/nginx/", folder + "/")
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = re.sub(r"^http \{\n", "http {\n" + temp + "\n", text, count=1, flags=re.M)
    return f"pid {folder}/nginx.pid;\n" + text


class NginxServer:
    """``with NginxServer(port, replica_ports) as nginx: nginx.url`` — nginx in the
    foreground of its own process, stopped (and its folder deleted) at the end."""

    def __init__(self, listen_port: int, replica_ports: Sequence[int]) -> None:
        self.port, self.replica_ports = listen_port, list(replica_ports)
        self.url = f"http://127.0.0.1:{listen_port}/"
        self.folder = ""
        self.process = None

    @property
    def access_log(self) -> str:
        return os.path.join(self.folder, "access.log")

    def upstreams_seen(self) -> list[str]:
        """The ``upstream=`` field of every request logged so far ("127.0.0.1:port", or
        several, comma-separated, when nginx retried the next replica)."""
        with open(self.access_log, encoding="utf-8") as f:
            return [line.rsplit("upstream=", 1)[1].strip() for line in f if "upstream=" in line]

    def start(self) -> "NginxServer":
        """Write the rendered config, check it (``nginx -t``), start nginx and wait until it
        answers; on any failure nothing is left running or on disk."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "NginxServer":
        # Not under pytest's tmp_path: its 0700 parents keep out nginx's unprivileged workers.
        self.folder = tempfile.mkdtemp(prefix="playground-nginx-")
        os.chmod(self.folder, 0o777)
        with open(CONFIG, encoding="utf-8") as f:
            config = render_config(f.read(), self.port, self.replica_ports, self.folder)
        path = os.path.join(self.folder, "nginx.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(config)
        binary = nginx_binary()
        checked = subprocess.run([binary, "-t", "-c", path, "-p", self.folder], capture_output=True, text=True)
        if checked.returncode:
            raise RuntimeError(f"nginx rejects the rendered deploy/nginx.conf:\n{checked.stderr}\n{config}")
        self.process = subprocess.Popen([binary, "-c", path, "-p", self.folder, "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                urllib.request.urlopen(self.url + "nginx-is-up", timeout=2)
            except urllib.error.HTTPError:  # nginx answered (a 404/502 from an upstream is fine)
                return self
            except OSError:
                time.sleep(0.2)
                continue
            return self
        raise RuntimeError("nginx did not start listening within 20 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = ""

    def __enter__(self) -> "NginxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
