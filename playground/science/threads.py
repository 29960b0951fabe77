"""How many CPU threads torch uses for a lab's small training loops.

Why: on a small shared CPU, torch's extra threads spin-wait between the tiny matrix
operations of a projection head and make training many times slower (measured here:
100 steps took 19.75 s on 2 threads and 0.86 s on 1). The setting is process-wide,
so overlapping runs share one count: the first run in saves the old value and the
last run out restores it.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_users = 0
_before = 0


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch threads (default 1), restoring the old count after."""
    import torch

    global _users, _before
    with _lock:
        if _users == 0:
            _before = torch.get_num_threads()
        _users += 1
        torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                torch.set_num_threads(_before)
