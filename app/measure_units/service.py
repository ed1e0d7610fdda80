"""Measure unit use cases, and the stub unit a pull gives the products it creates.

Monite: "Monite generates some stub measure units when pulling data via Codat". Codat's
``Item`` carries no unit of measure (its schema has name, code, type, status and the bill /
invoice details only), so a pull that creates products from items creates one stub unit per
entity, ``unit`` (``origin = "pull"``), once, and links every product it creates to it. The
partner may rename it or move products to its own units; a later pull reuses the stub while it
exists and creates it again only if it was deleted.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import MeasureUnit
from app.errors import Conflict, NotFound, Unprocessable
from app.measure_units import queries
from app.measure_units.schemas import UnitCreate, UnitOut, UnitUpdate

#: The stub unit's name and description (see the module docstring).
STUB_NAME = "unit"
STUB_DESCRIPTION = (
    "Created by the accounting pull for the products it made from accounting items, which "
    "carry no unit of measure"
)


def to_out(u: MeasureUnit) -> UnitOut:
    """The API shape of a unit."""
    return UnitOut(
        id=u.id,
        name=u.name,
        created_at=u.created_at,
        updated_at=u.updated_at,
        description=u.description,
    )


async def create(session: AsyncSession, entity_id: uuid.UUID, data: UnitCreate) -> MeasureUnit:
    """Create a unit of the entity (names need not be unique, as in Monite)."""
    unit = MeasureUnit(
        entity_id=entity_id, name=data.name, description=data.description, origin="api"
    )
    session.add(unit)
    await session.flush()
    return unit


async def get(session: AsyncSession, entity_id: uuid.UUID, unit_id: uuid.UUID) -> MeasureUnit:
    """Raises NotFound unless the unit belongs to the entity."""
    unit = await queries.get(session, entity_id, unit_id)
    if unit is None:
        raise NotFound(f"Measure unit {unit_id} was not found")
    return unit


async def update(
    session: AsyncSession, entity_id: uuid.UUID, unit_id: uuid.UUID, data: UnitUpdate
) -> MeasureUnit:
    """Change the given fields. Raises NotFound."""
    unit = await get(session, entity_id, unit_id)
    if data.name is not None:
        unit.name = data.name
    if data.description is not None:
        unit.description = data.description
    await session.flush()
    return unit


async def delete(session: AsyncSession, entity_id: uuid.UUID, unit_id: uuid.UUID) -> None:
    """Delete a unit no product uses.

    Raises:
        NotFound: not a unit of the entity.
        Conflict: products still refer to it (move them to another unit first).
    """
    unit = await get(session, entity_id, unit_id)
    used = await queries.products_using(session, unit.id)
    if used:
        raise Conflict(f"Measure unit {unit_id} is used by {used} product(s) and cannot be deleted")
    await session.delete(unit)
    await session.flush()


async def check_usable(
    session: AsyncSession, entity_id: uuid.UUID, unit_id: uuid.UUID, loc: list[str | int]
) -> MeasureUnit:
    """The entity's unit ``unit_id``.

    Raises:
        Unprocessable: at ``loc``, when the entity has no such unit.
    """
    unit = await queries.get(session, entity_id, unit_id)
    if unit is None:
        raise Unprocessable.field(loc, f"measure unit {unit_id} does not exist for this entity")
    return unit


async def stub_unit(session: AsyncSession, entity_id: uuid.UUID, now: dt.datetime) -> uuid.UUID:
    """The id of the entity's pull stub unit, created (flushed in the caller's transaction)
    when there is none yet; see the module docstring."""
    unit = await queries.pulled_stub(session, entity_id)
    if unit is None:
        unit = MeasureUnit(
            entity_id=entity_id,
            name=STUB_NAME,
            description=STUB_DESCRIPTION,
            origin="pull",
            created_at=now,
            updated_at=now,
        )
        session.add(unit)
        await session.flush()
    return unit.id
