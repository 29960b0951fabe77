"""The README's offline zero-shot example runs as written against a served app (only
its URL is changed), and the first example's "not available here" answer is what it
says: no real CLIP loads without the Hub."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.classroom import VoteStore

ROOT = Path(__file__).resolve().parents[1]


def readme_example(name: str) -> str:
    """The Python block right after ``<!-- readme-example:NAME -->`` in the README."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(rf"<!-- readme-example:{re.escape(name)} -->\s*```python\n(.*?)```", readme, re.S)
    assert found, f"the README has no example marked readme-example:{name}"
    return found.group(1)


@pytest.mark.slow
def test_the_offline_zero_shot_example_runs_as_written(serve, tmp_path, monkeypatch):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.clip_zero_shot", "plugins.train_clip"),
                               entry_points=False)
    url = serve(build_app(pm, create_registry(pm, device="cpu"), votes=VoteStore(str(tmp_path / "v.sqlite3"))))
    code = readme_example("offline-zero-shot")
    assert 'Client("http://127.0.0.1:7860/")' in code
    monkeypatch.chdir(tmp_path)  # the example saves its picture in the working folder
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code.replace("http://127.0.0.1:7860/", url), "README.md", "exec"), {})
    assert printed.getvalue().strip().splitlines()[-1] == "red circle"

    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="'clip-vit-b-32' is not available here"):  # what the README says first
        Client(url, verbose=False).predict(handle_file(str(tmp_path / "red_circle.png")), "cat, dog",
                                           "a photo of a {}.", "clip-vit-b-32", api_name="/clip_zero_shot")
