"""GPU-bound compute, and what crosses into it on ZeroGPU.

On a ZeroGPU Hugging Face Space (``SPACES_ZERO_GPU`` set), ``spaces.GPU`` runs each
decorated call in a worker forked from the main process: the worker inherits every
model loaded before the fork, but the call's arguments and its result travel
through a queue, pickled, and anything the worker caches is gone when it ends.
Everywhere else (CPU, a dedicated GPU, a laptop) ``@gpu`` returns the function
unchanged.

So what crosses is kept small and plain. A model is never an argument: each model
the registry hands out carries a ``locator`` (registry key, model id, session),
and ``encode_texts_on_gpu`` / ``encode_images_on_gpu`` take that locator with the
texts or images, find the model in the worker's (inherited) registry, and return
the rows. ``TextModel.encode_texts`` calls them only for the texts its cache (in
the main process) lacks, and caches what comes back. Training runs return their
figures and weights as plain data.

A GPU call spends the visitor's quota, so on ZeroGPU:

- each call asks for what it needs: ``duration`` may be a function of the call's own
  arguments (as in ``spaces.GPU``), and the one given here is estimated from them by
  ``playground.models.gpu_policy`` (capped at ZeroGPU's 5 minutes);
- ``when`` (a function of the same arguments) can keep a call on the CPU, where the
  CPU serves (``gpu_policy.worth_gpu``); callers that decide themselves use
  ``dispatch_to_gpu``;
- a call ZeroGPU refuses (quota used up, no GPU free) runs the same function on the
  CPU in this process, and the visitor is told in one line (``notify``; the web layer
  shows what ``collect_notices`` gathered), never with an error.

    @gpu(duration=lambda settings: request_seconds(estimate(settings)),
         when=lambda settings: worth_gpu(estimate(settings), "training"))
    def train(settings): ...

Where the ``spaces`` package is not installed but ``SPACES_ZERO_GPU=1`` is set
(tests, a rehearsal on a laptop), ``playground.models.zero_gpu`` stands in for it with the
same semantics: a forked child, pickled arguments and result, the duration
enforced, and a per-visitor quota when configured.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import re
import time
import uuid
import weakref
from typing import Callable, Iterator, Optional, Sequence, Union

from playground.models import gpu_policy, zero_gpu

ZERO_GPU_ENV = "SPACES_ZERO_GPU"
log = logging.getLogger(__name__)

# Registries of this process, by key, so a forked worker finds the one a locator names.
_REGISTRIES: "weakref.WeakValueDictionary[str, object]" = weakref.WeakValueDictionary()
# True while a decorated call runs (in its worker, or on the CPU after a refusal): a nested
# call must not ask for a GPU again. A context variable, so one visitor's CPU run does not
# keep another visitor's thread off the GPU.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("playground_inside_gpu_call", default=False)
# What the visitor should be told about where their call ran (see collect_notices).
_notices: contextvars.ContextVar[Optional[list]] = contextvars.ContextVar("playground_gpu_notices", default=None)
# Who hears a notice at once, while the call still runs (see collect_notices' ``live``).
_live: contextvars.ContextVar[Optional[Callable[[str], None]]] = contextvars.ContextVar("playground_gpu_live", default=None)

# How ZeroGPU says no. The ``spaces`` package raises a ``gr.Error`` (its ``HTMLError``) whose
# text reads "You have exceeded your GPU quota (60s requested vs. 59s left)" (also "your free
# GPU quota", "your Pro GPU quota"; older releases "(59s left vs. 60s requested)"), "The
# requested GPU duration (400s) is larger than the maximum allowed", "No GPU was available
# (after 60s)", or, for a call stopped past its duration, "GPU task aborted"
# (spaces/zero/client.py and wrappers.py). The stand-in uses the same words.
REFUSALS = (
    (re.compile(r"exceeded your .*quota|requested GPU duration .* larger than the maximum", re.I | re.S),
     "GPU quota used up for now: this ran on the CPU, {seconds:.0f} s."),
    (re.compile(r"No GPU was available", re.I), "No GPU was free just now: this ran on the CPU, {seconds:.0f} s."),
    (re.compile(r"GPU task aborted|ran past its duration", re.I),
     "The GPU call ran past the time it asked for: this ran on the CPU, {seconds:.0f} s."),
)


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Hugging Face Space (a GPU attached per decorated call)."""
    return os.environ.get(ZERO_GPU_ENV, "").lower() in ("1", "true")


def inside_gpu_call() -> bool:
    """True while a ``@gpu`` call runs (a nested call must not fork again)."""
    return _inside.get()


def dispatch_to_gpu(locator, cpu_seconds: Optional[float] = None, kind: str = "embedding") -> bool:
    """Whether work on the model at ``locator`` goes through a ``@gpu`` call now: on
    ZeroGPU, outside another call, and (given the work's ``cpu_seconds``) only when the
    GPU gains enough (``gpu_policy.worth_gpu``)."""
    if locator is None or not on_zero_gpu() or inside_gpu_call():
        return False
    return cpu_seconds is None or gpu_policy.worth_gpu(cpu_seconds, kind)


# -- what the visitor is told ---------------------------------------------------------
@contextlib.contextmanager
def collect_notices(live: Optional[Callable[[str], None]] = None) -> Iterator[list]:
    """Gather the notices of the calls made inside the block (one list per event handler).

    ``live``, if given, is told an ``announce``-d line at once, while the call still runs
    (the web layer passes ``gr.Info``): a refused training run's offer must reach the
    visitor before the CPU run it offers to stop, not after it."""
    token, live_token = _notices.set([]), _live.set(live)
    try:
        yield _notices.get()
    finally:
        _notices.reset(token)
        _live.reset(live_token)


def notify(text: str) -> None:
    """Tell the visitor ``text`` (one line): kept for the enclosing ``collect_notices``, and logged."""
    log.warning(text)
    gathered = _notices.get()
    if gathered is not None:
        gathered.append(text)


def announce(text: str) -> None:
    """Tell the visitor ``text`` now (``collect_notices``' ``live`` listener), and log it."""
    log.warning(text)
    listener = _live.get()
    if listener is not None:
        listener(text)


def refusal_notice(exc: BaseException) -> Optional[str]:
    """The notice template for a ZeroGPU refusal, or None when ``exc`` is another error."""
    text = str(exc)
    return next((notice for pattern, notice in REFUSALS if pattern.search(text)), None)


# -- the decorator --------------------------------------------------------------------
def _spaces_gpu():
    """``spaces.GPU`` on a Space (``SYSTEM=spaces``) where the package is installed; the
    stand-in everywhere else, even where ``spaces`` is installed (a rehearsal must never
    reach for ZeroGPU's service)."""
    if os.environ.get("SYSTEM") == "spaces":
        try:
            import spaces

            return spaces.GPU
        except ImportError:
            pass
    return zero_gpu.GPU


Duration = Union[float, Callable[..., float]]


def requested_duration(duration: Duration, args: tuple, kwargs: dict) -> int:
    """What a call asks for: ``duration`` itself, or its value for the call's arguments,
    in whole seconds between 1 and ZeroGPU's cap."""
    seconds = duration(*args, **kwargs) if callable(duration) else duration
    return int(max(1, min(gpu_policy.MAX_REQUEST_S, round(float(seconds)))))


def _marked(f: Callable, args: tuple, kwargs: dict):
    """``f(*args, **kwargs)`` marked as inside a call: what it calls does not ask for a GPU again."""
    token = _inside.set(True)
    try:
        return f(*args, **kwargs)
    finally:
        _inside.reset(token)


def gpu(fn: Optional[Callable] = None, *, duration: Duration = 60, when: Optional[Callable[..., bool]] = None,
        local: Sequence[str] = (), offer: Optional[Callable[..., str]] = None):
    """Decorate ``fn`` so it runs with a GPU on ZeroGPU; a no-op elsewhere.

    Args:
        duration: seconds the call asks for, or a function of the call's arguments that
            returns them (``gpu_policy.request_seconds`` of an estimate); capped at 5 minutes.
        when: a function of the call's arguments; False keeps the call on the CPU.
        local: names of keyword arguments that stay in this process (a progress callback,
            a stop flag): left out of a call that goes to the GPU (they cannot be pickled
            into the worker), passed on when the call runs on the CPU.
        offer: a function of the call's arguments that returns what the visitor may do
            when ZeroGPU refuses the call (a training lab: what the CPU run costs, and a
            smaller run's cost; ``gpu_policy.cpu_offer``), announced before the CPU run.

    A call ZeroGPU refuses runs on the CPU, with one line for the visitor (``notify``).
    """

    def wrap(f: Callable) -> Callable:
        if not on_zero_gpu():
            return f

        @functools.wraps(f)
        def in_worker(*args, **kwargs):
            return _marked(f, args, kwargs)

        on_gpu = _spaces_gpu()(duration=lambda *a, **k: requested_duration(duration, a, k))(in_worker)

        @functools.wraps(f)
        def call(*args, **kwargs):
            if inside_gpu_call() or (when is not None and not when(*args, **kwargs)):
                return _marked(f, args, kwargs)
            crossing = {k: v for k, v in kwargs.items() if k not in local}
            try:
                return on_gpu(*args, **crossing)
            except Exception as exc:
                notice = refusal_notice(exc)
                if notice is None:
                    raise
                log.info("@gpu %s refused (%s): running it on the CPU", f.__qualname__, exc)
            if offer is not None:
                announce(f"{notice.split(':')[0]}: running on the CPU instead. {offer(*args, **crossing)}")
            started = time.perf_counter()
            result = _marked(f, args, kwargs)
            notify(notice.format(seconds=time.perf_counter() - started))
            return result

        return call

    return wrap(fn) if fn is not None else wrap


# -- models, found by locator -------------------------------------------------------
def track(registry) -> str:
    """Remember ``registry`` under a new key (called by ``ModelRegistry``)."""
    key = uuid.uuid4().hex
    _REGISTRIES[key] = registry
    return key


def model_at(locator):
    """The model a locator ``(registry key, model id, session)`` names, in this process."""
    key, model_id, session = locator
    registry = _REGISTRIES.get(key)
    if registry is None:
        raise RuntimeError(f"no registry {key!r} in this process: was the worker forked from the app?")
    return registry.peek(model_id, session)


def _encoding_request(kind: str):
    def request(locator, items, batch_size: int = 0) -> int:
        return gpu_policy.request_seconds(gpu_policy.encoding_seconds(model_at(locator), kind, len(items)))

    return request


@gpu(duration=_encoding_request("text"))
def encode_texts_on_gpu(locator, texts: Sequence[str], batch_size: int = 64):
    """Rows for ``texts`` from the model at ``locator`` (not L2-normalised, not cached:
    the caller in the main process does both)."""
    model = model_at(locator)
    texts = list(texts)
    import numpy as np

    return np.concatenate([model._encode(texts[i : i + batch_size], batch_size) for i in range(0, len(texts), batch_size)])


@gpu(duration=_encoding_request("image"))
def encode_images_on_gpu(locator, images: Sequence, batch_size: int = 16):
    """Rows for PIL ``images`` from the model at ``locator`` (not L2-normalised)."""
    model = model_at(locator)
    images = list(images)
    import numpy as np

    return np.concatenate([model._encode_images(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def embed_texts(registry, model_id: str, texts, session: Optional[str] = None, progress=None):
    """``texts`` embedded by the registry's model ``model_id`` (a shared one or the
    session's own): float32 rows, L2-normalised, cached per text in this process."""
    return registry.get(model_id, session=session or None).encode_texts(list(texts), progress=progress)
