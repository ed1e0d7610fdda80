"""``/v1/measure_units`` (Monite's measure units, entity-scoped like products)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity
from app.measure_units import queries, service
from app.measure_units.schemas import UnitCreate, UnitList, UnitOut, UnitUpdate


class MeasureUnitController(Controller):
    path = "/v1/measure_units"
    tags = ["measure units"]

    @get("/", operation_id="get_measure_units")
    async def list_units(self, db_session: AsyncSession, entity: Entity) -> UnitList:
        """Every measure unit of the entity, oldest first, including the stub unit a pull
        creates for the products it makes from accounting items."""
        units = await queries.all_of_entity(db_session, entity.id)
        return UnitList(data=[service.to_out(u) for u in units])

    @post("/", operation_id="post_measure_units")
    async def create(self, data: UnitCreate, db_session: AsyncSession, entity: Entity) -> UnitOut:
        """Create a measure unit."""
        return service.to_out(await service.create(db_session, entity.id, data))

    @get("/{unit_id:uuid}", operation_id="get_measure_units_id")
    async def get_one(
        self, unit_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> UnitOut:
        """One measure unit."""
        return service.to_out(await service.get(db_session, entity.id, unit_id))

    @patch("/{unit_id:uuid}", operation_id="patch_measure_units_id")
    async def update(
        self, unit_id: uuid.UUID, data: UnitUpdate, db_session: AsyncSession, entity: Entity
    ) -> UnitOut:
        """Change a measure unit's name or description."""
        return service.to_out(await service.update(db_session, entity.id, unit_id, data))

    @delete("/{unit_id:uuid}", operation_id="delete_measure_units_id")
    async def remove(self, unit_id: uuid.UUID, db_session: AsyncSession, entity: Entity) -> None:
        """Delete a measure unit no product uses (409 while products refer to it)."""
        await service.delete(db_session, entity.id, unit_id)
