"""Issue 30, item 11: every API argument the page can leave empty has a default, so
gradio_client calls need not spell out ``path=None``."""
import inspect

import gradio as gr
import pytest
from gradio_client import Client

from playground import create_plugin_manager, create_registry
from playground.web.api_defaults import with_page_defaults
from playground.web.app import build_app


def test_a_parameter_fed_by_an_empty_component_defaults_to_none_and_later_ones_to_their_values():
    def run(a, path, seed, request: gr.Request = None):
        return a, path, seed

    with gr.Blocks():
        inputs = [gr.Dropdown(choices=["x"], value="x"), gr.File(), gr.Number(value=3)]
    assert with_page_defaults(run, inputs)
    defaults = {name: p.default for name, p in inspect.signature(run).parameters.items()}
    assert defaults == {"a": "x", "path": None, "seed": 3, "request": None}
    assert run("x", None, 1) == ("x", None, 1)  # the call itself is unchanged


@pytest.fixture(scope="module")
def full_app():
    demo = build_app()
    yield demo
    demo.close()


def test_every_public_argument_has_a_default_except_a_votes_own_choice_and_the_question_asked_about(full_app):
    missing = {
        name: [p["parameter_name"] for p in endpoint["parameters"] if not p["parameter_has_default"]]
        for name, endpoint in full_app.get_api_info()["named_endpoints"].items()
    }
    missing = {name: params for name, params in missing.items() if params}
    # A class vote is its choice: no default makes sense there (and the browser id follows it).
    votes = {name for name in missing if "_class_" in name}
    assert all(missing[name][0] == "choice" for name in votes)
    # The classroom API names the question it is about (and a vote its choice): no default either.
    asked = {"/classroom_vote": ["lab", "question", "choice"], "/classroom_tally": ["lab", "question"]}
    assert {name: missing[name] for name in missing if name not in votes} == asked
    params = {p["parameter_name"]: p for p in full_app.get_api_info()["named_endpoints"]["/anisotropy_run"]["parameters"]}
    assert params["path"]["parameter_has_default"] and params["path"]["parameter_default"] is None
    assert params["prediction"]["parameter_has_default"]


def test_gradio_client_calls_an_endpoint_without_its_optional_file(serve):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.anisotropy"), entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    client = Client(serve(demo), verbose=False)
    described = client.predict(api_name="/anisotropy_data")  # path=None no longer spelled out
    assert described  # the bundled texts, described
    assert described == client.predict(None, api_name="/anisotropy_data")
