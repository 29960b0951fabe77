"""One fix to Gradio, applied when the app is built: images a lab returns are written
into Gradio's cache atomically.

Gradio (6.x) saves an image a function returns (a numpy array or a PIL image, in
``gr.Image``, ``gr.Gallery`` ...) under a folder named by the hash of its bytes, and
writes the file in place every time (``processing_utils.save_pil_to_cache``). In a
class, students who run the same settings get the same picture at the same moment,
so one student's write truncates the file while another's browser is downloading it:
the browser gets a broken image, and ``gradio_client`` fails with "peer closed
connection without sending complete message body". (Files a lab returns by path take
another route, ``save_file_to_cache``, which already writes under a temporary name and
renames.) The replacement below does the same for images: a copy that exists is
reused (same hash, same bytes), and a new one is written under a temporary name and
renamed into place, so no reader ever sees it half written.

``tests/test_gradio_fixes.py`` reads the file while two threads save the same image;
without the fix most reads come back short.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils

GRADIO_SAVE_PIL_TO_CACHE = processing_utils.save_pil_to_cache  # Gradio's own, kept for the test that shows the bug


def write_once(folder: Path, name: str, data: bytes) -> str:
    """``folder/name`` holding ``data``: reused if it exists (the folder is named by the
    bytes' hash, so an existing file holds the same bytes), else written under a
    temporary name and renamed into place. Returns the absolute path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / name).resolve()
    if path.exists():
        try:  # Gradio's delete_cache ages files by ctime: a reused copy starts a new hour
            os.utime(path)
        except OSError:
            pass
        return str(path)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Drop-in for ``gradio.processing_utils.save_pil_to_cache`` (same arguments, same
    folder and file name), written atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    return write_once(Path(cache_dir) / processing_utils.hash_bytes(data), f"{name}.{format}", data)


def apply() -> None:
    """Install the fix (idempotent). Gradio's components call the function through the
    module (``processing_utils.save_pil_to_cache``), and ``save_img_array_to_cache``
    looks it up there too, so replacing the module attribute covers arrays and PIL images."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
