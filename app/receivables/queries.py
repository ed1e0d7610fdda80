"""Queries of the receivables domain."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Receivable


async def get(
    session: AsyncSession, entity_id: uuid.UUID, receivable_id: uuid.UUID
) -> Receivable | None:
    """The receivable with its line items (loaded eagerly), if it belongs to the entity."""
    return await session.scalar(
        select(Receivable).where(Receivable.id == receivable_id, Receivable.entity_id == entity_id)
    )


def list_stmt(
    entity_id: uuid.UUID,
    *,
    statuses: list[str] | None = None,
    counterpart_id: uuid.UUID | None = None,
) -> Select[tuple[Receivable]]:
    """The entity's receivables, optionally only those in ``statuses`` or of a counterpart."""
    stmt = select(Receivable).where(Receivable.entity_id == entity_id)
    if statuses is not None:
        stmt = stmt.where(Receivable.status.in_(statuses))
    if counterpart_id is not None:
        stmt = stmt.where(Receivable.counterpart_id == counterpart_id)
    return stmt


async def past_due(
    session: AsyncSession, today: dt.date, statuses: Sequence[str], limit: int
) -> Sequence[Receivable]:
    """Up to ``limit`` receivables in ``statuses`` whose ``due_date`` is before ``today``,
    oldest due first (every entity's)."""
    return (
        await session.scalars(
            select(Receivable)
            .where(
                Receivable.status.in_(statuses),
                Receivable.due_date.is_not(None),
                Receivable.due_date < today,
            )
            .order_by(Receivable.due_date, Receivable.id)
            .limit(limit)
        )
    ).all()
