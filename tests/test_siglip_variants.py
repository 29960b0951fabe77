"""siglip_variants: the batch split over k simulated devices (what each device holds and
receives, the predict-then-reveal), the headless run and the served API."""
import argparse
import json

import pytest

from conftest import launch

from playground import create_plugin_manager, create_registry
from playground.contract.lab import LabContext
from playground.web.app import build_app
from plugins.siglip_variants import scaling
from plugins.siglip_variants.headless import format_result, run


@pytest.fixture(scope="module")
def costs():
    return scaling.device_costs()


def test_per_device_figures_follow_the_shapes_each_loss_builds(costs):
    f32 = 4
    for c in costs:
        rows = c.batch // c.devices
        if c.loss.startswith("sigmoid"):
            assert c.largest_logits == (rows, rows)
            assert c.peak_bytes == f32 * (2 * rows * c.dim + rows * rows)
            assert c.received_bytes == f32 * (c.devices - 1) * rows * c.dim
        else:
            assert c.largest_logits == (rows, c.batch)
            assert c.peak_bytes == f32 * (2 * rows * c.dim + 2 * c.batch * c.dim + 2 * rows * c.batch)
            assert c.received_bytes == f32 * 2 * (c.devices - 1) * rows * c.dim


@pytest.mark.parametrize("dim,batches", [(768, (1024, 4096, 16384)), (64, (256, 512)), (1152, (2048, 8192))])
def test_the_claims_the_reveal_states_hold_at_several_settings(dim, batches):
    costs = scaling.device_costs(batches, (1, 2, 4, 8), dim)
    assert scaling.sigmoid_needs_less_whenever_split(costs)
    assert scaling.softmax_never_below_the_gather(costs)
    assert scaling.sigmoid_falls_with_devices(costs)


def test_the_claim_predicates_can_fail():
    c = scaling.DeviceCost
    rising = [c("sigmoid (ring)", 64, 1, 8, 10, 0, (64, 64)), c("sigmoid (ring)", 64, 2, 8, 20, 0, (32, 32)),
              c("softmax (all-gather)", 64, 1, 8, 10, 0, (64, 64)), c("softmax (all-gather)", 64, 2, 8, 10, 0, (32, 64))]
    assert not scaling.sigmoid_falls_with_devices(rising)
    assert not scaling.sigmoid_needs_less_whenever_split(rising)
    assert not scaling.softmax_never_below_the_gather(rising)


def test_the_reveal_is_judged_from_the_measured_ratio(costs):
    ratio = scaling.memory_ratio(costs, scaling.QUESTION_BATCH, scaling.QUESTION_DEVICES)
    expected = "same" if ratio >= 0.9 else "less" if ratio > 0.25 else "quarter"
    assert scaling.answer(costs) == expected
    right = scaling.reveal(costs, scaling.CHOICES[expected])
    wrong = scaling.reveal(costs, scaling.CHOICES["same" if expected != "same" else "less"])
    assert "Your prediction was right" in right and "Not quite" in wrong
    at = [c for c in costs if c.batch == scaling.QUESTION_BATCH and c.devices == scaling.QUESTION_DEVICES]
    for c in at:
        assert f"{c.peak_bytes / scaling.MB:.1f} MB" in right


def test_headless_json_reports_agreement_and_memory_per_device():
    parser = argparse.ArgumentParser()
    from plugins.siglip_variants.headless import add_arguments

    add_arguments(parser)
    args = parser.parse_args(["--part", "scaling", "--batches", "256,1024", "--devices", "1,4"])
    result = run(args, LabContext(registry=None, lab_id="siglip_variants"))
    json.dumps(result)
    s = result["scaling"]
    assert s["agreement"]["within_1e-5"] and s["agreement"]["max_abs_difference"] <= 1e-5
    assert s["agreement"]["softmax_all_gather_max_abs_difference"] <= 1e-5
    assert {(r["loss"], r["batch"], r["devices"]) for r in s["per_device"]} == {
        (loss, b, k) for loss in scaling.LOSSES for b in (256, 1024) for k in (1, 4)
    }
    assert "peak MB" in format_result(result)


def test_headless_refuses_a_batch_that_does_not_split():
    parser = argparse.ArgumentParser()
    from plugins.siglip_variants.headless import add_arguments

    add_arguments(parser)
    with pytest.raises(ValueError, match="does not split evenly"):
        run(parser.parse_args(["--part", "scaling", "--batches", "100", "--devices", "3"]), LabContext(registry=None))
    with pytest.raises(ValueError, match="whole numbers"):
        run(parser.parse_args(["--part", "scaling", "--batches", "a,b"]), LabContext(registry=None))


def test_api_answers_the_scaling_part():
    from gradio_client import Client

    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.siglip_variants"),
                               entry_points=False)
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    try:
        client = Client(launch(demo), verbose=False)
        figure, revealed, table, check = client.predict(scaling.CHOICES["same"], api_name="/siglip_variants_scaling")
        assert figure["type"] == "plotly" and "MB for the sigmoid loss" in revealed
        assert ("Not quite" in revealed) == (scaling.answer(scaling.device_costs()) != "same")
        assert len(table["data"]) == 2 * len(scaling.BATCHES) * len(scaling.DEVICES)
        assert "largest difference" in check
    finally:
        demo.close()
