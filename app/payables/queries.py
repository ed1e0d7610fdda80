"""Queries of the payables domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Payable


async def get(session: AsyncSession, entity_id: uuid.UUID, payable_id: uuid.UUID) -> Payable | None:
    """The payable with its line items (loaded eagerly), if it belongs to the entity."""
    return await session.scalar(
        select(Payable).where(Payable.id == payable_id, Payable.entity_id == entity_id)
    )


def list_stmt(
    entity_id: uuid.UUID,
    *,
    statuses: list[str] | None = None,
    counterpart_id: uuid.UUID | None = None,
) -> Select[tuple[Payable]]:
    """The entity's payables, optionally only those in ``statuses`` or of a counterpart."""
    stmt = select(Payable).where(Payable.entity_id == entity_id)
    if statuses is not None:
        stmt = stmt.where(Payable.status.in_(statuses))
    if counterpart_id is not None:
        stmt = stmt.where(Payable.counterpart_id == counterpart_id)
    return stmt
