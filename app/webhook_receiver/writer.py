"""Group commit of received webhooks: one transaction for the events that arrive together.

Each request hands its row to the :class:`EventWriter` of its engine and waits for the
transaction that stores it to commit, so a 2xx still means "stored durably". While one batch
is being written, the rows of the requests that arrive meanwhile queue up and go in the next
batch: one ``INSERT ... ON CONFLICT (message_id) DO NOTHING RETURNING message_id`` (multi-row)
and one commit for all of them, instead of one transaction (and, on PostgreSQL, one WAL flush)
per request. An idle receiver writes a batch of one at once: nothing waits for a batch to fill.

It also means a process has one webhook writer at a time, so on SQLite the receiver's own
requests never contend for the write lock (busy-wait sleeps were its p99 before).

If a batch fails, each of its rows is retried in a transaction of its own, so one bad row
fails only its own request.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.webhook_receiver import queries

#: Most rows in one INSERT (10 columns each: well under SQLite's 32766 bound parameters).
MAX_BATCH = 500

_writers: weakref.WeakKeyDictionary[AsyncEngine, EventWriter] = weakref.WeakKeyDictionary()


class EventWriter:
    """Batches ``webhook_events`` inserts of one engine within one event loop."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.loop = asyncio.get_running_loop()
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None

    async def insert(self, row: dict[str, Any]) -> bool:
        """Store ``row`` (the columns of ``webhook_events``) unless its ``message_id`` is
        stored already; True when it was new. Returns after the commit.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the row could not be stored.
        """
        future: asyncio.Future[bool] = self.loop.create_future()
        self._pending.append((row, future))
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._pending:
            batch = self._pending[:MAX_BATCH]
            del self._pending[:MAX_BATCH]
            try:
                await self._write(batch)
            except Exception:
                for item in batch:  # one bad row must not fail the others
                    try:
                        await self._write([item])
                    except Exception as exc:
                        _settle(item[1], exc)
            except BaseException as exc:  # cancelled: fail the waiting requests, then stop
                for _, future in [*batch, *self._pending]:
                    _settle(future, exc)
                self._pending.clear()
                raise

    async def _write(self, batch: Sequence[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        first: dict[str, dict[str, Any]] = {}
        for row, _ in batch:
            first.setdefault(row["message_id"], row)
        async with self.engine.begin() as conn:
            stored = await queries.insert_many(conn, list(first.values()))
        for row, future in batch:
            # A repeat of a message id within the batch is a duplicate of its first copy.
            _settle(future, row["message_id"] in stored and first[row["message_id"]] is row)


def _settle(future: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if future.done():  # the request was cancelled (client went away)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def writer_for(engine: AsyncEngine) -> EventWriter:
    """The writer of ``engine`` in the running event loop (created on first use)."""
    writer = _writers.get(engine)
    if writer is None or writer.loop is not asyncio.get_running_loop():
        writer = _writers[engine] = EventWriter(engine)
    return writer
