"""Plugin discovery and isolation: built-ins, installed entry points, PLAYGROUND_PLUGINS,
and plugins that fail at import, at registration, or with a misspelled hook."""
import sys
import textwrap
import types

import pytest

from playground import Lab, collect_labs, create_plugin_manager, hookimpl


def make_lab_module(name, lab_id, title="A lab", order=100):
    module = types.ModuleType(name)

    @hookimpl
    def register_labs(register):
        register(Lab(id=lab_id, title=title, build=lambda ctx: None, order=order))

    module.register_labs = register_labs
    return module


def install_fake_distribution(tmp_path, monkeypatch, dist, entry_name, module_name, source):
    """A real installed distribution on sys.path: a module plus dist-info with entry_points.txt."""
    (tmp_path / f"{module_name}.py").write_text(textwrap.dedent(source))
    info = tmp_path / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[playground]\n{entry_name} = {module_name}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module_name, raising=False)


GOOD_PLUGIN = """
from playground import Lab, hookimpl

@hookimpl
def register_labs(register):
    register(Lab(id="student_lab", title="Student lab", build=lambda ctx: None))
"""


def test_builtin_plugins_load_without_errors():
    pm = create_plugin_manager(entry_points=False)
    assert pm.errors == [], [str(e) for e in pm.errors]
    ids = [lab.id for lab in collect_labs(pm)]
    for expected in ("anisotropy", "triplet_margin", "temperature", "clip_zero_shot", "siglip_compare", "fine_tune"):
        assert expected in ids


def test_installed_plugin_is_discovered_through_its_entry_point(tmp_path, monkeypatch):
    install_fake_distribution(tmp_path, monkeypatch, "student-lab", "student", "student_lab_mod", GOOD_PLUGIN)
    pm = create_plugin_manager(builtins=(), only="student")
    labs = collect_labs(pm)
    assert [(lab.id, lab.plugin) for lab in labs] == [("student_lab", "student")]
    assert pm.infos["student"].source == "entry point of student-lab"


def test_playground_plugins_limits_installed_plugins(tmp_path, monkeypatch):
    install_fake_distribution(tmp_path, monkeypatch, "student-lab", "student", "student_lab_mod", GOOD_PLUGIN)
    monkeypatch.setenv("PLAYGROUND_PLUGINS", "someone_else")
    assert collect_labs(create_plugin_manager(builtins=())) == []
    monkeypatch.setenv("PLAYGROUND_PLUGINS", "someone_else, student")
    assert [lab.id for lab in collect_labs(create_plugin_manager(builtins=()))] == ["student_lab"]
    monkeypatch.setenv("PLAYGROUND_PLUGINS", "student-lab")  # the distribution name works too
    assert [lab.id for lab in collect_labs(create_plugin_manager(builtins=()))] == ["student_lab"]


def test_plugin_failing_at_import_is_reported_and_others_load(tmp_path, monkeypatch):
    install_fake_distribution(tmp_path, monkeypatch, "broken-lab", "broken", "broken_lab_mod", "raise RuntimeError('boom at import')")
    pm = create_plugin_manager(builtins=(), only="broken", extra=[make_lab_module("fine", "fine_lab")])
    assert [lab.id for lab in collect_labs(pm)] == ["fine_lab"]
    (error,) = pm.errors
    assert (error.plugin, error.stage) == ("broken", "import")
    assert "boom at import" in error.message
    assert str(error).startswith('Error in plugin "broken"')


def test_plugin_failing_in_register_labs_costs_only_its_labs():
    bad = types.ModuleType("bad_register")

    @hookimpl
    def register_labs(register):
        register(Lab(id="half", title="Half", build=lambda ctx: None))
        raise ValueError("cannot register")

    bad.register_labs = register_labs
    pm = create_plugin_manager(builtins=(), entry_points=False, extra=[bad, make_lab_module("fine", "fine_lab")])
    assert [lab.id for lab in collect_labs(pm)] == ["fine_lab"]
    assert [(e.plugin, e.stage) for e in pm.errors] == [("bad_register", "register_labs")]


def test_misspelled_hookimpl_is_reported_not_silent():
    typo = types.ModuleType("typo_plugin")

    @hookimpl
    def register_lab(register):  # missing "s"
        pass

    typo.register_lab = register_lab
    pm = create_plugin_manager(builtins=(), entry_points=False, extra=[typo])
    (error,) = pm.errors
    assert error.plugin == "typo_plugin" and error.stage == "validate"
    assert "register_lab" in error.message and "register_labs" in error.message


def test_hookimpl_with_unknown_argument_is_reported():
    odd = types.ModuleType("odd_args")

    @hookimpl
    def register_labs(register, colour):
        pass

    odd.register_labs = register_labs
    pm = create_plugin_manager(builtins=(), entry_points=False, extra=[odd])
    assert [(e.plugin, e.stage) for e in pm.errors] == [("odd_args", "validate")]
    assert "colour" in pm.errors[0].message


def test_duplicate_lab_id_is_an_error_of_the_later_plugin():
    pm = create_plugin_manager(
        builtins=(), entry_points=False,
        extra=[make_lab_module("first", "same"), make_lab_module("second", "same")],
    )
    labs = collect_labs(pm)
    assert len(labs) == 1
    assert len(pm.errors) == 1 and "already registered" in pm.errors[0].message


def test_labs_sorted_by_order_then_title():
    pm = create_plugin_manager(
        builtins=(), entry_points=False,
        extra=[make_lab_module("a", "z_lab", "Zeta", 1), make_lab_module("b", "b_lab", "Beta", 5),
               make_lab_module("c", "a_lab", "Alpha", 5)],
    )
    assert [lab.title for lab in collect_labs(pm)] == ["Zeta", "Alpha", "Beta"]


def test_lab_id_must_be_a_slug():
    with pytest.raises(ValueError, match="slug"):
        Lab(id="Not A Slug", title="x", build=lambda ctx: None)


def test_each_manager_is_fresh():
    pm1 = create_plugin_manager(builtins=(), entry_points=False, extra=[make_lab_module("m", "m_lab")])
    pm2 = create_plugin_manager(builtins=(), entry_points=False)
    assert collect_labs(pm2) == [] and len(collect_labs(pm1)) == 1


def test_no_lab_imports_another_lab():
    """What two labs share lives in the shell (playground/), never in one lab imported by another."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "plugins"
    offenders = []
    for path in root.rglob("*.py"):
        lab = path.relative_to(root).parts[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                parts = name.split(".")
                if parts[0] == "plugins" and len(parts) > 1 and parts[1] != lab:
                    offenders.append(f"{path.relative_to(root)} imports {name}")
    assert offenders == []
