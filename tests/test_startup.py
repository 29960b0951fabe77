"""Start-up: the first page is served before any heavy library is imported.

Building the whole app (every built-in lab, the Models and Plugins panels) imports
no torch, transformers, sentence-transformers, open_clip, timm, scikit-learn or
umap: labs import them on first use, and a background warm-up imports them once
the page is up. Checked in a fresh process, where nothing else imported them first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BUILD = r"""
import json, sys
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.models.lazy import HEAVY
pm = create_plugin_manager()
demo = build_app(pm, create_registry(pm))
print(json.dumps({"heavy": [m for m in HEAVY if m in sys.modules], "labs": [lab.id for lab in demo.playground_labs],
                  "errors": [str(e) for e in pm.errors]}))
"""


def test_building_the_app_imports_no_heavy_library():
    env = dict(os.environ, PLAYGROUND_WARMUP="0", HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", BUILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["errors"] == []
    assert {"anisotropy", "clip_zero_shot", "simclr", "train_clip"} <= set(found["labs"])
    assert found["heavy"] == []


def test_the_models_panel_lists_availability_without_importing_torch():
    code = r"""
import json, sys
from playground import create_registry
rows = create_registry().status()
print(json.dumps({"torch": "torch" in sys.modules, "open_clip": "open_clip" in sys.modules,
                  "ids": [r["id"] for r in rows], "devices": sorted({r["device"] for r in rows})}))
"""
    env = dict(os.environ, PLAYGROUND_WARMUP="0", HF_HUB_OFFLINE="1")
    env.pop("PLAYGROUND_DEVICE", None)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not found["torch"] and not found["open_clip"]
    assert {"minilm", "glove", "clip-vit-b-32", "siglip-vit-b-16"} <= set(found["ids"])
    assert found["devices"] == ["auto"]  # decided on the first load, which imports torch anyway


def test_a_lab_run_after_a_lazy_start_imports_what_it_needs():
    code = r"""
import sys
from playground.models.lazy import torch
assert "torch" not in sys.modules
from plugins.temperature import compute
print(type(compute.torch.zeros(2)).__name__, "torch" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PLAYGROUND_WARMUP="0"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["Tensor", "True"]
