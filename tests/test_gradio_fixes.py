"""Images returned at the same moment by several users (same settings, same picture)
share one file in Gradio's cache; it must never be seen half written."""
from __future__ import annotations

import os
import threading
import time

import gradio
import numpy as np
import pytest
from gradio import processing_utils
from PIL import Image

from playground.web import gradio_fixes


def short_reads(save, cache_dir, seconds=0.5):
    """Save one image from two threads for ``seconds`` while this thread reads the
    cached file; returns (reads, reads that came back shorter than the file)."""
    image = Image.fromarray((np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8))
    path = save(image, cache_dir, format="png")
    size = os.path.getsize(path)
    stop = time.monotonic() + seconds

    def writer():
        while time.monotonic() < stop:
            assert save(image, cache_dir, format="png") == path

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    reads = short = 0
    while time.monotonic() < stop:
        with open(path, "rb") as f:
            short += len(f.read()) != size
        reads += 1
    for t in threads:
        t.join()
    return reads, short


def test_gradio_without_the_fix_truncates_a_shared_image_file(tmp_path):
    """The control: the same harness catches Gradio's own function mid-write, so the
    next test's zero is a measurement, not a harness that cannot see a short read."""
    reads, short = short_reads(gradio_fixes.GRADIO_SAVE_PIL_TO_CACHE, str(tmp_path))
    assert reads > 100
    if short == 0:
        pytest.skip(f"Gradio {gradio.__version__} no longer truncates the file in {reads} reads: "
                    "playground/web/gradio_fixes.py may be removed")


def test_a_shared_image_file_is_never_read_half_written(tmp_path):
    reads, short = short_reads(gradio_fixes.save_pil_to_cache, str(tmp_path))
    assert reads > 100 and short == 0


def test_the_fix_keeps_gradios_folder_and_file_name(tmp_path):
    image = Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8))
    data = processing_utils.encode_pil_to_bytes(image, "png")
    path = gradio_fixes.save_pil_to_cache(image, str(tmp_path), name="image", format="png")
    assert path == str((tmp_path / processing_utils.hash_bytes(data) / "image.png").resolve())
    assert open(path, "rb").read() == data
    assert [p.name for p in (tmp_path / processing_utils.hash_bytes(data)).iterdir()] == ["image.png"]  # no staging file left


def test_building_the_app_installs_the_fix_for_arrays_and_pil_images(tiny_plugin, tmp_path):
    from playground import create_plugin_manager, create_registry
    from playground.web.app import build_app
    from playground.classroom import VoteStore

    pm = create_plugin_manager(entry_points=False, extra=[tiny_plugin])
    build_app(pm, create_registry(pm, device="cpu"), votes=VoteStore(str(tmp_path / "v.sqlite3")))
    assert processing_utils.save_pil_to_cache is gradio_fixes.save_pil_to_cache
    path = processing_utils.save_img_array_to_cache(np.zeros((4, 4, 3), dtype=np.uint8), str(tmp_path), format="png")
    assert os.path.getsize(path) > 0
