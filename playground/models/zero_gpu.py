"""A stand-in for ``spaces.GPU`` with ZeroGPU's semantics, for tests and rehearsals.

Used by ``playground.models.gpu`` where ``SPACES_ZERO_GPU=1`` is set and the ``spaces``
package is not installed. Like the real one, each decorated call:

- runs in a child made with ``multiprocessing``'s fork context, so it inherits every
  model the main process loaded before the call, and loses whatever it caches;
- receives its arguments and returns its result pickled (through a pipe): what
  cannot be pickled is reported by name, as ``PicklingError``;
- asks for ``duration`` seconds, a number or a function of the call's arguments, and
  is stopped past it with a clear error;
- when ``PLAYGROUND_ZERO_GPU_QUOTA_S`` is set, is charged to its visitor's quota and
  refused, before any fork, when it asks for more than the visitor has left (see
  ``Quota``), with the ``spaces`` package's words.

What it does not emulate: the GPU itself (the child computes where the model is,
on the CPU here, with one thread: a forked child cannot reuse the parent's OpenMP
pool). Every call is counted in ``CALLS`` (function, bytes in, bytes out, seconds,
seconds requested, the visitor, any model object found in what crossed; "stopped" for a call
stopped past its duration), and
appended as one JSON line to the file ``PLAYGROUND_ZERO_GPU_LOG`` names, if set;
every refusal in ``REFUSALS``.
"""
from __future__ import annotations

import functools
import io
import json
import math
import multiprocessing
import os
import pickle
import sys
import threading
import time
from typing import Callable, Optional, Union

LOG_ENV = "PLAYGROUND_ZERO_GPU_LOG"
CALLS: list[dict] = []
REFUSALS: list[dict] = []

# The quota, configurable so a test can play a class behind one IP. Unset QUOTA_ENV: no quota.
QUOTA_ENV = "PLAYGROUND_ZERO_GPU_QUOTA_S"  # an anonymous visitor's allowance, seconds
LOGGED_IN_QUOTA_ENV = "PLAYGROUND_ZERO_GPU_LOGGED_IN_QUOTA_S"  # a logged-in visitor's (default 2.5x)
HALF_LIFE_ENV = "PLAYGROUND_ZERO_GPU_HALF_LIFE_S"  # how fast used time is forgiven (default 2 h)
MAX_DURATION_ENV = "PLAYGROUND_ZERO_GPU_MAX_S"  # the most one call may ask for (default 5 min)
VISITOR_ENV = "PLAYGROUND_ZERO_GPU_VISITOR"  # who calls outside a Gradio request (default one IP)
DEFAULT_HALF_LIFE_S = 2 * 3600.0
DEFAULT_MAX_DURATION_S = 300.0
LOGGED_IN_FACTOR = 2.5


class GPUQuotaExceeded(RuntimeError):
    """The stand-in's refusal; its message is worded as the ``spaces`` package words its own."""


def _env_seconds(name: str, default: Optional[float]) -> Optional[float]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds.")


def current_visitor() -> str:
    """Whose quota a call spends: ``user:NAME`` for a logged-in visitor of the Gradio
    request being served, else ``ip:ADDRESS``; outside a request ``PLAYGROUND_ZERO_GPU_VISITOR``
    (default ``ip:127.0.0.1``: every headless call is one anonymous visitor)."""
    try:
        from gradio.context import LocalContext

        request = LocalContext.request.get(None)
    except Exception:  # gradio missing or not serving
        request = None
    if request is not None:
        username = getattr(request, "username", None)
        if username:
            return f"user:{username}"
        host = getattr(getattr(request, "client", None), "host", None)
        if host:
            return f"ip:{host}"
    return os.environ.get(VISITOR_ENV, "ip:127.0.0.1")


class Quota:
    """Per-visitor GPU time, as ZeroGPU keeps it (Hugging Face staff in the zero-gpu-explorers
    README discussions #7, #81 and #98): time used is forgiven with a half-life; a call is refused
    when the duration it *requests* exceeds what its visitor has left, or exceeds the cap.
    A call reserves what it requests and is then charged what it used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, tuple[float, float]] = {}  # visitor -> (seconds used, when)

    @staticmethod
    def allowance(visitor: str) -> Optional[float]:
        anonymous = _env_seconds(QUOTA_ENV, None)
        if anonymous is None:
            return None
        if visitor.startswith("user:"):
            return _env_seconds(LOGGED_IN_QUOTA_ENV, anonymous * LOGGED_IN_FACTOR)
        return anonymous

    def _used_now(self, visitor: str, now: float) -> float:
        used, at = self._used.get(visitor, (0.0, now))
        half_life = _env_seconds(HALF_LIFE_ENV, DEFAULT_HALF_LIFE_S)
        return used * 0.5 ** ((now - at) / half_life) if half_life > 0 else 0.0

    def left(self, visitor: str) -> Optional[float]:
        """Seconds ``visitor`` has left now (None: no quota configured)."""
        allowance = self.allowance(visitor)
        if allowance is None:
            return None
        with self._lock:
            return max(0.0, allowance - self._used_now(visitor, time.monotonic()))

    def reserve(self, visitor: str, requested: float) -> None:
        """Take ``requested`` seconds from ``visitor``, or raise ``GPUQuotaExceeded``."""
        cap = _env_seconds(MAX_DURATION_ENV, DEFAULT_MAX_DURATION_S)
        if requested > cap:
            raise GPUQuotaExceeded(f"The requested GPU duration ({requested:.0f}s) is larger than the maximum allowed")
        allowance = self.allowance(visitor)
        if allowance is None:
            return
        with self._lock:
            now = time.monotonic()
            used = self._used_now(visitor, now)
            left = allowance - used
            if requested > left:
                half_life = _env_seconds(HALF_LIFE_ENV, DEFAULT_HALF_LIFE_S)
                wait = half_life * math.log2(max(used, 1e-9) / max(allowance - requested, 1e-9)) if requested < allowance else float("inf")
                retry = time.strftime("%H:%M:%S", time.gmtime(wait)) if math.isfinite(wait) else "never at this size"
                raise GPUQuotaExceeded(
                    f"You have exceeded your GPU quota ({requested:.0f}s requested vs. {max(0.0, left):.0f}s left). "
                    f"Try again in {retry}"
                )
            self._used[visitor] = (used + requested, now)

    def settle(self, visitor: str, requested: float, used: float) -> None:
        """Give back what a call reserved and did not use."""
        if self.allowance(visitor) is None:
            return
        with self._lock:
            now = time.monotonic()
            self._used[visitor] = (max(0.0, self._used_now(visitor, now) - max(0.0, requested - used)), now)

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


QUOTA = Quota()


class _Spy(pickle.Pickler):
    """A pickler that notes every model object it is asked to pickle."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.models: list[str] = []

    def reducer_override(self, obj):
        if _is_model(obj):
            self.models.append(type(obj).__name__)
        return NotImplemented


def _is_model(obj) -> bool:
    if getattr(type(obj), "is_playground_model", False):  # a TextModel or ImageTextModel
        return True
    try:
        import torch

        return isinstance(obj, torch.nn.Module)
    except ImportError:  # pragma: no cover
        return False


def _dumps(value, what: str) -> tuple[bytes, list[str]]:
    buffer = io.BytesIO()
    spy = _Spy(buffer)
    try:
        spy.dump(value)
    except Exception as exc:
        raise pickle.PicklingError(f"{what} cannot be pickled for the ZeroGPU worker: {type(exc).__name__}: {exc}") from exc
    return buffer.getvalue(), spy.models


def _check_arguments(name: str, args: tuple, kwargs: dict) -> None:
    """Name the first argument that does not pickle (the whole tuple's error is vaguer)."""
    labelled = [(f"argument {i + 1}", a) for i, a in enumerate(args)] + [(f"argument {k!r}", v) for k, v in kwargs.items()]
    for label, value in labelled:
        try:
            pickle.dumps(value)
        except Exception as exc:
            raise pickle.PicklingError(
                f"@gpu {name}: {label} ({type(value).__name__}) cannot be pickled for the ZeroGPU worker: "
                f"{type(exc).__name__}: {exc}. Pass ids, texts, arrays or settings instead."
            ) from exc


def _child(fn: Callable, payload: bytes, conn) -> None:
    torch = sys.modules.get("torch")  # only where the app imported it: importing it here costs seconds
    if torch is not None:
        torch.set_num_threads(1)
    try:
        args, kwargs = pickle.loads(payload)
        result = (True, fn(*args, **kwargs))
    except BaseException as exc:  # sent back and raised in the parent
        result = (False, exc)
    try:
        data, models = _dumps(result, "the result")
    except pickle.PicklingError as exc:
        data, models = _dumps((False, exc), "the error")
    conn.send_bytes(json.dumps(models).encode())
    conn.send_bytes(data)
    conn.close()


def GPU(fn: Optional[Callable] = None, *, duration: Union[float, Callable[..., float]] = 60, **_ignored):
    """``spaces.GPU`` with ZeroGPU's semantics (see the module's docstring)."""

    def wrap(f: Callable) -> Callable:
        name = getattr(f, "__qualname__", repr(f))

        @functools.wraps(f)
        def call(*args, **kwargs):
            requested = float(duration(*args, **kwargs) if callable(duration) else duration)
            visitor = current_visitor()
            try:
                QUOTA.reserve(visitor, requested)
            except GPUQuotaExceeded as exc:
                REFUSALS.append({"function": name, "visitor": visitor, "requested": requested, "message": str(exc)})
                raise
            started = time.perf_counter()
            try:
                return _run(f, name, args, kwargs, requested, visitor, started)
            finally:
                QUOTA.settle(visitor, requested, time.perf_counter() - started)

        return call

    return wrap(fn) if fn is not None else wrap


def _run(f: Callable, name: str, args: tuple, kwargs: dict, duration: float, visitor: str, started: float):
    """One call in a forked child: arguments in and result out, pickled; stopped past ``duration``."""
    try:
        payload, models_in = _dumps((args, kwargs), f"@gpu {name}: its arguments")
    except pickle.PicklingError:
        _check_arguments(name, args, kwargs)
        raise
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(f, payload, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(duration):
            _record({"function": name, "bytes_in": len(payload), "bytes_out": 0, "seconds": round(time.perf_counter() - started, 4),
                     "requested": duration, "visitor": visitor, "models_pickled": models_in, "stopped": True})
            raise TimeoutError(
                f"@gpu {name} ran past its duration of {duration:g} s and was stopped (ZeroGPU does the same). "
                "Give it a larger duration, or ask it to do less."
            )
        models_out = json.loads(receive.recv_bytes())
        data = receive.recv_bytes()
    except EOFError:
        raise RuntimeError(f"@gpu {name}: the worker died without an answer (exit code {child.exitcode}).")
    finally:
        if child.is_alive():
            child.join(1)
        if child.is_alive():
            child.kill()
        receive.close()
    ok, value = pickle.loads(data)
    _record({
        "function": name, "bytes_in": len(payload), "bytes_out": len(data),
        "seconds": round(time.perf_counter() - started, 4), "requested": duration, "visitor": visitor,
        "models_pickled": models_in + models_out,
    })
    if not ok:
        raise value
    return value


def _record(call: dict) -> None:
    CALLS.append(call)
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(call) + "\n")
