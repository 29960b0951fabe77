"""A stand-in for ``spaces.GPU`` with ZeroGPU's semantics, for tests and rehearsals.

Used by ``playground.models.gpu`` where ``SPACES_ZERO_GPU=1`` is set and the ``spaces``
package is not installed. Like the real one, each decorated call:

- runs in a child made with ``multiprocessing``'s fork context, so it inherits every
  model the main process loaded before the call, and loses whatever it caches;
- receives its arguments and returns its result pickled (through a pipe): what
  cannot be pickled is reported by name, as ``PicklingError``;
- is stopped past its ``duration`` with a clear error.

What it does not emulate: the GPU itself (the child computes where the model is,
on the CPU here, with one thread: a forked child cannot reuse the parent's OpenMP
pool) and the Space's GPU quota. Every call is counted in ``CALLS`` (function,
bytes in, bytes out, seconds, any model object found in what crossed), and
appended as one JSON line to the file ``PLAYGROUND_ZERO_GPU_LOG`` names, if set.
"""
from __future__ import annotations

import functools
import io
import json
import multiprocessing
import os
import pickle
import time
from typing import Callable, Optional

LOG_ENV = "PLAYGROUND_ZERO_GPU_LOG"
CALLS: list[dict] = []


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
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
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


def GPU(fn: Optional[Callable] = None, *, duration: float = 60, **_ignored):
    """``spaces.GPU`` with ZeroGPU's semantics (see the module's docstring)."""

    def wrap(f: Callable) -> Callable:
        name = getattr(f, "__qualname__", repr(f))

        @functools.wraps(f)
        def call(*args, **kwargs):
            started = time.perf_counter()
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
                "seconds": round(time.perf_counter() - started, 4), "models_pickled": models_in + models_out,
            })
            if not ok:
                raise value
            return value

        return call

    return wrap(fn) if fn is not None else wrap


def _record(call: dict) -> None:
    CALLS.append(call)
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(call) + "\n")
