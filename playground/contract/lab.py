"""What a lab is: the data a plugin hands the shell for one tab."""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

if TYPE_CHECKING:
    from playground.models.registry import ModelRegistry

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG_RULE = "lowercase letters, digits and '_', starting with a letter"


def slug_suggestion(text: str) -> str:
    """The nearest valid id to ``text`` ("My-Lab" -> "my_lab"); "my_lab" when nothing is left."""
    slug = re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")
    slug = re.sub(r"^[0-9_]+", "", slug)
    return slug or "my_lab"


class LabIdError(ValueError):
    """A lab id that is not a slug; ``fix`` says which id to use instead."""

    def __init__(self, lab_id: object) -> None:
        suggestion = slug_suggestion(lab_id)
        super().__init__(f"Lab id {lab_id!r} is not a slug: use {SLUG_RULE} (for example {suggestion!r}).")
        self.fix = f"Use `Lab(id={suggestion!r}, ...)`; api_names then start with {suggestion + '_'!r}."


@dataclass
class LabContext:
    """What the shell hands a lab's ``build`` and ``run``.

    ``registry`` is the one shared model registry of the process: every lab and
    every user see the same loaded models and the same embedding cache.
    """

    registry: "ModelRegistry"
    lab_id: str = ""
    tab: Any = None  # the gr.Tab the lab is built in (e.g. ``ctx.tab.select(...)`` to refresh pickers)
    results: Any = None  # the shell's ``ResultCache`` for deterministic runs; None outside the app
    classroom: Any = None  # the class's votes (``playground.classroom.ui.ClassVotes`` uses it); None outside the app

    def shared_run(self, compute: Callable[[], Any], models: Sequence[str], session: str, *inputs: Any) -> Any:
        """``compute()``, computed once for everyone in the process who asks for the same run:
        this lab, the same ``models`` (a model trained in a session counts only for that
        session) and the same ``inputs`` (data hashes from ``result_cache.data_hash``, settings,
        seed). A class pressing Run with the defaults computes once; the others wait for it and
        get the same value, so the value must not be changed afterwards (copy it first).
        Outside the app (no ``results``) it simply computes."""
        if self.results is None:
            return compute()
        return self.results.shared_run(compute, self.lab_id, self.registry, models, session, *inputs)


@dataclass(frozen=True)
class Prediction:
    """The question a lab asks before it runs, and the answers a student may pick
    (``playground.notebook.predict`` checks a pick against ``choices``)."""

    question: str
    choices: tuple[str, ...]


@dataclass
class LabView:
    """A headless run as a notebook shows it: ``result`` is exactly what ``run`` returns
    (what ``playground run LAB --json`` prints), ``figures`` the lab's plotly figures of
    that run, ``reveal`` the Markdown that compares the prediction with what it measured."""

    result: dict
    figures: list = field(default_factory=list)
    reveal: str = ""


@dataclass
class Lab:
    """One lab, one tab.

    Args:
        id: a slug (lowercase letters, digits, ``_``), unique across plugins. The
            lab's UI events use ``api_name``s that start with it.
        title: the tab's title.
        build: ``build(ctx: LabContext)``, called inside the ``gr.Tab`` the shell
            opened; it creates the lab's components and wires its events.
        order: tabs are sorted by ``order``, then ``title``.
        description: one sentence, shown by ``playground labs``.
        add_arguments: optional ``add_arguments(parser)`` adding the lab's
            options to ``playground run LAB``.
        run: optional ``run(args, ctx) -> dict`` running the lab headless; the
            dict holds plain JSON-able figures.
        format_result: optional ``format_result(result) -> str`` for the
            human-readable output of ``playground run`` (else a generic layout).
        prediction: optional ``Prediction`` the notebook asks before ``show`` runs.
        show: optional ``show(args, ctx, prediction) -> LabView``: the same run as
            ``run`` (same args, same result dict) plus its figures and the reveal of
            ``prediction`` (one of ``prediction.choices``, or None); used by
            ``playground.notebook.run`` (else that shows ``run``'s numbers as charts).
    """

    id: str
    title: str
    build: Callable[[LabContext], Any]
    order: int = 100
    description: str = ""
    add_arguments: Optional[Callable[[argparse.ArgumentParser], None]] = None
    run: Optional[Callable[[argparse.Namespace, LabContext], dict]] = None
    format_result: Optional[Callable[[dict], str]] = None
    prediction: Optional[Prediction] = None
    show: Optional[Callable[[argparse.Namespace, LabContext, Optional[str]], LabView]] = None
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _SLUG.match(self.id):
            raise LabIdError(self.id)
        if not callable(self.build):
            raise TypeError(f"Lab {self.id!r}: build must be a function build(ctx), got {self.build!r}.")
