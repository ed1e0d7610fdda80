"""Queries of the measure units domain."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import MeasureUnit, Product


async def get(
    session: AsyncSession, entity_id: uuid.UUID, unit_id: uuid.UUID
) -> MeasureUnit | None:
    return await session.scalar(
        select(MeasureUnit).where(MeasureUnit.id == unit_id, MeasureUnit.entity_id == entity_id)
    )


async def get_many(
    session: AsyncSession, entity_id: uuid.UUID, unit_ids: list[uuid.UUID]
) -> dict[uuid.UUID, MeasureUnit]:
    """The entity's units among ``unit_ids``, by id (one query)."""
    if not unit_ids:
        return {}
    rows = await session.scalars(
        select(MeasureUnit).where(MeasureUnit.entity_id == entity_id, MeasureUnit.id.in_(unit_ids))
    )
    return {u.id: u for u in rows}


async def all_of_entity(session: AsyncSession, entity_id: uuid.UUID) -> list[MeasureUnit]:
    """The entity's units, oldest first (Monite's list is one unpaged ``data`` array)."""
    rows = await session.scalars(
        select(MeasureUnit)
        .where(MeasureUnit.entity_id == entity_id)
        .order_by(MeasureUnit.created_at, MeasureUnit.id)
    )
    return list(rows)


async def pulled_stub(session: AsyncSession, entity_id: uuid.UUID) -> MeasureUnit | None:
    """The stub unit an earlier pull created for the entity, if it still exists."""
    return await session.scalar(
        select(MeasureUnit)
        .where(MeasureUnit.entity_id == entity_id, MeasureUnit.origin == "pull")
        .order_by(MeasureUnit.created_at, MeasureUnit.id)
        .limit(1)
    )


async def products_using(session: AsyncSession, unit_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Product).where(Product.measure_unit_id == unit_id)
        )
        or 0
    )
