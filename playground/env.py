"""Environment variables that more than one layer reads: named once here, so that the
layer that sets one and the layer that reads it need not import each other."""

DEV_ENV = "PLAYGROUND_DEV"  # dev mode: tracebacks in the page (set by the watcher, read by playground.web.ui)
RELOAD_CHILD_ENV = "PLAYGROUND_DEV_CHILD"  # set in the server process the dev-mode watcher runs
