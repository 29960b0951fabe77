"""Student lab authoring: every mistake a student makes is reported where they look
(`playground labs`, human and --json; the app's panels; the scaffold's own tests),
and each report names the fix.

Each mistake is a small installed distribution on sys.path (a module plus its
dist-info), loaded as `playground` would load a student's `pip install -e .`.
"""
import functools
import json
import sys
import textwrap
from dataclasses import dataclass

import gradio as gr
import pytest

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app


@dataclass
class Mistake:
    name: str
    source: str  # the student's module
    fix: str  # a phrase of the one-line fix every report must contain
    entry_point: bool = True
    requires: bool = True  # Requires-Dist: contrastive-playground


HEADER = "from playground import Lab, hookimpl\n"
MISTAKES = [
    Mistake(
        "no_entry_point",
        HEADER + "@hookimpl\ndef register_labs(register):\n    register(Lab(id='noep', title='No EP', build=lambda ctx: None))\n",
        fix="Add `[project.entry-points.playground]`", entry_point=False,
    ),
    Mistake(  # imports playground.hookimpl but neither declares the dependency nor the entry point
        "no_entry_point_no_requires",
        HEADER + "@hookimpl\ndef register_labs(register):\n    register(Lab(id='noep2', title='No EP 2', build=lambda ctx: None))\n",
        fix="Add `[project.entry-points.playground]`", entry_point=False, requires=False,
    ),
    Mistake(
        "no_hookimpl",
        HEADER + "def register_labs(register):\n    register(Lab(id='nohook', title='No hook', build=lambda ctx: None))\n",
        fix="Did you forget @hookimpl?",
    ),
    Mistake(
        "returned",
        HEADER + "@hookimpl\ndef register_labs():\n    return Lab(id='returned', title='Returned', build=lambda ctx: None)\n",
        fix="Write `register(Lab(...))` instead of `return Lab(...)`",
    ),
    Mistake(
        "typo_hook",
        HEADER + "@hookimpl\ndef register_lab(register):\n    register(Lab(id='typo', title='Typo', build=lambda ctx: None))\n",
        fix="did you mean `register_labs`?",
    ),
    Mistake(
        "raising_build",
        HEADER + "def build(ctx):\n    raise RuntimeError('forgot to finish the tab')\n"
        "@hookimpl\ndef register_labs(register):\n    register(Lab(id='raising', title='Raising', build=build))\n",
        fix="Fix the lab's `build(ctx)`",
    ),
    Mistake(
        "bad_id",
        HEADER + "@hookimpl\ndef register_labs(register):\n    register(Lab(id='My-Lab', title='Mine', build=lambda ctx: None))\n",
        fix="Use `Lab(id='my_lab', ...)`",
    ),
    Mistake(
        "clashing_id",
        HEADER + "@hookimpl\ndef register_labs(register):\n"
        "    register(Lab(id='triplet_margin', title='My margins', build=lambda ctx: None))\n",
        fix="Choose another id in `Lab(id=...)`, for example 'my_triplet_margin'",
    ),
    Mistake(
        "unprefixed_api",
        HEADER + "def build(ctx):\n    import gradio as gr\n    box = gr.Textbox()\n"
        "    gr.Button('Go').click(lambda s: s, box, box, api_name='compare')\n"
        "@hookimpl\ndef register_labs(register):\n    register(Lab(id='unpref', title='Unprefixed', build=build))\n",
        fix='Pass `api_name="unpref_compare"`',
    ),
]
BUILTINS = ("playground.contract.default_models", "plugins.triplet_margin")  # a real lab to clash with


def install_student_lab(root, monkeypatch, mistake: Mistake) -> str:
    """A distribution ``playground-<name>`` with module ``<name>_mod`` on sys.path, as
    pip writes it: METADATA, RECORD, and entry_points.txt unless the mistake omits it."""
    module = f"{mistake.name}_mod"
    dist = f"playground-{mistake.name.replace('_', '-')}"
    (root / f"{module}.py").write_text(mistake.source)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    requires = "Requires-Dist: contrastive-playground\n" if mistake.requires else ""
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n{requires}")
    (info / "RECORD").write_text(f"{module}.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    if mistake.entry_point:
        (info / "entry_points.txt").write_text(f"[playground]\n{mistake.name} = {module}\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setenv("PLAYGROUND_PLUGINS", dist if not mistake.entry_point else mistake.name)
    return dist if not mistake.entry_point else mistake.name


@pytest.fixture
def only_few_builtins(monkeypatch):
    """`playground labs` with two built-ins instead of eight, so each case builds fast."""
    import playground.contract.plugins

    monkeypatch.setattr(
        playground.contract.plugins, "create_plugin_manager",
        functools.partial(playground.contract.plugins.create_plugin_manager, builtins=BUILTINS),
    )


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_reported_by_playground_labs_with_its_fix(mistake, tmp_path, monkeypatch, capsys, only_few_builtins):
    from playground.web.cli import main

    plugin = install_student_lab(tmp_path, monkeypatch, mistake)
    assert main(["labs"]) == 1
    out = capsys.readouterr().out
    assert "ERROR in " in out and repr(plugin) in out, out
    assert f"Fix: {mistake.fix}" in out, out

    assert main(["labs", "--json"]) == 1
    rows = [row for row in json.loads(capsys.readouterr().out) if row["plugin"] == plugin]
    assert rows and all(row["error"] for row in rows), rows
    assert mistake.fix in rows[0]["fix"]


def shown(block) -> bool:
    """A block is seen when it and every container around it are visible."""
    while block is not None:
        if getattr(block, "visible", True) is False:
            return False
        block = getattr(block, "parent", None)
    return True


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_shown_in_the_app_with_its_fix(mistake, tmp_path, monkeypatch):
    plugin = install_student_lab(tmp_path, monkeypatch, mistake)
    pm = create_plugin_manager(builtins=BUILTINS)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    (error,) = pm.errors
    assert error.plugin == plugin and mistake.fix in error.fix
    panels = [b for b in demo.blocks.values()
              if isinstance(b, gr.Markdown) and str(b.value).startswith(f"### Plugin `{plugin}` failed")]
    assert len(panels) == 2 and all(shown(b) for b in panels)  # in its tab, and in the Plugins panel
    assert all(f"**Fix:** {error.fix}" in b.value for b in panels)
    # every mistake, a failed build included, is listed on the Start page too
    start = [b for b in demo.blocks.values() if isinstance(b, gr.Markdown) and "## Plugins that failed" in str(b.value)]
    assert start and f"`{plugin}`" in start[0].value and error.fix in start[0].value and start[0].visible
    plugins_table = next(b.value for b in demo.blocks.values() if isinstance(b, gr.Dataframe) and "plugin" in b.value["headers"])
    row = next(r for r in plugins_table["data"] if r[0] == plugin)
    assert mistake.fix in row[-1]
    demo.close()


def test_typo_message_lists_only_real_hooks():
    import types

    from playground import hookimpl

    typo = types.ModuleType("typo_plugin")
    typo.register_lab = hookimpl(lambda register: None)
    typo.register_lab.__name__ = "register_lab"
    pm = create_plugin_manager(builtins=(), entry_points=False, extra=[typo])
    (error,) = pm.errors
    assert "Known hooks: register_labs, register_models." in error.message
    assert error.fix.startswith("did you mean `register_labs`?")


def test_unprefixed_api_name_keeps_the_tab_working(tmp_path, monkeypatch, serve):
    """The mistake is reported, but the tab is built and its event still answers."""
    from gradio_client import Client

    mistake = next(m for m in MISTAKES if m.name == "unprefixed_api")
    install_student_lab(tmp_path, monkeypatch, mistake)
    pm = create_plugin_manager(builtins=("playground.contract.default_models",))
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert [e.plugin for e in pm.errors] == ["unprefixed_api"]
    assert Client(serve(demo), verbose=False).predict("hi", api_name="/compare") == "hi"


def test_run_of_a_failed_plugin_prints_its_error(tmp_path, monkeypatch, capsys):
    from playground.web.cli import main

    install_student_lab(tmp_path, monkeypatch, next(m for m in MISTAKES if m.name == "typo_hook"))
    assert main(["run", "typo_hook"]) == 2
    err = capsys.readouterr().err
    assert "unknown lab 'typo_hook'" in err
    assert 'Error in plugin "typo_hook" (validate)' in err and "did you mean `register_labs`?" in err


def test_labs_json_piped_to_head_has_no_traceback(tmp_path):
    """`playground labs --json | head -1`: the reader closes the pipe early."""
    import os
    import subprocess

    env = {**os.environ, "PLAYGROUND_PLUGINS": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground.web.cli", "labs", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0
    assert "BrokenPipeError" not in err and "Traceback" not in err, err


def test_labs_exits_zero_when_everything_is_healthy(capsys, only_few_builtins, monkeypatch):
    from playground.web.cli import main

    monkeypatch.setenv("PLAYGROUND_PLUGINS", "nothing_installed")
    assert main(["labs"]) == 0
    assert "ok    triplet_margin" in capsys.readouterr().out


# -- a compute that raises: dev mode shows it, a Space does not ------------------------
def raising_compute_module():
    import types

    from playground import Lab, hookimpl
    from playground.web.ui import friendly_errors

    module = types.ModuleType("crashy")

    def neighbours(text):
        return text.no_such_method()  # the student's bug

    def build(ctx):
        box = gr.Textbox(label="Text")
        gr.Button("Go").click(friendly_errors(neighbours), box, box, api_name="crashy_go")

    @hookimpl
    def register_labs(register):
        register(Lab(id="crashy", title="Crashy lab", build=build))

    module.register_labs = register_labs
    return module


@pytest.mark.parametrize("dev, space", [(True, False), (False, False), (True, True)], ids=["dev", "no-dev", "space"])
def test_compute_error_in_the_page(dev, space, monkeypatch, serve):
    from gradio_client import Client

    monkeypatch.setenv("PLAYGROUND_DEV", "1" if dev else "0")
    if space:
        monkeypatch.setenv("SPACE_ID", "teacher/playground")
    pm = create_plugin_manager(builtins=(), entry_points=False, extra=[raising_compute_module()])
    client = Client(serve(build_app(pm, create_registry(pm, device="cpu"))), verbose=False)
    with pytest.raises(Exception) as info:
        client.predict("hello", api_name="/crashy_go")
    message = str(info.value)
    if dev and not space:
        assert "AttributeError: &#x27;str&#x27; object has no attribute &#x27;no_such_method&#x27;" in message
        assert "in neighbours" in message and "Traceback (most recent call last)" in message
        assert "Fix that line and save" in message
    else:
        assert "Something went wrong (AttributeError). The server logged the details." in message
        assert "Traceback" not in message


def test_run_of_a_raising_compute_prints_the_traceback(tmp_path, monkeypatch):
    """`playground run LAB` shows a student's bug as Python does: the traceback, ending in the error."""
    import os
    import subprocess

    source = HEADER + textwrap.dedent(
        """
        def run(args, ctx):
            return {"n": len(None)}

        @hookimpl
        def register_labs(register):
            register(Lab(id="runner", title="Runner", build=lambda ctx: None, run=run))
        """
    )
    mistake = Mistake("runner", source, fix="")
    install_student_lab(tmp_path, monkeypatch, mistake)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PLAYGROUND_PLUGINS": "runner"}
    out = subprocess.run([sys.executable, "-m", "playground.web.cli", "run", "runner"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 1
    assert "runner_mod.py" in out.stderr and "TypeError: object of type 'NoneType' has no len()" in out.stderr


def test_readme_plugin_contract_documents_every_hook_and_lab_field():
    """As datasette's test_docs: a hook, a Lab argument or a user-message exception
    that the README's plugin contract does not mention fails here."""
    import dataclasses
    from pathlib import Path

    from playground import Lab
    from playground.contract.plugins import PlaygroundPluginManager
    from playground.web.ui import USER_ERRORS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    contract = readme[readme.index("### The plugin contract"):readme.index("## Benchmarks")]
    for hook in PlaygroundPluginManager().hook_names:
        assert f"`{hook}(register)`" in contract, hook
    for lab_field in (f.name for f in dataclasses.fields(Lab) if f.name != "plugin"):
        assert lab_field in contract, lab_field
    for signature in ("`run(args, ctx) -> dict`", "`add_arguments(parser)`", "`format_result(result: dict) -> str`",
                      "`playground.web.app.build_app(pm, registry) -> gr.Blocks`", "`playground.web.ui.friendly_errors`"):
        assert signature in contract, signature
    for exc in USER_ERRORS:
        assert f"`{exc.__name__}`" in contract, exc.__name__


def test_editable_install_without_entry_point_is_found_by_its_source(tmp_path, monkeypatch):
    """`pip install -e` of a lab that neither lists the dependency nor the entry point:
    its source folder (from direct_url.json) imports playground.hookimpl."""
    from playground.contract.unregistered import distributions_missing_entry_point

    source = tmp_path / "src"
    source.mkdir()
    (source / "probe_lab.py").write_text("from playground import Lab, hookimpl\n")
    site = tmp_path / "site"
    info = site / "playground_probe_lab-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: playground-probe-lab\nVersion: 0.1\n")
    (info / "RECORD").write_text("__editable__.playground_probe_lab-0.1.pth,,\n")
    (info / "direct_url.json").write_text(json.dumps({"url": source.as_uri(), "dir_info": {"editable": True}}))
    monkeypatch.syspath_prepend(str(site))
    assert distributions_missing_entry_point({"playground-probe-lab"}) == [("playground-probe-lab", "probe_lab")]


@pytest.mark.parametrize("dev", [True, False], ids=["dev", "no-dev"])
def test_a_message_for_the_user_reads_the_same_in_dev_mode(dev, monkeypatch):
    """A bad input ("Only 1 label") is not a bug to fix: dev mode shows the sentence, not
    a traceback and "fix that line", and says where it was raised; a TypeError is traced."""
    from playground.web.ui import friendly_errors

    monkeypatch.setenv("PLAYGROUND_DEV", "1" if dev else "0")
    monkeypatch.delenv("SPACE_ID", raising=False)

    def check_labels(text):
        raise ValueError("Only 1 label ('cat'): type at least 2.")

    def slip(text):
        return len(text) + 1  # the lab author's bug: a str plus an int

    with pytest.raises(gr.Error) as info:
        friendly_errors(check_labels)("cat")
    message = info.value.message
    assert message.startswith("Only 1 label ('cat'): type at least 2.")
    assert "Traceback" not in message and "Fix that line" not in message
    assert ("(dev mode: ValueError raised at test_authoring.py" in message) == dev
    with pytest.raises(gr.Error) as info:
        friendly_errors(slip)(None)
    assert ("Traceback (most recent call last)" in info.value.message) == dev
