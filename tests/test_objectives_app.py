"""objectives served for real, through gradio_client: a short training run right after start-up
(while the background warm-up may still be importing transformers) registers both encoders for
the client's session; bad settings get a clear message; Stop with nothing running says so."""
import pytest

from plugins.objectives.ui import DEFAULTS

from conftest import launch

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402


@pytest.fixture(scope="module")
def served():
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.objectives"), entry_points=False)
    registry = create_registry(pm, device="cpu")
    demo = build_app(pm, registry)
    assert not pm.errors, pm.errors
    yield launch(demo), registry
    demo.close()


@pytest.fixture(scope="module")
def url(served):
    return served[0]


@pytest.mark.parametrize("args, message", [
    (("mlm", 10, 10, -1, False), "seed must be a whole number"),
    (("mlm", 10, 10, None, False), "The seed is empty"),
])
def test_bad_settings_get_a_clear_message(url, args, message):
    client = Client(url, verbose=False)
    with pytest.raises(AppError, match=message):
        client.predict(*args, None, None, api_name="/objectives_train")


def test_stop_with_nothing_running_says_so(url):
    assert Client(url, verbose=False).predict(api_name="/objectives_stop") == "Nothing is running in this tab."


@pytest.mark.slow
def test_a_short_run_through_the_api_answers_and_registers_both_encoders(served):
    url, registry = served
    client = Client(url, verbose=False)
    status, summary, nll_reveal, contrastive_reveal, findings, table, *plots = client.predict(
        "mlm", 10, 10, 0, False, "Yes, above 0.5", None, api_name="/objectives_train")
    assert "my-nll" in summary and "my-contrastive" in summary
    assert ("Your prediction was right" in nll_reveal) or ("Not quite" in nll_reveal)
    assert "did not predict" in contrastive_reveal and "What this run shows" in findings
    assert [row[0] for row in table["data"]][:2] == ["masked-token accuracy", "mean_cosine"]
    for model_id in ("my-nll", "my-contrastive"):
        vectors = registry.get(model_id, session=client.session_hash).encode_texts(["a short text", "another one"])
        assert vectors.shape == (2, DEFAULTS.hidden)
