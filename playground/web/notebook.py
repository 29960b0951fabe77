"""The labs in a notebook (Jupyter, Colab, VS Code, Kaggle): the same headless runs as
``playground run LAB``, shown inline::

    from playground import notebook as pg
    pg.labs()                                   # the labs, their questions
    pg.predict("anisotropy", "Above 0.7: nearly every text points the same way")
    pg.run("anisotropy", models=("glove", "minilm"), seed=0)   # figures, then the reveal

``run``'s keyword arguments are the lab's ``playground run LAB`` options (``noise_scale``
for ``--noise-scale``; a tuple for a comma-separated list; ``True`` for a flag), parsed by
the very parser the command line uses: a bad option raises ``LabOptionError`` whose text
is the line ``playground run`` prints. The returned ``LabRun`` holds the JSON that
``playground run LAB --json`` prints (``.result``) and shows the lab's plotly figures and
its reveal. One plugin manager and one model registry serve the whole kernel, so a model
loads once however many runs use it.
"""
from __future__ import annotations

import argparse
import html
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional, Sequence

from playground.contract.lab import Lab, LabContext, LabView
from playground.models.gpu import collect_notices
from playground.models.registry import ModelUnavailableError, UnknownModelError
from playground.web.cli import format_generic, lab_parser, run_error
from playground.web.notebook_display import (
    ProgressBar, chart_result, figure_html, ipython_display, markdown_html, progress_bar,
)

RUN_ERRORS = (ValueError, FileNotFoundError, ModelUnavailableError, UnknownModelError)  # as `playground run` reports them


class LabOptionError(ValueError):
    """A lab option ``playground run`` would refuse; the text is the line it prints."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this line instead of a traceback
        return [str(self)]


class LabRunError(ValueError):
    """A run the lab refused (a file it cannot read, a model it cannot load); the text is
    the line ``playground run`` prints."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


class _RaisingParser(argparse.ArgumentParser):
    """``playground run``'s parser, raising where the command line would print and exit."""

    def error(self, message: str):
        raise LabOptionError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: Optional[str] = None):
        if message:
            raise LabOptionError(message.strip())
        raise LabOptionError(f"{self.prog}: exited with status {status}")


@dataclass
class _Session:
    """The kernel's plugin manager, registry and the predictions made so far (lab id -> choice)."""

    pm: Any
    registry: Any
    predictions: dict = field(default_factory=dict)

    def labs(self) -> dict[str, Lab]:
        from playground.contract.plugins import collect_labs

        return {lab.id: lab for lab in collect_labs(self.pm)}

    def lab(self, lab_id: str) -> Lab:
        labs = self.labs()
        if lab_id not in labs:
            raise LabOptionError(f"playground run: unknown lab {lab_id!r}. Known labs: {', '.join(labs) or 'none'}.")
        return labs[lab_id]


@lru_cache(maxsize=1)
def _session() -> _Session:
    from playground.contract.plugins import create_plugin_manager, create_registry

    pm = create_plugin_manager()
    return _Session(pm=pm, registry=create_registry(pm))


def reset() -> None:
    """Forget the predictions and the loaded models: the next call starts afresh."""
    _session.cache_clear()


# -- the labs ---------------------------------------------------------------------------

class LabTable(list):
    """``labs()``: one dict per lab (id, title, description, headless, question), shown as a table."""

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{name}</th>" for name in ("id", "title", "what it shows", "predict first"))
        rows = "".join(
            f"<tr><td><code>{html.escape(row['id'])}</code></td><td>{html.escape(row['title'])}</td>"
            f"<td>{html.escape(row['description'])}</td><td>{html.escape(row['question'] or '')}</td></tr>"
            for row in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def labs() -> LabTable:
    """The labs ``run`` can run: ``[{"id", "title", "description", "headless", "question"}]``."""
    return LabTable(
        {"id": lab.id, "title": lab.title, "description": lab.description, "headless": lab.run is not None,
         "question": lab.prediction.question if lab.prediction else None}
        for lab in _session().labs().values()
    )


def options(lab_id: str) -> str:
    """The lab's options, as ``playground run LAB --help`` lists them."""
    return lab_parser(_session().lab(lab_id), _RaisingParser).format_help()


# -- predict, then run ------------------------------------------------------------------

@dataclass
class Recorded:
    """A prediction ``predict`` recorded (or, with no choice, the question to answer)."""

    lab_id: str
    question: str
    choices: tuple[str, ...]
    choice: Optional[str]

    def _repr_markdown_(self) -> str:
        if self.choice is None:
            listed = "\n".join(f"- {c}" for c in self.choices)
            return f"**{self.question}**\n\n{listed}\n\nAnswer with `pg.predict({self.lab_id!r}, CHOICE)`, then run."
        return f"**{self.question}**\n\nYou predicted: *{self.choice}*. Now run `pg.run({self.lab_id!r}, ...)`."


def predict(lab_id: str, choice: Optional[str] = None) -> Recorded:
    """Record ``choice`` (one of the lab's answers, or an unambiguous start of one, any case)
    as the prediction the next ``run(lab_id, ...)`` reveals against; with no choice, show
    the question and its answers."""
    session = _session()
    lab = session.lab(lab_id)
    if lab.prediction is None:
        asking = [i for i, other in session.labs().items() if other.prediction is not None]
        raise LabOptionError(f"lab {lab_id!r} asks no prediction in the notebook; these do: {', '.join(asking)}.")
    question, choices = lab.prediction.question, tuple(lab.prediction.choices)
    if choice is None:
        return Recorded(lab_id, question, choices, None)
    picked = [c for c in choices if c == choice] or [c for c in choices if c.lower().startswith(str(choice).lower())]
    if len(picked) != 1:
        listed = "; ".join(repr(c) for c in choices)
        raise LabOptionError(f"{choice!r} is not one answer of {lab_id!r}: choose one of {listed}.")
    session.predictions[lab_id] = picked[0]
    return Recorded(lab_id, question, choices, picked[0])


def options_to_argv(parser: argparse.ArgumentParser, options: dict) -> list[str]:
    """``run``'s keyword arguments as the command line would spell them: ``noise_scale="total"``
    is ``--noise-scale total``, ``models=("glove", "minilm")`` is ``--models glove,minilm``
    (separate words for an option that takes several), ``no_losses=True`` is ``--no-losses``,
    ``None`` leaves the default. An unknown name becomes ``--unknown-name VALUE``, so that
    the parser refuses it in its own words."""
    by_dest = {a.dest: a for a in parser._actions if a.option_strings}
    argv: list[str] = []
    for name, value in options.items():
        action = by_dest.get(name)
        flag = max(action.option_strings, key=len) if action else "--" + name.replace("_", "-")
        if value is None:
            continue
        if action is not None and action.nargs == 0:  # a flag: store_true / store_false
            if bool(value) != bool(action.default):
                argv.append(flag)
            continue
        if isinstance(value, (list, tuple)):
            many = action is not None and (action.nargs in ("+", "*") or isinstance(action.nargs, int))
            argv += [flag, *map(str, value)] if many else [flag, ",".join(map(str, value))]
        else:
            argv += [flag, str(value)]
    return argv


@dataclass
class LabRun:
    """One run in a notebook. ``result`` is the dict ``playground run LAB --json`` prints;
    ``figures`` the plotly figures shown; ``reveal`` the Markdown comparing ``prediction``
    with what the run measured (empty for a lab that asks none); ``text`` the run as
    ``playground run LAB`` prints it."""

    lab_id: str
    title: str
    argv: list[str]
    result: dict
    figures: list
    reveal: str
    prediction: Optional[str]
    text: str
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The run's JSON, as ``playground run LAB --json`` prints it."""
        return json.dumps(self.result, indent=2, default=float)

    def _heading(self) -> str:
        command = " ".join(["playground run", self.lab_id, *self.argv, "--json"])
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notices)
        return f"<h3>{html.escape(self.title)}</h3><p>The same run: <code>{html.escape(command)}</code></p>{notes}"

    def _repr_html_(self) -> str:
        """Everything as one HTML fragment (plotly.js from its CDN), for front ends without IPython's display."""
        parts = [self._heading()]
        parts += [figure_html(fig, first=i == 0) for i, fig in enumerate(self.figures)]
        if self.reveal:
            parts.append(markdown_html(self.reveal))
        parts.append(f"<details><summary>The run's figures as text</summary><pre>{html.escape(self.text)}</pre></details>")
        return "\n".join(parts)

    def _ipython_display_(self) -> None:
        """In IPython: the heading, each figure through plotly's own renderer (the one the front
        end needs: Colab, VS Code, JupyterLab), then the reveal."""
        ipython_display(self._heading(), self.figures, self.reveal, self.text)


def run(lab_id: str, **options) -> LabRun:
    """Run ``lab_id`` headless with its ``playground run`` options as keyword arguments,
    and return the run (shown inline when it is a cell's last value). The prediction that
    ``predict`` recorded for the lab, if any, is revealed against the run. Raises
    ``LabOptionError`` for an option the command line refuses and ``LabRunError`` for
    input the lab refuses, each with the line ``playground run`` prints."""
    session = _session()
    lab = session.lab(lab_id)
    if lab.run is None:
        raise LabOptionError(f"playground run: lab {lab.id!r} has no headless mode.")
    parser = lab_parser(lab, _RaisingParser)
    argv = options_to_argv(parser, options)
    args = parser.parse_args(argv)
    prediction = session.predictions.get(lab.id)
    ctx = LabContext(registry=session.registry, lab_id=lab.id)
    try:
        with collect_notices() as notices, progress_bar(ProgressBar(lab.title)):
            view = lab.show(args, ctx, prediction) if lab.show is not None else LabView(lab.run(args, ctx))
    except RUN_ERRORS as exc:
        raise LabRunError(run_error(lab.id, exc)) from exc
    figures = view.figures if lab.show is not None else chart_result(view.result)
    text = (lab.format_result or format_generic)(view.result)
    return LabRun(lab_id=lab.id, title=lab.title, argv=argv, result=view.result, figures=list(figures),
                  reveal=view.reveal, prediction=prediction, text=text, notices=list(dict.fromkeys(notices)))


def app(**launch_kwargs):
    """The whole Gradio app, inline in the notebook (Gradio renders inline in Jupyter and
    Colab). Returns the ``gr.Blocks``; ``launch_kwargs`` go to ``launch``."""
    from playground.web.app import build_app, launch_kwargs as app_launch_kwargs

    session = _session()
    demo = build_app(session.pm, session.registry)
    demo.launch(**{**app_launch_kwargs(), "inline": True, **launch_kwargs})
    return demo


__all__: Sequence[str] = (
    "LabOptionError", "LabRun", "LabRunError", "app", "labs", "options", "predict", "reset", "run",
)
