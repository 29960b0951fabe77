"""How a notebook shows a run: its plotly figures, its reveal (Markdown), a progress bar
while it trains, and, for a lab that draws no figures of its own, charts of the numbers
its ``run`` returned. No IPython import at module level: outside a notebook every
function still works and shows nothing."""
from __future__ import annotations

import html
import numbers
from contextlib import contextmanager
from typing import Iterator, Optional

from playground.science.training import reporting_progress

MAX_CHARTS = 8  # a result with more tables than this is better read as text


# -- progress ---------------------------------------------------------------------------

def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


class ProgressBar:
    """An HTML ``<progress>`` bar updated in place (``display(..., display_id=True)``): it needs
    no widget library, so it draws the same in Jupyter, Colab, VS Code and a saved notebook."""

    def __init__(self, title: str) -> None:
        self.title, self.handle = title, None

    def _html(self, step: int, steps: int, loss: Optional[float]) -> str:
        said = f"step {step}/{steps}" + (f", loss {loss:.4f}" if loss is not None else "")
        return (f"<div><progress value='{step}' max='{steps}' style='width:40%'></progress> "
                f"{html.escape(self.title)}: {said}</div>")

    def __call__(self, step: int, steps: int, loss: Optional[float]) -> None:
        if not _in_ipython():
            return
        from IPython.display import HTML, display

        if self.handle is None:
            self.handle = display(HTML(self._html(step, steps, loss)), display_id=True)
        else:
            self.handle.update(HTML(self._html(step, steps, loss)))


@contextmanager
def progress_bar(bar: ProgressBar) -> Iterator[ProgressBar]:
    """Within the block, training that reports through ``LossLog`` moves ``bar``."""
    with reporting_progress(bar):
        yield bar


# -- figures and the reveal -------------------------------------------------------------

def figure_html(figure, first: bool) -> str:
    """A plotly figure as an HTML fragment; the first one loads plotly.js from its CDN."""
    return figure.to_html(full_html=False, include_plotlyjs="cdn" if first else False)


def markdown_html(text: str) -> str:
    """A reveal's Markdown as HTML (its verdict ``<span>`` passes through)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).render(text)


def ipython_display(heading: str, figures: list, reveal: str, text: str) -> None:
    """Show a run in IPython: the heading, each figure with plotly's renderer for this
    front end, the reveal, and the run's figures as text folded away."""
    from IPython.display import HTML, Markdown, display

    display(HTML(heading))
    for figure in figures:
        display(figure)
    if reveal:
        display(Markdown(reveal))
    display(HTML(f"<details><summary>The run's figures as text</summary><pre>{html.escape(text)}</pre></details>"))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _numeric_tables(result, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every table of numbers in ``result`` with its path: a dict's dict children make one
    table (a row each, their numbers as columns); a dict's own numbers make a one-row table;
    a list of dicts counts as a dict keyed 0, 1, ...; then the same inside every child
    that holds more than a flat row."""
    if isinstance(result, list) and result and all(isinstance(r, dict) for r in result):
        result = {str(i): r for i, r in enumerate(result)}
    if not isinstance(result, dict):
        return
    rows = {str(k): {c: x for c, x in v.items() if _is_number(x)} for k, v in result.items() if isinstance(v, dict)}
    rows = {k: v for k, v in rows.items() if v}
    own = {k: v for k, v in result.items() if _is_number(v)}
    if rows:
        yield path or "result", rows
    if len(own) >= 2:
        yield path or "result", {"value": own}
    for key, value in result.items():
        nested = isinstance(value, list) or isinstance(value, dict) and any(
            isinstance(v, (dict, list)) for v in value.values())
        if nested:
            yield from _numeric_tables(value, f"{path}.{key}" if path else str(key))


def chart_result(result: dict) -> list:
    """Grouped bar charts of the numbers in ``result`` (one per table, at most ``MAX_CHARTS``):
    the notebook's view of a lab that draws no figures of its own (``Lab.show``)."""
    import plotly.graph_objects as go

    charts, seen = [], set()
    for path, table in _numeric_tables(result):
        columns = list(dict.fromkeys(c for row in table.values() for c in row))
        key = (tuple(table), tuple(columns))
        if key in seen:
            continue
        seen.add(key)
        figure = go.Figure([go.Bar(name=str(row), x=columns, y=[values.get(c) for c in columns])
                            for row, values in table.items()])
        figure.update_layout(title=f"{path} (the run's numbers)", barmode="group", height=360)
        charts.append(figure)
        if len(charts) == MAX_CHARTS:
            break
    return charts
