"""No "1 2 3" headers on a table before its first run.

A ``gr.Dataframe`` built without a value or headers shows Gradio's placeholder headers
``1 2 3`` above an empty body until an event fills it, which reads like data. This gives
such tables one header that says what fills them instead.
"""
from __future__ import annotations

import gradio as gr

GRADIO_PLACEHOLDER = ["1", "2", "3"]
EMPTY_HEADER = "(empty until you run)"


def is_placeholder(table: gr.Dataframe) -> bool:
    """True when ``table`` shows only Gradio's placeholder headers and no rows."""
    value = table.value if isinstance(table.value, dict) else {}
    return list(value.get("headers") or []) == GRADIO_PLACEHOLDER and not value.get("data")


def label_empty_tables(demo: gr.Blocks) -> None:
    """Give every table of ``demo`` that shows only placeholder headers the header ``EMPTY_HEADER``."""
    for block in demo.blocks.values():
        if isinstance(block, gr.Dataframe) and is_placeholder(block):
            block.value = {**block.value, "headers": [EMPTY_HEADER]}
