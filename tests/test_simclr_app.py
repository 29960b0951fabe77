"""simclr served for real: the pair grid, a training run, the probe table and the
batch-size plot through gradio_client and in a browser; bad settings get clear messages."""
import time

import pytest

from conftest import launch, open_tab

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

# data, encoder, augmentations, batch size, steps, τ, learning rate, seed
QUICK = ("shapes", "cnn", ["crop", "colour"], 16, 10, 0.2, 0.003, 0)


@pytest.fixture(scope="module")
def app():
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.simclr"), entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors, pm.errors
    yield demo, launch(demo)
    demo.close()


def test_pairs_training_probes_and_batch_plot_through_the_api(app):
    _, url = app
    client = Client(url, verbose=False)
    pairs, patches = client.predict("digits", "vit", ["crop", "rotate"], 0, api_name="/simclr_pairs")
    assert pairs and patches
    (pairs, patches, status, summary, loss_plot, probe_plot, table, neighbours, projection, colour_by) = client.predict(
        *QUICK, api_name="/simclr_train")
    assert pairs and neighbours
    assert "Held-out **shape** probe" in summary and "untrained" in summary
    assert [row[0] for row in table["data"]] == ["shape", "colour", "size", "position"]
    assert table["headers"][3:] == ["trained encoder", "untrained encoder", "raw pixels"]
    assert loss_plot and probe_plot and projection
    reveal, batch_plot, runs = client.predict(
        [8, 32], 512, *QUICK, "The largest: more negatives per step", api_name="/simclr_batch")
    assert "Reveal." in reveal and "batch 8 (64 steps)" in reveal and batch_plot
    assert [row[2] for row in runs["data"]] == [8, 32]


def test_stop_ends_a_run_early_and_the_probes_measure_what_was_learnt(app):
    _, url = app
    client = Client(url, verbose=False)
    assert client.predict(api_name="/simclr_stop") == "Nothing is running in this tab."
    job = client.submit("digits", "cnn", ["crop"], 16, 3000, 0.2, 0.003, 0, api_name="/simclr_train")
    deadline = time.monotonic() + 120
    while not client.predict(api_name="/simclr_stop").startswith("Stopping"):  # once the run has started
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.3)
    summary, table = job.result(timeout=300)[3], job.result()[6]
    assert "**stopped** after" in summary and "of 3000 steps" in summary
    assert [row[0] for row in table["data"]] == ["digit"]


@pytest.mark.parametrize("change, message", [
    ({3: 1}, "batch size must be between 2"), ({5: 0}, "temperature"), ({2: []}, "at least one augmentation"),
    ({4: 100000}, "3000"),  # the steps slider's own bound names the cap
])
def test_bad_settings_are_clear_errors_and_the_server_keeps_serving(app, change, message):
    _, url = app
    client = Client(url, verbose=False)
    values = list(QUICK)
    for index, value in change.items():
        values[index] = value
    with pytest.raises(AppError, match=message):
        client.predict(*values, api_name="/simclr_train")
    pairs, _ = client.predict("shapes", "cnn", ["flip"], 0, api_name="/simclr_pairs")
    assert pairs


@pytest.mark.browser
def test_browser_shows_pairs_loss_probes_and_batch_plot(app, page):
    _, url = app
    page.goto(url)
    open_tab(page, "SimCLR")
    page.get_by_role("button", name="Show positive pairs").click()
    page.locator("#simclr-pairs img").first.wait_for()  # captioned above, not labelled (issue 30 item 6)
    page.locator("#simclr-patches img").first.wait_for()
    steps = page.get_by_label("number input for Steps (default 300, at most 3000)").filter(visible=True).first
    steps.fill("10")
    steps.press("Enter")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Held-out shape probe").or_(page.get_by_text("Held-out digit probe")).filter(visible=True).first.wait_for(
        timeout=240_000)
    page.get_by_text("untrained encoder").filter(visible=True).first.wait_for()  # the probe table's header
    page.get_by_text("NT-Xent loss, batch").filter(visible=True).first.wait_for()  # the loss curve's title
    images = page.get_by_label("number input for Images seen per run (default 16384)").filter(visible=True).first
    images.fill("512")
    images.press("Enter")
    page.get_by_label("About equal").check()
    page.get_by_role("button", name="Run experiment 2 (one run per batch size)").click()
    page.get_by_text("Reveal.").filter(visible=True).first.wait_for(timeout=240_000)
    page.get_by_text("probe vs batch size").filter(visible=True).first.wait_for()  # the batch-size plot's title
    assert page.locator(".js-plotly-plot").filter(visible=True).count() >= 4
