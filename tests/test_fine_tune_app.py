"""The fine_tune tab served for real: through gradio_client (a short run, the session
model, the zip, a bad upload) and in headless Chromium (a short run shows the
before/after figures). The data is a small fixed subsample of the bundled set so
the runs fit a CI budget."""
from __future__ import annotations

import os
import zipfile

import pytest

from conftest import open_tab

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from plugins.fine_tune import compute as ft_compute
from plugins.fine_tune.metrics import METRIC_NAMES

TAB = "Contrastive fine-tune"


@pytest.fixture
def small_data(monkeypatch):
    """The tab's data loader with a small subsample of the bundled set (CSV uploads unchanged)."""
    real = ft_compute.load_pairs

    def small(csv_file=None, max_train=None, max_heldout=None):
        if csv_file is None:
            return real(None, max_train=32, max_heldout=24)
        return real(csv_file)

    monkeypatch.setattr("plugins.fine_tune.ui.load_pairs", small)


@pytest.fixture
def app(small_data):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.fine_tune"), entry_points=False)
    return build_app(pm, create_registry(pm, device="cpu"))


def run_args(**overrides):
    # model, data, upload, seed, epochs, batch, step cap, lr, scale, layers, prediction
    args = dict(model="minilm", source="bundled", upload=None, seed=0, epochs=1, batch=8, steps=2, lr=1e-4,
                scale=20, layers=2, prediction="rise")
    args.update(overrides)
    return list(args.values())


def test_client_run_registers_session_model_and_zip(app, serve, tmp_path):
    from gradio_client import Client

    url = serve(app)
    client = Client(url, verbose=False)
    out = client.predict(*run_args(), api_name="/fine_tune_run")
    status, revealed, table, *_plots, settings_file, _model, _zip = out  # the State output is not in the API
    assert "Trained `finetuned-minilm`" in status and "2 of 2 steps" in status
    assert "MRR@10" in revealed
    rows = {row[0]: row for row in table["data"]}
    assert set(rows) == set(METRIC_NAMES)
    registry = app.playground_registry
    owners = [s for s, models in registry._sessions.items() if "finetuned-minilm" in models]
    assert len(owners) == 1  # only the session that trained it
    assert "finetuned-minilm" not in registry.model_ids(session="someone-else")

    with open(settings_file) as f:
        assert '"data_hash"' in f.read()
    archive = client.predict(api_name="/fine_tune_model_zip")  # the session's State names the model
    with zipfile.ZipFile(archive) as z:
        assert "finetuned-minilm/modules.json" in z.namelist()
    os.remove(archive)  # 80 MB: the client's download
    ft_compute.remove_stale_zips(max_age_s=0)  # the server's own copy (Gradio served its cached one)

    other = Client(url, verbose=False)  # another browser session has no model to download
    with pytest.raises(Exception, match="Train a model first"):
        other.predict(api_name="/fine_tune_model_zip")


def test_client_bad_upload_gives_clear_error(app, serve, tmp_path):
    from gradio_client import Client, handle_file

    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\na,b\n", encoding="utf-8")
    client = Client(serve(app), verbose=False)
    with pytest.raises(Exception, match="Missing column"):
        client.predict(*run_args(source="upload", upload=handle_file(str(bad))), api_name="/fine_tune_run")
    with pytest.raises(Exception, match="none is uploaded"):
        client.predict(*run_args(source="upload"), api_name="/fine_tune_run")


@pytest.mark.browser
def test_browser_short_training_shows_before_after(app, serve, page):
    page.goto(serve(app))
    open_tab(page, TAB)
    cap = page.get_by_label("number input for Step cap").filter(visible=True).first
    cap.fill("2")
    cap.press("Enter")
    batch = page.get_by_label("number input for Batch size").filter(visible=True).first
    batch.fill("8")
    batch.press("Enter")
    page.get_by_text("It rises").filter(visible=True).first.click()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Held-out MRR@10").filter(visible=True).first.wait_for(timeout=240_000)
    status = page.get_by_text("It is now in every model picker").filter(visible=True).first
    assert "finetuned-minilm" in status.inner_text() and "2 of 2 steps" in status.inner_text()
    table = page.locator("#fine_tune_metrics")
    table.get_by_text("ndcg@10").first.wait_for()
    text = table.inner_text()
    assert all(word in text for word in ("before", "after", "change", "recall@1", "mrr@10"))
    page.get_by_text("Retrieval on held-out queries").filter(visible=True).first.wait_for()
    page.get_by_text("Training loss (in-batch negatives)").filter(visible=True).first.wait_for()
    page.get_by_text("Cosine similarity of positive vs random pairs").filter(visible=True).first.wait_for()


def test_client_stop_ends_a_run_early(app, serve):
    import time

    from gradio_client import Client

    client = Client(serve(app), verbose=False)
    job = client.submit(*run_args(epochs=5, steps=20), api_name="/fine_tune_run")  # 4 steps an epoch: 20 planned
    answer = ""
    for _ in range(240):  # the flag exists once the run has started
        answer = client.predict(api_name="/fine_tune_stop")
        if answer.startswith("Stopping") or job.done():
            break
        time.sleep(0.5)
    assert answer.startswith("Stopping")
    status = job.result(timeout=300)[0]
    assert "(stopped)" in status and "of 20 steps" in status and "20 of 20" not in status
    assert client.predict(api_name="/fine_tune_stop") == "Nothing is training."
