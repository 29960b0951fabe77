"""Tests for hello_lab: the lab registers, is found through its entry point once
installed, and its compute gives paraphrases a higher cosine than unrelated text."""
import hello_lab
from playground import collect_labs, create_plugin_manager, create_registry


def test_lab_registers():
    pm = create_plugin_manager(builtins=(), entry_points=False, extra=[hello_lab])
    assert [lab.id for lab in collect_labs(pm)] == ["hello"]
    assert pm.errors == []


def test_installed_entry_point_is_found():
    pm = create_plugin_manager(builtins=(), only="hello")
    assert "hello" in [lab.id for lab in collect_labs(pm)]


def test_paraphrase_closer_than_unrelated():
    pm = create_plugin_manager(builtins=("playground.models.defaults",), entry_points=False)
    sims = hello_lab.cosine_table(create_registry(pm), hello_lab.EXAMPLE.splitlines())
    assert sims[0, 1] > sims[0, 2] + 0.2
