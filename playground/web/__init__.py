"""The top layer: what a person or a client talks to. The Gradio app (``app.py``), the
``playground`` command (``cli.py``), dev mode (``devserver.py``), the UI kit labs use (``ui.py``,
``downloads.py``) and the cache of deterministic runs (``result_cache.py``). Nothing imports it but labs.
"""
