"""Queries of the entities domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity


async def get_for_partner(
    session: AsyncSession, partner_id: uuid.UUID, entity_id: uuid.UUID
) -> Entity | None:
    return await session.scalar(
        select(Entity).where(Entity.id == entity_id, Entity.partner_id == partner_id)
    )


def list_for_partner(partner_id: uuid.UUID) -> Select[tuple[Entity]]:
    return select(Entity).where(Entity.partner_id == partner_id)
