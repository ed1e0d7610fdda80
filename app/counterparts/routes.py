"""``/v1/counterparts``."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.counterparts import addresses, queries, service
from app.counterparts.schemas import (
    CounterpartAddressCreate,
    CounterpartAddressList,
    CounterpartAddressOut,
    CounterpartAddressUpdate,
    CounterpartCreate,
    CounterpartOut,
    CounterpartUpdate,
)
from app.db.models import Counterpart, Entity
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate

ADDRESSES = "/{counterpart_id:uuid}/addresses"
ADDRESS = ADDRESSES + "/{address_id:uuid}"


class CounterpartController(Controller):
    path = "/v1/counterparts"
    tags = ["counterparts"]

    @post("/", operation_id="post_counterparts")
    async def create(
        self, data: CounterpartCreate, db_session: AsyncSession, entity: Entity
    ) -> CounterpartOut:
        """Create a counterpart (organization or individual)."""
        return service.to_out(await service.create(db_session, entity.id, data))

    @get("/", operation_id="get_counterparts")
    async def list_counterparts(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
        is_customer: bool | None = None,
        is_vendor: bool | None = None,
        name__icontains: str | None = None,
    ) -> Page[CounterpartOut]:
        """The entity's counterparts, filtered by role or name."""
        query = {
            "order": order,
            "is_customer": is_customer,
            "is_vendor": is_vendor,
            "name": name__icontains,
        }
        return await paginate(
            db_session,
            state.paginator,
            lambda q, _: queries.list_stmt(
                entity.id, is_customer=q["is_customer"], is_vendor=q["is_vendor"], name=q["name"]
            ),
            list_name="counterparts",
            scope=entity.id,
            model=Counterpart,
            query=query,
            limit=limit,
            token=pagination_token,
            out=service.to_out,
        )

    @get("/{counterpart_id:uuid}", operation_id="get_counterparts_id")
    async def get_one(
        self, counterpart_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> CounterpartOut:
        """One counterpart."""
        return service.to_out(await service.get(db_session, entity.id, counterpart_id))

    @patch("/{counterpart_id:uuid}", operation_id="patch_counterparts_id")
    async def update(
        self,
        counterpart_id: uuid.UUID,
        data: CounterpartUpdate,
        db_session: AsyncSession,
        entity: Entity,
    ) -> CounterpartOut:
        """Change a counterpart."""
        return service.to_out(await service.update(db_session, entity.id, counterpart_id, data))

    @delete("/{counterpart_id:uuid}", operation_id="delete_counterparts_id")
    async def remove(
        self, counterpart_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> None:
        """Delete a counterpart that no document uses."""
        await service.delete(db_session, entity.id, counterpart_id)

    @get(ADDRESSES, operation_id="get_counterparts_id_addresses")
    async def list_addresses(
        self, counterpart_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> CounterpartAddressList:
        """The counterpart's addresses, its default address first."""
        c = await service.get(db_session, entity.id, counterpart_id)
        return CounterpartAddressList(data=await addresses.list_all(db_session, c))

    @post(ADDRESSES, operation_id="post_counterparts_id_addresses")
    async def create_address(
        self,
        counterpart_id: uuid.UUID,
        data: CounterpartAddressCreate,
        db_session: AsyncSession,
        entity: Entity,
    ) -> CounterpartAddressOut:
        """Add an address (the default address if the counterpart had none)."""
        c = await service.get(db_session, entity.id, counterpart_id)
        return await addresses.create(db_session, c, data)

    @get(ADDRESS, operation_id="get_counterparts_id_addresses_id")
    async def get_address(
        self,
        counterpart_id: uuid.UUID,
        address_id: uuid.UUID,
        db_session: AsyncSession,
        entity: Entity,
    ) -> CounterpartAddressOut:
        """One address of the counterpart."""
        c = await service.get(db_session, entity.id, counterpart_id)
        return addresses.to_out(c, await addresses.find(db_session, c, address_id))

    @patch(ADDRESS, operation_id="patch_counterparts_id_addresses_id")
    async def update_address(
        self,
        counterpart_id: uuid.UUID,
        address_id: uuid.UUID,
        data: CounterpartAddressUpdate,
        db_session: AsyncSession,
        entity: Entity,
    ) -> CounterpartAddressOut:
        """Change an address (the default one is the counterpart's own address)."""
        c = await service.get(db_session, entity.id, counterpart_id)
        return await addresses.update(db_session, c, address_id, data)

    @delete(ADDRESS, operation_id="delete_counterparts_id_addresses_id")
    async def delete_address(
        self,
        counterpart_id: uuid.UUID,
        address_id: uuid.UUID,
        db_session: AsyncSession,
        entity: Entity,
    ) -> None:
        """Delete an address; 409 for the default address or one a receivable bills to."""
        c = await service.get(db_session, entity.id, counterpart_id)
        await addresses.delete(db_session, c, address_id)
