"""Shared fixtures: tiny models, a served app, a headless browser.

No fixture touches the network: tiny models are built from configs, the bundled
MiniLM and GloVe load from installed packages, and apps are served on loopback.
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import time

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PLAYGROUND_UMAP_WARMUP", "0")  # no background numba compile competing with the tests
os.environ.pop("PLAYGROUND_HUB", None)
os.environ.pop("SPACE_ID", None)
os.environ.setdefault("PLAYGROUND_DATA_DIR", __import__("tempfile").mkdtemp(prefix="playground-votes-"))  # the class votes of test apps

CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = os.environ.get("PLAYGROUND_ARTIFACTS", os.path.join(os.path.dirname(__file__), "..", "artifacts"))


@pytest.fixture(autouse=True)
def _environment_restored():
    """What a test sets in ``os.environ`` (e.g. an in-process ``run --json``, which
    switches progress bars off for the process) does not leak into later tests or
    the subprocesses they start."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def tiny_specs(tmp_path_factory):
    """ModelSpecs of a tiny BERT, a tiny CLIP and a tiny SigLIP, built once per session."""
    from playground.contract.testing import tiny_model_specs

    return tiny_model_specs(tmp_path_factory.mktemp("tiny-models"))


def registry_of(*specs):
    """A CPU registry holding exactly ``specs`` (e.g. ``*DEFAULT_MODELS, *tiny_specs``)."""
    from playground.models.registry import ModelRegistry

    registry = ModelRegistry(device="cpu")
    for spec in specs:
        registry.register(spec)
    return registry


def tiny_models_plugin(specs):
    """A plugin object registering ``specs``, for ``create_plugin_manager(extra=[...])``."""
    from playground import hookimpl

    class TinyModels:
        __name__ = "tiny-models"

        @hookimpl
        def register_models(self, register):
            for spec in specs:
                register(spec)

    return TinyModels()


@pytest.fixture(scope="session")
def tiny_plugin(tiny_specs):
    """A plugin registering the tiny models."""
    return tiny_models_plugin(tiny_specs)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(demo, port: int = 0) -> str:
    """Serve a built app on loopback, on ``port`` (a free one by default); returns its URL
    (close with ``demo.close()``).

    Gradio's own start-up check gives the page 3 seconds per try and, on one timeout,
    stops with "When localhost is not accessible, a shareable link must be created"; on a
    loaded two-core CI machine the first render of a big page took longer (stop 34's CI).
    So that check is skipped (``_frontend=False`` skips only it) and the page is awaited
    here, for up to two minutes."""
    import urllib.request

    from playground.web.app import launch_kwargs

    port = port or free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                _frontend=False, **launch_kwargs())
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30):
                return url
        except OSError:
            if time.monotonic() > deadline:
                demo.close()
                raise
            time.sleep(0.5)


@pytest.fixture
def serve():
    """``serve(demo) -> url``: launch a built app on loopback; closed after the test."""
    launched = []

    def _serve(demo):
        launched.append(demo)
        return launch(demo)

    yield _serve
    for demo in launched:
        demo.close()


@contextlib.contextmanager
def read_only(folder):
    """Make ``folder`` and the files in it read-only, as a read-only disk would, while the
    block runs. File modes do not stop root, so as root the immutable attribute is set
    instead (``chattr +i``, which stops root too); skipped where that is not allowed."""
    import stat
    import subprocess

    paths = [os.path.join(folder, name) for name in os.listdir(folder)] + [str(folder)]
    if os.geteuid() != 0:
        modes = {path: os.stat(path).st_mode for path in paths}
        for path in paths:
            os.chmod(path, stat.S_IRUSR | (stat.S_IXUSR if os.path.isdir(path) else 0))
        try:
            yield
        finally:
            for path in reversed(paths):
                os.chmod(path, modes[path])
        return
    done = subprocess.run(["chattr", "+i", *paths], capture_output=True, text=True)
    if done.returncode:
        subprocess.run(["chattr", "-i", *paths], capture_output=True)
        pytest.skip(f"cannot make files read-only as root here (chattr: {done.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *paths], check=True)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright. Skipped only where no Chromium
    exists and PLAYGROUND_REQUIRE_BROWSER is unset (CI sets it, so CI never skips)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("PLAYGROUND_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def screenshotted_page(browser, name: str, width: int = 1400, height: int = 1000):
    """A fresh page of ``width`` × ``height``; its screenshot goes to artifacts/NAME.png afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        yield pg
    finally:
        os.makedirs(ARTIFACTS, exist_ok=True)
        with contextlib.suppress(Exception):
            pg.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)
        context.close()


@pytest.fixture
def page(browser, request):
    """A fresh page; a screenshot is saved to artifacts/ after the test."""
    with screenshotted_page(browser, request.node.name) as pg:
        yield pg


def open_tab(page, title: str) -> None:
    """Click the tab titled ``title``, through Gradio's "More tabs" menu if it overflowed."""
    page.get_by_role("tab").first.wait_for()
    tab = page.get_by_role("tab", name=title, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.get_by_label("More tabs").click()
    exact = re.compile(rf"^\s*{re.escape(title)}\s*$")
    page.locator(".overflow-dropdown button", has_text=exact).first.click()


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache with downloads off (no Space, no PLAYGROUND_HUB): every
    Hub model is unavailable, as on a fresh offline machine."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("PLAYGROUND_HUB", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL on loopback for the session (tests/pg_server.py). Skipped, with the
    reason, where the binaries or psycopg are missing, unless PLAYGROUND_REQUIRE_POSTGRES=1
    (CI sets it, so CI never skips)."""
    from pg_server import REQUIRE_ENV, PostgresServer, unavailable_reason

    reason = unavailable_reason()
    if reason:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(reason)
        pytest.skip(reason)
    with PostgresServer(free_port()) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The URL of an empty database, once SQLite (a file in tmp_path) and once PostgreSQL
    (a fresh database on the session's server): a test taking it runs against both."""
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "classroom.sqlite3")
    return request.getfixturevalue("postgres_server").new_database()
