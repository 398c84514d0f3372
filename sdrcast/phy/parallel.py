"""One pool of worker threads for the numba kernels that release the GIL (LDPC, BCH,
demapping, tone reservation): ``parallel_map(fn, items, workers)`` instead of a pool made per
call, and ``submit(fn, ...)`` for a pipeline stage that runs ahead. A task that itself calls
``parallel_map`` runs its items in its own thread (no nested waiting on a busy pool)."""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_busy = threading.local()


def _shared() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(2, os.cpu_count() or 2), thread_name_prefix="kernel-pool")
        return _pool


def _inside(fn: Callable) -> Callable:
    def run(*args):
        _busy.busy = True
        try:
            return fn(*args)
        finally:
            _busy.busy = False
    return run


def submit(fn: Callable, *args) -> Future:
    """Run ``fn(*args)`` on the shared pool (a pipeline stage running ahead); its own
    ``parallel_map`` calls run in its thread."""
    return _shared().submit(_inside(fn), *args)


def parallel_map(fn: Callable, items: Iterable, workers: int = 2) -> list:
    """``[fn(x) for x in items]``, on the shared pool when ``workers`` > 1."""
    items = list(items)
    if workers <= 1 or len(items) <= 1 or getattr(_busy, "busy", False):
        return [fn(x) for x in items]
    return list(_shared().map(_inside(fn), items))
