"""The events package's queries: sequence allocation, the feed, subscriptions, deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Event, EventCounter, WebhookDelivery, WebhookSubscription


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def allocate(session: AsyncSession, partner_id: uuid.UUID, count: int) -> int:
    """Take ``count`` sequence numbers of the partner; returns the last one taken.

    ``UPDATE .. RETURNING`` on the partner's counter row (created on first use, race-free):
    the row stays locked until the transaction ends, so writers of one partner commit their
    events in sequence order (PostgreSQL); SQLite has one writer anyway.
    """
    table = EventCounter.__table__
    now = dt.datetime.now(dt.UTC)
    stmt = (
        update(table)
        .where(table.c.partner_id == partner_id)
        .values(last_sequence=table.c.last_sequence + count, updated_at=now)
        .returning(table.c.last_sequence)
    )
    last = (await session.execute(stmt)).scalar()
    if last is None:
        await session.execute(
            _insert(session, table)
            .values(
                id=uuid.uuid4(),
                partner_id=partner_id,
                last_sequence=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["partner_id"])
        )
        last = (await session.execute(stmt)).scalar()
    assert last is not None
    return int(last)


async def last_sequence(session: AsyncSession, partner_id: uuid.UUID) -> int:
    """The partner's last allocated sequence number (0 before its first event)."""
    value = await session.scalar(
        select(EventCounter.last_sequence).where(EventCounter.partner_id == partner_id)
    )
    return int(value or 0)


def events_stmt(
    partner_id: uuid.UUID, entity_id: uuid.UUID | None, query: dict[str, Any]
) -> Select[Any]:
    """The feed: a partner's events (of one entity when given), filtered by ``object_type``,
    ``after`` (sequence) and the ``created_at__*`` bounds (datetimes) of ``query``."""
    stmt = select(Event).where(Event.partner_id == partner_id)
    if entity_id is not None:
        stmt = stmt.where(Event.entity_id == entity_id)
    if query.get("object_type"):
        stmt = stmt.where(Event.object_type == query["object_type"])
    if query.get("after") is not None:
        stmt = stmt.where(Event.sequence > int(query["after"]))
    return _created_bounds(stmt, Event, query)


def _created_bounds(stmt: Select[Any], model: Any, query: dict[str, Any]) -> Select[Any]:
    for key, op in (("gt", "__gt__"), ("lt", "__lt__"), ("gte", "__ge__"), ("lte", "__le__")):
        value = query.get(f"created_at__{key}")
        if value is not None:
            bound = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
            stmt = stmt.where(getattr(model.created_at, op)(bound))
    return stmt


async def events_after(
    session: AsyncSession,
    partner_id: uuid.UUID,
    after: int,
    limit: int,
    entity_id: uuid.UUID | None = None,
) -> Sequence[Event]:
    """Up to ``limit`` events of the partner with a sequence above ``after``, in order."""
    stmt = events_stmt(partner_id, entity_id, {"after": after})
    return (await session.scalars(stmt.order_by(Event.sequence).limit(limit))).all()


async def event(session: AsyncSession, partner_id: uuid.UUID, event_id: uuid.UUID) -> Event | None:
    return await session.scalar(
        select(Event).where(Event.id == event_id, Event.partner_id == partner_id)
    )


async def pending_for(
    session: AsyncSession, sub: WebhookSubscription, limit: int
) -> Sequence[Event]:
    """The next events a subscription is due to get (after its cursor), in sequence order."""
    stmt = select(Event).where(
        Event.partner_id == sub.partner_id,
        Event.sequence > sub.cursor,
        Event.object_type == sub.object_type,
    )
    if sub.event_types:
        names = set(sub.event_types) | {f"{sub.object_type}.{t}" for t in sub.event_types}
        stmt = stmt.where(Event.action.in_(sorted(names)))
    return (await session.scalars(stmt.order_by(Event.sequence).limit(limit))).all()


async def subscription(
    session: AsyncSession, subscription_id: uuid.UUID, partner_id: uuid.UUID | None = None
) -> WebhookSubscription | None:
    stmt = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if partner_id is not None:
        stmt = stmt.where(WebhookSubscription.partner_id == partner_id)
    return await session.scalar(stmt)


def subscriptions_stmt(partner_id: uuid.UUID, query: dict[str, Any]) -> Select[Any]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.partner_id == partner_id)
    if query.get("object_type"):
        stmt = stmt.where(WebhookSubscription.object_type == query["object_type"])
    return _created_bounds(stmt, WebhookSubscription, query)


async def due_subscriptions(
    session: AsyncSession, at: dt.datetime, partner_ids: Sequence[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """Enabled subscriptions (of ``partner_ids``, or all) not waiting for a retry after ``at``
    and behind their partner's last event."""
    stmt = (
        select(WebhookSubscription.id)
        .join(EventCounter, EventCounter.partner_id == WebhookSubscription.partner_id)
        .where(
            WebhookSubscription.status == "enabled",
            WebhookSubscription.cursor < EventCounter.last_sequence,
            or_(
                WebhookSubscription.next_attempt_at.is_(None),
                WebhookSubscription.next_attempt_at <= at,
            ),
        )
    )
    if partner_ids is not None:
        stmt = stmt.where(WebhookSubscription.partner_id.in_(list(partner_ids)))
    return list((await session.scalars(stmt)).all())


async def delivery_of(
    session: AsyncSession, subscription_id: uuid.UUID, event_id: uuid.UUID
) -> WebhookDelivery | None:
    return await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.event_id == event_id,
        )
    )


async def delivery(
    session: AsyncSession, partner_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    return await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.partner_id == partner_id
        )
    )


def deliveries_stmt(
    partner_id: uuid.UUID, entity_id: uuid.UUID | None, query: dict[str, Any]
) -> Select[Any]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.partner_id == partner_id)
    if entity_id is not None:
        stmt = stmt.where(WebhookDelivery.entity_id == entity_id)
    conditions = []
    if query.get("event_id"):
        conditions.append(WebhookDelivery.event_id == uuid.UUID(query["event_id"]))
    if query.get("object_type"):
        conditions.append(WebhookDelivery.object_type == query["object_type"])
    if query.get("event_action"):
        action = query["event_action"]
        conditions.append(
            or_(WebhookDelivery.action == action, WebhookDelivery.action.like(f"%.{action}"))
        )
    if query.get("subscription_id"):
        conditions.append(WebhookDelivery.subscription_id == uuid.UUID(query["subscription_id"]))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return _created_bounds(stmt, WebhookDelivery, query)
