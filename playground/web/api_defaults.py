"""Give every API argument the default the page itself sends.

``gradio_client`` treats a parameter as optional when its component has an initial
value, or when the Python function's parameter defaults to None. A component with no
initial value (an empty File, an unselected prediction Radio, a Dropdown with nothing
picked) sends None from the page when left untouched, so every event function already
handles None there; declaring None as its default makes the API agree with the page:
``client.predict(api_name="/anisotropy_run")`` works without ``path=None`` spelled out.
"""
from __future__ import annotations

import inspect
from typing import Any

import gradio as gr
from gradio.utils import get_function_params

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _component_value(block: Any) -> Any:
    """The initial value a component sends, or None."""
    return getattr(block, "value", None) if isinstance(block, gr.components.Component) else None


def with_page_defaults(fn: Any, inputs: list) -> bool:
    """Declare on ``fn`` (through ``__signature__``) the default of each parameter fed by
    an input without one: None when the component has no initial value, else that value.
    Only the declared signature changes, never the call. Returns False when ``fn``'s
    signature cannot be read or set (a builtin, a bound method)."""
    try:
        signature = inspect.signature(fn)
        named = [name for name, *_ in get_function_params(fn)]
    except (TypeError, ValueError, NameError):
        return False
    fed = dict(zip(named, (_component_value(block) for block in inputs)))
    params, defaulted = [], False
    for param in signature.parameters.values():
        if param.kind in _POSITIONAL and param.default is _EMPTY and (param.name in fed or defaulted):
            param = param.replace(default=fed.get(param.name))
        defaulted = defaulted or (param.kind in _POSITIONAL and param.default is not _EMPTY)
        params.append(param)
    try:
        fn.__signature__ = signature.replace(parameters=params)
    except (AttributeError, TypeError, ValueError):
        return False
    return True


def give_api_defaults(demo: gr.Blocks) -> None:
    """``with_page_defaults`` for every public API event of ``demo``."""
    for block_fn in demo.fns.values():
        if block_fn.fn is None or not block_fn.api_name or getattr(block_fn, "api_visibility", "public") == "private":
            continue
        with_page_defaults(block_fn.fn, list(block_fn.inputs))
