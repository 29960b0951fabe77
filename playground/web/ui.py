"""Small UI helpers every lab uses: friendly errors, model pickers, the session id.

Labs import gradio here and in their own ``ui.py`` only; compute stays gradio-free.
"""
from __future__ import annotations

import contextlib
import functools
import html
import logging
import math
import os
import threading
import traceback
from typing import Callable, Iterator, Optional

import gradio as gr

from playground.models.gpu import collect_notices
from playground.models.registry import ModelRegistry, ModelUnavailableError, UnknownModelError

log = logging.getLogger("playground")

# Errors whose message is written for the user; anything else is a bug, logged
# with its traceback and reported without internals (outside dev mode).
USER_ERRORS = (ValueError, TypeError, KeyError, ModelUnavailableError, UnknownModelError, FileNotFoundError)
# Raised with a sentence for the user (a bad input, a model that cannot be had): dev mode
# shows that sentence too, with where it was raised, not a traceback and "fix that line".
# A TypeError or KeyError is more often a slip in a lab's code, so dev mode traces those.
MESSAGES_FOR_USERS = (ValueError, ModelUnavailableError, UnknownModelError, FileNotFoundError)
from playground.env import DEV_ENV
SAFE_MESSAGE = "Something went wrong ({name}). The server logged the details."


def dev_mode() -> bool:
    """True when ``PLAYGROUND_DEV=1`` (``playground serve --dev``, the default on
    loopback) and this is not a Hugging Face Space: errors then show their message
    and traceback in the page. On a Space (``SPACE_ID`` set) it is always False."""
    return os.environ.get(DEV_ENV) == "1" and not os.environ.get("SPACE_ID")


def raised_at(exc: BaseException) -> str:
    """Where ``exc`` was raised (' at FILE, line N, in FUNCTION'), or ''."""
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None  # skip friendly_errors' own frame
    frames = traceback.extract_tb(tb)
    return f" at {os.path.basename(frames[-1].filename)}, line {frames[-1].lineno}, in {frames[-1].name}" if frames else ""


def dev_error_message(exc: BaseException) -> str:
    """The exception, where it was raised, and the traceback, as HTML for the page's error toast."""
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None  # skip friendly_errors' own frame
    where = raised_at(exc)
    details = "".join(traceback.format_exception(type(exc), exc, tb))
    return (
        f"<b>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</b>{html.escape(where)}<br>"
        "Fix that line and save; dev mode restarts the app, then reload the page."
        f"<pre style='white-space: pre-wrap; text-align: left; font-size: 0.8em'>{html.escape(details)}</pre>"
    )


def friendly_errors(fn: Callable) -> Callable:
    """Wrap an event handler so a bad input or a missing model becomes a clear
    ``gr.Error`` in the page instead of a stack trace; the server keeps serving.

    ``ValueError``, ``TypeError``, ``KeyError``, ``FileNotFoundError``,
    ``ModelUnavailableError`` and ``UnknownModelError`` (``USER_ERRORS``) show their
    own message, so raise them with a sentence written for the user. Any other
    exception is a bug: the page says "Something went wrong (NAME)" and the server
    logs the traceback. What the shell has to tell the visitor about where their run
    computed (a ZeroGPU refusal that ran it on the CPU, ``playground.models.gpu.notify``)
    shows as one line (``gr.Info``) once the handler returns. In dev mode (``dev_mode()``) a message for the user
    (``MESSAGES_FOR_USERS``) is shown as it is, with where it was raised, and the
    traceback goes to the terminal; every other error shows its message, the line it
    came from and the traceback in the page.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with collect_notices(live=gr.Info) as notices:  # a refused run's offer shows while it runs
                result = fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise page_error(fn, exc) from exc
        for notice in dict.fromkeys(notices):  # e.g. "GPU quota used up for now: this ran on the CPU, 12 s."
            gr.Info(notice)
        return result

    return wrapper


def page_error(fn: Callable, exc: Exception) -> gr.Error:
    """The ``gr.Error`` the page shows for ``exc`` raised by the handler ``fn``: in dev
    mode the message and traceback; else a user error's own message, or a safe one."""
    name = getattr(fn, "__name__", str(fn))
    if dev_mode():
        log.exception("error in %s", name)
        if isinstance(exc, MESSAGES_FOR_USERS):
            return gr.Error(f"{exc}\n\n(dev mode: {type(exc).__name__} raised{raised_at(exc)}; traceback in the terminal)")
        return gr.Error(dev_error_message(exc), duration=None, title=f"{type(exc).__name__} (dev mode)")
    if isinstance(exc, USER_ERRORS):
        # a plain KeyError quotes its message; UnknownModelError writes its own (with the known ids)
        plain_key = isinstance(exc, KeyError) and not isinstance(exc, UnknownModelError)
        return gr.Error(str(exc.args[0]) if plain_key and exc.args else str(exc))
    log.exception("unexpected error in %s", name)
    return gr.Error(SAFE_MESSAGE.format(name=type(exc).__name__))


def session_id(request: Optional[gr.Request]) -> str:
    """The browser session's id (one per open tab), or "" outside a request."""
    return getattr(request, "session_hash", None) or ""


class StopFlags:
    """The Stop button of a training tab: per browser session, a flag the button sets and the
    running loop reads (``should_stop``). One per tab::

        stops = StopFlags(stopping="Stopping after the current step; ...")
        with stops.running(session_id(request)) as should_stop:
            result = train(settings, should_stop=should_stop)
        stop_button.click(stops.request_stop, None, status, api_name="my_lab_stop", queue=False)
    """

    def __init__(self, stopping: str, idle: str = "Nothing is running in this tab.") -> None:
        self.stopping, self.idle = stopping, idle  # what the button answers, with and without a run
        self._flags: dict[str, threading.Event] = {}

    @contextlib.contextmanager
    def running(self, session: str) -> Iterator[Callable[[], bool]]:
        """While the block runs, the Stop button of ``session`` sets the flag whose ``is_set``
        this yields; the flag is cleared at the start and forgotten at the end."""
        flag = self._flags.setdefault(session, threading.Event())
        flag.clear()
        try:
            yield flag.is_set
        finally:
            self._flags.pop(session, None)

    def request_stop(self, request: gr.Request) -> str:
        """The Stop button's handler: sets this session's flag; says what happens next."""
        flag = self._flags.get(session_id(request))
        if flag is None:
            return self.idle
        flag.set()
        return self.stopping


def model_choices(registry: ModelRegistry, kind: Optional[str] = None, session: str = "") -> list[tuple[str, str]]:
    """Dropdown choices ``(label, id)``; models that cannot be had here are labelled so."""
    choices = []
    for model_id in registry.model_ids(kind=kind, session=session):
        if model_id in registry.specs:
            ok, _ = registry.availability(model_id)
            label = model_id if ok else f"{model_id} (unavailable here)"
        else:
            label = f"{model_id} (yours, this session)"
        choices.append((label, model_id))
    return choices


def serialised_plot(figure):
    """A plotly figure as ``gr.Plot`` sends it, serialised once: a run shared by a class
    (``LabContext.shared_run``) is then not re-serialised for every student."""
    from gradio.components.plot import PlotData

    return PlotData(type="plotly", plot=figure.to_json())


def first_available(registry: ModelRegistry, preferred: list[str], kind: Optional[str] = None) -> Optional[str]:
    """The first of ``preferred`` that can be had here, else any available model of ``kind``."""
    for model_id in preferred:
        if model_id in registry.specs and registry.availability(model_id)[0]:
            return model_id
    found = registry.model_ids(kind=kind, available_only=True)
    return found[0] if found else None


def check_numbers(values: dict, whole: tuple[str, ...] = ()) -> None:
    """``ValueError`` for a control left empty (or NaN) or, for the names in ``whole``,
    holding a fraction; each message says which control and what to enter."""
    for name, value in values.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(f"The {name} is empty; enter a number (default: see the field's label).")
    for name in whole:
        if float(values[name]) != int(float(values[name])):
            raise ValueError(f"The {name} must be a whole number, got {values[name]}.")
