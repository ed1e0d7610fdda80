"""Garbage collection and memory around the pull's page batches (issue 17).

A pull allocates hundreds of thousands of short-lived containers per page (decoded records,
row dicts, bind parameters), almost all freed by reference counting. CPython still counts
them towards its cyclic collector's first-generation threshold (700 by default) and ran a
collection every few hundred allocations, each older-generation pass scanning every live
object of the process: about 30 % of a large pull's wall time. :func:`pull_gc` raises the
first-generation threshold and freezes the objects alive when the first pull starts (the
application's modules, caches, mappers: they are not scanned again), and restores both when
the last concurrent pull ends. Cyclic garbage is still collected, in larger, rarer batches,
and in one full collection after each stored page (:func:`page_done`): an HTTP response is a
reference cycle in httpx (``Response.stream`` refers back to the response), so each page's
body (5-7 MB for 5,000 records) is freed only by the cyclic collector; with the raised
threshold the bodies of a whole data type waited for a rare full collection (70 MB of them
at the end of a 160,000-record pull, issue 17). The collection scans only the objects created
since the freeze: about 10 ms per page, 0.3 s of a 10 s pull of 160,000 records.

After a large pull :func:`release_memory` collects and asks glibc's allocator to hand freed
heap pages back to the system (``malloc_trim``), so the process does not keep the pull's
peak for ever. Both are process-wide and safe to call from the event loop.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("acctsync.pull")

#: First-generation threshold while a pull runs (CPython's default is 700).
PULL_GEN0_THRESHOLD = 50_000
#: A pull storing at least this many records hands memory back when it ends.
RELEASE_AFTER_RECORDS = 20_000

_active = 0
_saved: tuple[int, int, int] | None = None
_libc: Any = None
_libc_checked = False
_long_lived_frozen = False


def freeze_long_lived() -> None:
    """Collect, then move every object alive now (the service's modules, app, mappers, caches
    after start-up) out of the cyclic collector's reach for good (``gc.freeze``), so that a
    full collection scans only what requests create. A full collection of the started
    service's heap held requests for tens of milliseconds: p99 of ``GET /v1/entities/{id}``
    under 16 concurrent clients 80 ms -> 15 ms on PostgreSQL (``bench.api``, issue 17).
    Frozen objects are still freed by reference counting; :func:`pull_gc` re-freezes after
    its own freeze is lifted (unfreezing, collecting what died since, freezing again).
    Process-wide; only the first call acts (a test process starts many apps)."""
    global _long_lived_frozen
    if _long_lived_frozen:
        return
    _long_lived_frozen = True
    if _active == 0:  # else the pull's end freezes
        _freeze_alive()


def _freeze_alive() -> None:
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def pull_gc() -> Iterator[None]:
    """Raise the collector's first-generation threshold and freeze the objects alive now, for
    as long as any pull is inside this block (nested and concurrent uses share one setting)."""
    global _active, _saved
    if _active == 0:
        _saved = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(PULL_GEN0_THRESHOLD, _saved[0]), _saved[1], _saved[2])
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if _active == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            gc.unfreeze()
            _saved = None
            if _long_lived_frozen:
                _freeze_alive()


def page_done() -> None:
    """After a page is stored (its records no longer referenced), while any pull runs: a full
    collection, so that the page's HTTP response and body, cyclic garbage, go now rather than
    at the next full collection, which the raised threshold makes rare. Nothing outside a
    pull."""
    if _active:
        gc.collect()


def _malloc_trim() -> Any:
    global _libc, _libc_checked
    if not _libc_checked:
        _libc_checked = True
        name = ctypes.util.find_library("c")
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(name) if name else None
            if libc is not None and hasattr(libc, "malloc_trim"):
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
                libc.malloc_trim.restype = ctypes.c_int
                _libc = libc
    return _libc


def release_memory(records: int) -> bool:
    """After a pull that stored ``records`` records: when that is at least
    :data:`RELEASE_AFTER_RECORDS` and no other pull is running, run a full collection and
    return freed heap to the system (glibc ``malloc_trim(0)``; elsewhere the collection
    only). Returns whether memory was trimmed."""
    if records < RELEASE_AFTER_RECORDS or _active:
        return False
    gc.collect()
    libc = _malloc_trim()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
