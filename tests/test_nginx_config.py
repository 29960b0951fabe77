"""deploy/nginx.conf's behaviour, fast: Debian's nginx on loopback in front of two tiny
HTTP servers that answer with their own port (tests/test_replicas.py does the same with
the real app). A new browser gets a cookie; one cookie always reaches one replica;
cookies spread over both; a dead replica's browsers are answered by the other."""
from __future__ import annotations

import http.server
import threading
import urllib.request

import pytest

from conftest import free_port
from nginx_server import CONFIG, NginxServer, nginx_or_skip, render_config


class _Port(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = str(self.server.server_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def backends():
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Port) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url: str, cookie: str = "") -> tuple[int, str]:
    """(the replica's port that answered, the Set-Cookie header nginx sent)."""
    request = urllib.request.Request(url, headers={"Cookie": f"playground_replica={cookie}"} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.read()), response.headers.get("Set-Cookie") or ""


def test_the_rendered_config_keeps_the_shipped_one_but_its_addresses():
    shipped = open(CONFIG, encoding="utf-8").read()
    rendered = render_config(shipped, 8080, [9001, 9002, 9003], "/tmp/nginx-test")
    assert "server app1:7860" in shipped and "app1:7860" not in rendered
    assert rendered.count("max_fails=1 fail_timeout=10s;") == 3
    assert "listen 127.0.0.1:8080;" in rendered and "/var/log/nginx" not in rendered
    for directive in ("hash $playground_replica consistent;", "proxy_buffering off;", "proxy_next_upstream"):
        assert directive in rendered


def test_sticky_by_cookie_spread_over_replicas_and_a_dead_one_is_skipped(backends):
    nginx_or_skip()
    ports = [server.server_address[1] for server in backends]
    with NginxServer(free_port(), ports) as nginx:
        answered, cookie = get(nginx.url)
        assert cookie.startswith("playground_replica=") and "HttpOnly" in cookie
        key = cookie.split(";")[0].split("=", 1)[1]
        assert {get(nginx.url, key)[0] for _ in range(5)} == {answered}  # the first visit's replica, every time
        assert get(nginx.url, key)[1] == ""  # a browser with its cookie gets no new one
        owner = {f"s{i}": get(nginx.url, f"s{i}")[0] for i in range(24)}
        assert set(owner.values()) == set(ports)  # 24 browsers: both replicas get some
        assert all(get(nginx.url, key)[0] == port for key, port in owner.items())  # and each keeps its own

        dead, alive = backends[0], ports[1]
        dead.shutdown()
        dead.server_close()
        assert {get(nginx.url, key)[0] for key in owner} == {alive}  # every browser is answered


def test_the_readme_quotes_deploy_nginx_conf_as_it_is():
    """Every line of the README's nginx block is a line of deploy/nginx.conf, so the two
    cannot drift apart."""
    import os
    import re

    readme = open(os.path.join(os.path.dirname(CONFIG), "..", "README.md"), encoding="utf-8").read()
    block = re.search(r"<!-- nginx-conf:[^\n]*-->\n```nginx\n(.*?)```", readme, flags=re.S)
    assert block, "the README's nginx block (after its nginx-conf marker) is missing"
    shipped = {line.strip() for line in open(CONFIG, encoding="utf-8")}
    quoted = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    assert len(quoted) > 5
    assert [line for line in quoted if line not in shipped] == []
