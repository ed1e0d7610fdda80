"""One thread hop per statement on SQLite (aiosqlite).

aiosqlite runs every call on the connection's own thread; SQLAlchemy's adapter makes four
such calls for each statement (``cursor()``, ``execute``, ``fetchall``, ``close``), each a
queue put, a thread wake-up and a wake-up of the event loop: on a 2-core machine those hops,
not SQLite, were most of a read's cost (issue 17). :func:`install` replaces the adapter's
cursor with one that runs the same four ``sqlite3`` calls in a single hop, with the same
results, errors (translated by the adapter as before) and transaction behaviour (the same
``sqlite3`` connection and its implicit ``BEGIN`` before DML). Server-side cursors are
unchanged. ``commit`` and ``rollback`` make no hop when no transaction is open (``sqlite3``
would do nothing), as after a read.

It relies on the same aiosqlite internals that SQLAlchemy's adapter itself uses
(``Connection._execute`` queues a call on the connection's thread; ``Connection._conn`` is
the ``sqlite3`` connection), checked when installed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import weakref
from collections import deque
from typing import Any

from sqlalchemy.dialects.sqlite import aiosqlite as sa_aiosqlite

_installed = False

#: Autocommit reads (a statement outside any transaction) running at once per event loop.
#: Each pooled connection has a thread of its own; with more threads reading than cores,
#: they and the event loop's thread queue for the GIL on every row and wake-up: 16
#: concurrent 100-row reads cost 4.0 ms of CPU each with every connection reading, 2.6 ms
#: with two at a time (``bench.api``, issue 17). Writes and reads inside a transaction are
#: not held back (a writer waiting on SQLite's lock must never wait on a reader's slot).
#: A read in WAL mode never waits on a lock, so a slot is always given back.
CONCURRENT_READS = max(1, os.cpu_count() or 1)
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _read_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(CONCURRENT_READS)
    return slots


def _execute(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any] | None, int | None, int]:
    """On the connection's thread: run, fetch everything, close. ``(description, rows,
    lastrowid, rowcount)``."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), None, -1
        return None, None, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(sa_aiosqlite.AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, each ``execute``/``executemany`` in one thread hop."""

    __slots__ = ()

    def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        conn = self._connection._conn  # type: ignore[attr-defined]
        hop = self._connection._execute(  # type: ignore[attr-defined]
            _execute, conn, operation, parameters, many
        )
        try:
            if not many and not conn.in_transaction and _is_read(operation):
                description, rows, lastrowid, rowcount = self.await_(_as_read(hop))
            else:
                description, rows, lastrowid, rowcount = self.await_(hop)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows or ())
        else:
            self.lastrowid = lastrowid
            self.rowcount = rowcount

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._run(operation, seq_of_parameters, many=True)


def _is_read(operation: Any) -> bool:
    return isinstance(operation, str) and operation.lstrip()[:6].upper() == "SELECT"


async def _as_read(hop: Any) -> Any:
    async with _read_slots():
        return await hop


def install() -> None:
    """Make SQLAlchemy's aiosqlite connections hand out :class:`OneHopCursor` (idempotent;
    a no-op when aiosqlite lacks the internals it needs)."""
    global _installed
    if _installed:
        return
    import aiosqlite

    if not hasattr(aiosqlite.Connection, "_execute"):
        return
    connection_cls = sa_aiosqlite.AsyncAdapt_aiosqlite_connection
    original = connection_cls.cursor

    def cursor(self: Any, server_side: bool = False) -> Any:
        if server_side:
            return original(self, server_side)
        return OneHopCursor(self)

    connection_cls.cursor = cursor  # type: ignore[method-assign]
    connection_cls.commit = _skip_outside_transaction(connection_cls.commit)  # type: ignore[method-assign]
    connection_cls.rollback = _skip_outside_transaction(connection_cls.rollback)  # type: ignore[method-assign]
    _installed = True


def _skip_outside_transaction(method: Any) -> Any:
    """``commit``/``rollback`` without the thread hop when the ``sqlite3`` connection has no
    open transaction: ``sqlite3`` itself does nothing then. A read's connection returned to
    the pool (which rolls back) or a read-only request's commit cost a hop each."""

    def wrapper(self: Any) -> None:
        try:
            idle = not self._connection._conn.in_transaction
        except Exception:  # closed or not connected: let the adapter raise as before
            idle = False
        if not idle:
            method(self)

    return wrapper
