"""Queries of the entities domain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.models import Entity
from app.db.reads import first_row, read_columns


async def get_for_partner(
    session: AsyncSession, partner_id: uuid.UUID, entity_id: uuid.UUID
) -> Entity | None:
    return await session.scalar(
        select(Entity).where(Entity.id == entity_id, Entity.partner_id == partner_id)
    )


#: The columns ``service.to_out`` reads (UUIDs and timestamps through ``app.db.reads``).
OUT_COLUMNS = read_columns(
    Entity.__table__,
    (
        "id", "type", "status", "currency", "created_at", "updated_at", "email", "phone",
        "website", "tax_id", "address", "legal_name", "first_name", "last_name",
    ),
)  # fmt: skip


async def read_for_partner(
    engine: AsyncEngine, partner_id: uuid.UUID, entity_id: uuid.UUID
) -> Row[Any] | None:
    """The entity's :data:`OUT_COLUMNS` if it belongs to the partner (a Core read in one hop:
    no session, no ORM object; the read path of ``GET /v1/entities/{id}``)."""
    params = {"entity_id": entity_id, "partner_id": partner_id}
    return await first_row(engine, _READ_FOR_PARTNER, params)


#: Built once: constructing the statement cost more than running it.
_READ_FOR_PARTNER = select(*OUT_COLUMNS).where(
    Entity.id == bindparam("entity_id"), Entity.partner_id == bindparam("partner_id")
)


def list_for_partner(partner_id: uuid.UUID) -> Select[tuple[Entity]]:
    return select(Entity).where(Entity.partner_id == partner_id)
