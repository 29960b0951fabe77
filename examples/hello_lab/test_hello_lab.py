"""Tests for hello_lab: the lab registers and builds without a plugin error, is found
through its entry point once installed, its compute gives paraphrases a higher
cosine than unrelated text, and its tab answers through gradio_client.

When a check fails, the message is the plugin error the app would show, with its fix.
"""
import pytest

import hello_lab
from playground import collect_labs, create_plugin_manager, create_registry
from playground.web.app import build_app


def errors_of(pm) -> str:
    return "\n".join(str(error) for error in pm.errors) or "no plugin error"


def test_lab_registers():
    pm = create_plugin_manager(entry_points=False, extra=[hello_lab])  # built-in labs too: ids must not clash
    ids = [lab.id for lab in collect_labs(pm)]
    assert pm.errors == [], errors_of(pm)
    assert "hello" in ids, errors_of(pm)


def test_installed_entry_point_is_found():
    pm = create_plugin_manager(builtins=())
    ids = [lab.id for lab in collect_labs(pm)]
    assert "hello" in ids, f"the installed lab was not found (pip install -e . first?)\n{errors_of(pm)}"


def test_paraphrase_closer_than_unrelated():
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False)
    sims = hello_lab.cosine_table(create_registry(pm), hello_lab.EXAMPLE.splitlines())
    assert sims[0, 1] > sims[0, 2] + 0.2


@pytest.fixture
def app(monkeypatch):
    """The app with only this lab, built in-process (``build_app(pm, registry)``)."""
    monkeypatch.setenv("PLAYGROUND_DEV", "1")  # an error reaches the test with its traceback
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False, extra=[hello_lab])
    demo = build_app(pm, create_registry(pm))
    assert pm.errors == [], errors_of(pm)  # a build that raises, an api_name without the lab id, ...
    yield demo
    demo.close()


def test_tab_answers_through_its_api(app):
    from gradio_client import Client

    _, url, _ = app.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    client = Client(url, verbose=False)
    _plot, table = client.predict(hello_lab.EXAMPLE, "minilm", api_name="/hello_compare")
    assert table["headers"][-1] == "sentence" and len(table["data"]) == 3
