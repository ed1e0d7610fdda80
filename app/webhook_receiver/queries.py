"""Queries of the webhook receiver: the ``webhook_events`` table."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.models import WebhookEvent

_TABLE = WebhookEvent.__table__


async def insert_once(
    conn: AsyncConnection,
    *,
    message_id: str,
    partner_id: uuid.UUID | None,
    event_type: str,
    company_id: str | None,
    body: bytes,
    now: dt.datetime,
) -> bool:
    """Insert the event unless its message id is stored already; True when it was new."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(_TABLE)
        .values(
            id=uuid.uuid4(),
            message_id=message_id,
            partner_id=partner_id,
            event_type=event_type,
            company_id=company_id,
            body=body,
            received_at=now,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(_TABLE.c.id)
    )
    result = await conn.execute(stmt)
    return result.scalar() is not None


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
