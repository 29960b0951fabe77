"""Small UI helpers every lab uses: friendly errors, model pickers, the session id.

Labs import gradio here and in their own ``ui.py`` only; compute stays gradio-free.
"""
from __future__ import annotations

import functools
import logging
from typing import Callable, Optional

import gradio as gr

from .registry import ModelRegistry, ModelUnavailableError, UnknownModelError

log = logging.getLogger("playground")

# Errors whose message is written for the user; anything else is a bug, logged
# with its traceback and reported without internals.
USER_ERRORS = (ValueError, TypeError, KeyError, ModelUnavailableError, UnknownModelError, FileNotFoundError)


def friendly_errors(fn: Callable) -> Callable:
    """Wrap an event handler so a bad input or a missing model becomes a clear
    ``gr.Error`` in the page instead of a stack trace; the server keeps serving."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as exc:
            # a plain KeyError quotes its message; UnknownModelError writes its own (with the known ids)
            plain_key = isinstance(exc, KeyError) and not isinstance(exc, UnknownModelError)
            message = str(exc.args[0]) if plain_key and exc.args else str(exc)
            raise gr.Error(message) from exc
        except Exception as exc:
            log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
            raise gr.Error(f"Something went wrong ({type(exc).__name__}). The server logged the details.") from exc

    return wrapper


def session_id(request: Optional[gr.Request]) -> str:
    """The browser session's id (one per open tab), or "" outside a request."""
    return getattr(request, "session_hash", None) or ""


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


def first_available(registry: ModelRegistry, preferred: list[str], kind: Optional[str] = None) -> Optional[str]:
    """The first of ``preferred`` that can be had here, else any available model of ``kind``."""
    for model_id in preferred:
        if model_id in registry.specs and registry.availability(model_id)[0]:
            return model_id
    found = registry.model_ids(kind=kind, available_only=True)
    return found[0] if found else None
