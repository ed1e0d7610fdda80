"""Queries of the webhook receiver: the ``webhook_events`` table."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.models import WebhookEvent

_TABLE = WebhookEvent.__table__


def _insert_unless_stored() -> Any:
    """``INSERT ... ON CONFLICT (message_id) DO NOTHING RETURNING message_id`` (same text on
    SQLite >= 3.35 and PostgreSQL).

    Built on the core ``insert`` rather than the dialects' ``insert().on_conflict_do_nothing``
    because SQLAlchemy 2.0 never caches the compiled form of those (``inherit_cache = False``):
    every batch would be compiled again (~0.2 ms, a tenth of a webhook's CPU in the bench).
    The clause goes where the dialects put theirs (``_post_values_clause``, part of the core
    insert's cache key); ``tests/api/test_webhook_receiver.py`` covers duplicates on both
    databases.
    """
    stmt = insert(_TABLE).returning(_TABLE.c.message_id)
    stmt._post_values_clause = text("ON CONFLICT (message_id) DO NOTHING")
    return stmt


_INSERT_UNLESS_STORED = _insert_unless_stored()


async def insert_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the events whose message id is not stored yet, in one statement; returns the
    message ids inserted. ``rows`` hold every column but ``id`` (added here) and must have
    distinct ``message_id`` values."""
    if not rows:
        return set()
    result = await conn.execute(
        _INSERT_UNLESS_STORED, [{"id": uuid.uuid4(), **row} for row in rows]
    )
    return set(result.scalars())


async def due_events(session: AsyncSession, now: dt.datetime, limit: int) -> Sequence[WebhookEvent]:
    """Unprocessed events whose next attempt is due, oldest first."""
    stmt = (
        select(WebhookEvent)
        .where(
            WebhookEvent.processed_at.is_(None),
            or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now),
        )
        .order_by(WebhookEvent.received_at, WebhookEvent.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def reset_for_replay(
    session: AsyncSession, *, since: dt.datetime | None, message_id: str | None
) -> int:
    """Mark stored events unprocessed again; returns how many."""
    stmt = update(WebhookEvent).values(processed_at=None, next_attempt_at=None, outcome=None)
    if since is not None:
        stmt = stmt.where(WebhookEvent.received_at >= since)
    if message_id is not None:
        stmt = stmt.where(WebhookEvent.message_id == message_id)
    result = await session.execute(stmt)
    return result.rowcount or 0
