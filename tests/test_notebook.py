"""The notebook API (``from playground import notebook as pg``): the same runs, options and
messages as ``playground run``, a prediction revealed, progress reported."""
from __future__ import annotations

import json

import pytest

from playground.web import cli, notebook as pg
from playground.web.notebook_display import ProgressBar, chart_result


@pytest.fixture(autouse=True)
def fresh_session():
    pg.reset()  # each test: a fresh plugin manager, registry and no predictions
    yield
    pg.reset()


def cli_error_line(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_the_face_hands_out_the_notebook_module():
    import playground
    from playground import notebook

    assert notebook is pg
    with pytest.raises(AttributeError, match="has no attribute 'notebok'"):
        getattr(playground, "notebok")


@pytest.mark.parametrize("options, argv", [
    ({"noise_scale": "bogus"}, ["--noise-scale", "bogus"]),
    ({"seed": "zero"}, ["--seed", "zero"]),
    ({"bogus_option": 1}, ["--bogus-option", "1"]),
])
def test_a_bad_option_reads_as_the_command_line_says_it(options, argv, capsys):
    expected = cli_error_line(["run", "anisotropy", *argv], capsys)
    with pytest.raises(pg.LabOptionError) as raised:
        pg.run("anisotropy", **options)
    assert str(raised.value) == expected
    assert "\n" not in str(raised.value)
    assert raised.value._render_traceback_() == [expected]  # IPython shows just this line


def test_input_the_lab_refuses_reads_as_the_command_line_says_it(tmp_path, capsys):
    missing = tmp_path / "missing.csv"
    assert cli.main(["run", "triplet_margin", "--csv", str(missing)]) == 1
    expected = capsys.readouterr().err.strip().splitlines()[-1]
    with pytest.raises(pg.LabRunError) as raised:
        pg.run("triplet_margin", csv=str(missing))
    assert str(raised.value) == expected


def test_an_unknown_lab_lists_the_known_ones():
    with pytest.raises(pg.LabOptionError, match="unknown lab 'anisotropi'. Known labs: anisotropy"):
        pg.run("anisotropi")


def test_keyword_arguments_become_the_command_line_options():
    parser = cli.lab_parser(pg._session().lab("siglip_compare"), pg._RaisingParser)
    argv = pg.options_to_argv(parser, {"labels": ("cat", "dog"), "no_losses": True, "template": None,
                                       "clip_model": "clip-vit-b-32"})
    assert argv == ["--labels", "cat,dog", "--no-losses", "--clip-model", "clip-vit-b-32"]
    assert pg.options_to_argv(parser, {"no_losses": False}) == []


def test_a_run_holds_the_json_the_command_line_prints(capsys):
    assert cli.main(["run", "triplet_margin", "--models", "glove", "--per-label", "10", "--triplets", "40", "--seed", "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    run = pg.run("triplet_margin", models="glove", per_label=10, triplets=40, seed=1)
    assert json.loads(run.to_json()) == printed
    assert run.figures, "a run shows figures"
    page = run._repr_html_()
    assert "plotly" in page and "playground run triplet_margin --models glove --per-label 10 --triplets 40 --seed 1 --json" in page


def test_a_lab_without_show_is_charted_from_the_json_the_command_line_prints(capsys):
    assert cli.main(["run", "siglip_variants", "--part", "scaling", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    run = pg.run("siglip_variants", part="scaling")
    assert json.loads(run.to_json()).keys() == printed.keys() == {"scaling"}
    assert run.figures and run.reveal == ""


@pytest.mark.parametrize("answer", ["the smallest τ", "the largest τ"])
def test_the_reveal_judges_the_prediction_recorded_before_the_run(answer):
    from playground.contract.verdict import measured_answer, quoted

    pg.predict("temperature", answer)
    run = pg.run("temperature", taus=(0.05, 1.0), steps=10, per_label=10, seed=0)
    assert run.prediction == answer and len(run.figures) == 3
    measured = measured_answer(run.reveal)
    assert measured in ("the smallest τ", "the largest τ", "the smallest τ or the largest τ")
    said = "Your prediction was right" if answer in measured else "Not quite."
    assert said in run.reveal, run.reveal
    assert said != "Not quite." or quoted(answer) in run.reveal


def test_labs_lists_every_headless_lab_and_its_question():
    rows = pg.labs()
    ids = [row["id"] for row in rows]
    assert {"anisotropy", "temperature", "train_clip", "simclr", "objectives"} <= set(ids)
    anisotropy = next(row for row in rows if row["id"] == "anisotropy")
    assert anisotropy["question"].startswith("Before you press Run")
    assert "<table>" in rows._repr_html_()


def test_predict_checks_the_answer_against_the_labs_choices():
    asked = pg.predict("anisotropy")
    assert asked.choice is None and len(asked.choices) == 3
    assert "pg.predict('anisotropy', CHOICE)" in asked._repr_markdown_()
    recorded = pg.predict("anisotropy", "above 0.7")
    assert recorded.choice == "Above 0.7: nearly every text points the same way"
    with pytest.raises(pg.LabOptionError, match="is not one answer of 'anisotropy'"):
        pg.predict("anisotropy", "maybe")
    with pytest.raises(pg.LabOptionError, match="asks no prediction in the notebook; these do: anisotropy"):
        pg.predict("siglip_variants", "anything")


@pytest.mark.slow
def test_the_reveal_compares_the_recorded_prediction_with_the_run():
    from playground.contract.verdict import measured_answer, quoted

    choice = pg.predict("anisotropy", "About 0").choice
    run = pg.run("anisotropy", models=("glove", "minilm"), seed=0)
    assert run.prediction == choice
    assert measured_answer(run.reveal) is not None
    said = "Your prediction was right" if measured_answer(run.reveal) == choice else "Not quite."
    assert said in run.reveal and quoted(choice) in run.reveal
    assert len(run.figures) == 5  # both models' heatmap and histograms, and the noise sweep
    assert set(run.result) == {"glove", "minilm", "settings"}


def test_training_reports_to_the_notebooks_progress_bar():
    from playground.science.training import LossLog, reporting_progress

    heard = []
    with reporting_progress(lambda step, steps, loss: heard.append((step, steps))):
        log = LossLog(steps=10)
        for step in range(10):
            log.add(step, 1.0)
    assert heard[-1] == (10, 10) and len(heard) == 10
    outside = LossLog(steps=10)
    assert outside.progress is None  # the bar is gone after the block
    ProgressBar("lab")(1, 10, 0.5)  # outside IPython it shows nothing and does not fail


def test_a_lab_without_figures_of_its_own_gets_charts_of_its_numbers():
    result = {"glove": {"auc": 0.8, "mean": 0.9}, "minilm": {"auc": 0.9, "mean": 0.1},
              "sweep": [{"tau": 0.1, "loss": 2.0}, {"tau": 1.0, "loss": 3.0}], "name": "x"}
    charts = chart_result(result)
    assert [c.layout.title.text for c in charts] == ["result (the run's numbers)", "sweep (the run's numbers)"]
    assert [t.name for t in charts[0].data] == ["glove", "minilm"]
    assert list(charts[0].data[1].y) == [0.9, 0.1]


@pytest.mark.slow
def test_the_whole_app_serves_from_the_notebook():
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo = pg.app(prevent_thread_lock=True, server_port=port, quiet=True)
    try:
        assert {lab.id for lab in demo.playground_labs} >= {row["id"] for row in pg.labs()}
        assert urllib.request.urlopen(demo.local_url, timeout=30).status == 200
    finally:
        demo.close()
