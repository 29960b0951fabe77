"""The app shell: tabs in order, a lab whose build fails costs only its tab, the
Models and Plugins panels, session models forgotten, loopback bind by default."""
import types

import pytest
from gradio_client import Client

from conftest import open_tab
from playground import Lab, collect_labs, create_plugin_manager, create_registry, hookimpl
from playground.web.app import build_app


def echo_lab_module():
    module = types.ModuleType("echo_plugin")

    def build(ctx):
        import gradio as gr

        box = gr.Textbox(label="Say something")
        out = gr.Textbox(label="Echo")
        gr.Button("Echo").click(lambda s: s.upper(), box, out, api_name="echo_run")

    @hookimpl
    def register_labs(register):
        register(Lab(id="echo", title="Echo lab", build=build, order=1))

    module.register_labs = register_labs
    return module


def broken_build_module():
    module = types.ModuleType("broken_build")

    def build(ctx):
        import gradio as gr

        gr.Markdown("half built")
        raise RuntimeError("the build exploded")

    @hookimpl
    def register_labs(register):
        register(Lab(id="broken", title="Broken lab", build=build, order=2))

    module.register_labs = register_labs
    return module


@pytest.fixture
def app_with_broken_build():
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False,
                               extra=[echo_lab_module(), broken_build_module()])
    return build_app(pm, create_registry(pm, device="cpu")), pm


def test_broken_build_is_recorded_and_other_labs_still_work(app_with_broken_build, serve):
    demo, pm = app_with_broken_build
    assert [(e.plugin, e.stage) for e in pm.errors] == [("broken_build", "build")]
    assert "the build exploded" in pm.errors[0].message
    url = serve(demo)
    assert Client(url, verbose=False).predict("hello", api_name="/echo_run") == "HELLO"


@pytest.mark.browser
def test_browser_shows_error_panel_and_other_tab_works(app_with_broken_build, serve, page):
    demo, _ = app_with_broken_build
    page.goto(serve(demo))
    open_tab(page, "⚠ Broken lab")
    page.get_by_text("Plugin broken_build failed (build)").filter(visible=True).first.wait_for()
    open_tab(page, "Echo lab")
    page.get_by_label("Say something").fill("still here")
    page.get_by_role("button", name="Echo").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')].some(t => t.value === 'STILL HERE')"
    )


def _served_props(demo) -> list[dict]:
    """The props of every component as the browser receives them."""
    return [c.get("props", {}) for c in demo.config["components"]]


def test_a_failed_build_is_flagged_on_the_start_page_and_its_tab(app_with_broken_build):
    demo, pm = app_with_broken_build
    props = _served_props(demo)
    buttons = [p.get("value") for p in props if p.get("value") in ("Broken lab", "⚠ Broken lab", "Echo lab")]
    assert "⚠ Broken lab" in buttons and "Broken lab" not in buttons and "Echo lab" in buttons
    labels = [p.get("label") for p in props]
    assert "⚠ Broken lab" in labels and "Echo lab" in labels and "Broken lab" not in labels
    (listed,) = [p for p in props if str(p.get("value", "")).startswith("## Plugins that failed")]
    assert listed.get("visible", True) is not False
    assert "`broken_build` (build): RuntimeError: the build exploded" in listed["value"] and "**Fix:**" in listed["value"]


def test_no_failed_list_on_the_start_page_when_every_lab_builds():
    pm = create_plugin_manager(builtins=("playground.contract.default_models",), entry_points=False, extra=[echo_lab_module()])
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not any(str(p.get("value", "")).startswith("## Plugins that failed") for p in _served_props(demo))
    assert not any(str(p.get("label", "")).startswith("⚠") for p in _served_props(demo))


@pytest.mark.parametrize("message", [
    "ValueError: `register_lab` is not marked @hookimpl, so the playground never calls it.",
    "ValueError: hookimpl `register_lab` matches no hook. Known hooks: register_labs, register_models.",
    "no backticks here", "a ``double`` run",
])
def test_error_panel_keeps_a_message_with_backticks_in_one_code_span(message):
    from markdown_it import MarkdownIt

    from playground.web.app import code_span

    html = MarkdownIt("commonmark").renderInline(code_span(message))
    assert html.startswith("<code>") and html.endswith("</code>") and html.count("<code>") == 1
    assert html[len("<code>"):-len("</code>")] == message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_tabs_follow_order_then_title(app_with_broken_build):
    _, pm = app_with_broken_build
    assert [lab.title for lab in collect_labs(pm)] == ["Echo lab", "Broken lab"]


def test_session_models_dropped_when_the_session_ends(app_with_broken_build):
    demo, _ = app_with_broken_build
    registry = demo.playground_registry
    from playground.models.base import TextModel

    registry.add_session_model("tab-1", "mine", TextModel("mine"))
    registry.drop_session("tab-1")
    assert registry.session_models("tab-1") == {}


def test_serve_binds_loopback_by_default(monkeypatch):
    """Loopback is the default bind, and there dev mode (reload + tracebacks) is the
    default too; any other interface, `--no-dev` or a Space serves without it."""
    from playground.web import cli

    seen, reloads = {}, []

    class FakeDemo:
        def launch(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.setattr("playground.web.app.build_app", lambda: FakeDemo())
    monkeypatch.setattr("playground.web.devserver.serve_with_reload", lambda argv: reloads.append(argv) or 0)
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    monkeypatch.delenv("PLAYGROUND_DEV_CHILD", raising=False)
    assert cli.main([]) == 0
    assert reloads == [["serve", "--host", "127.0.0.1", "--port", "7860"]] and seen == {}
    assert cli.main(["--no-dev"]) == 0
    assert (seen["server_name"], seen["server_port"]) == ("127.0.0.1", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9000")
    cli.main(["serve"])
    assert (seen["server_name"], seen["server_port"]) == ("0.0.0.0", 9000)
    cli.main(["serve", "--host", "127.0.0.2", "--port", "7000"])
    assert (seen["server_name"], seen["server_port"]) == ("127.0.0.2", 7000)
    monkeypatch.setenv("SPACE_ID", "someone/playground")
    cli.main(["serve", "--dev", "--host", "127.0.0.1"])
    assert len(reloads) == 1 and seen["server_name"] == "127.0.0.1"  # a Space never runs dev mode


def test_no_table_shows_placeholder_headers_before_a_run():
    """Issue 30, item 7: an empty table says what fills it, not "1 2 3"."""
    from playground.web.empty_tables import EMPTY_HEADER

    demo = build_app()
    tables = [c["props"] for c in demo.config["components"] if c.get("type") == "dataframe"]
    assert len(tables) >= 10
    assert not [t.get("label") for t in tables if t["value"]["headers"] == ["1", "2", "3"]]
    emptied = [t.get("label") for t in tables if t["value"]["headers"] == [EMPTY_HEADER]]
    assert "Per τ" in emptied and "Every run" in emptied  # temperature's and SimCLR's, before a run
    demo.close()
