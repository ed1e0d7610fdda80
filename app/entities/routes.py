"""``/v1/entities``: the partner's entities and their accounting settings."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.db.models import Entity
from app.entities import queries, service
from app.entities.schemas import (
    EntityCreate,
    EntityOut,
    EntitySettings,
    EntitySettingsOut,
    EntityUpdate,
)
from app.errors import NotFound
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate


class EntityController(Controller):
    path = "/v1/entities"
    tags = ["entities"]

    @post("/", operation_id="post_entities")
    async def create(
        self, data: EntityCreate, db_session: AsyncSession, principal: Principal
    ) -> EntityOut:
        """Create an entity."""
        return service.to_out(await service.create(db_session, principal.partner_id, data))

    @get("/", operation_id="get_entities")
    async def list_entities(
        self,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
    ) -> Page[EntityOut]:
        """The partner's entities, oldest first by default."""
        return await paginate(
            db_session,
            state.paginator,
            queries.list_for_partner(principal.partner_id),
            list_name="entities",
            scope=principal.partner_id,
            model=Entity,
            query={"order": order},
            limit=limit,
            token=pagination_token,
            out=service.to_out,
        )

    @get("/{entity_id:uuid}", operation_id="get_entities_id")
    async def get_entity(
        self, entity_id: uuid.UUID, state: State, principal: Principal
    ) -> EntityOut:
        """One entity."""
        row = await queries.read_for_partner(state.engine, principal.partner_id, entity_id)
        if row is None:
            raise NotFound(f"Entity {entity_id} was not found")
        return service.to_out(row)

    @patch("/{entity_id:uuid}", operation_id="patch_entities_id")
    async def update(
        self,
        entity_id: uuid.UUID,
        data: EntityUpdate,
        db_session: AsyncSession,
        principal: Principal,
    ) -> EntityOut:
        """Change an entity's email, address, details or currency."""
        entity = await service.update(db_session, principal.partner_id, entity_id, data)
        return service.to_out(entity)

    @get("/{entity_id:uuid}/settings", operation_id="get_entities_id_settings")
    async def get_settings(
        self, entity_id: uuid.UUID, db_session: AsyncSession, principal: Principal
    ) -> EntitySettingsOut:
        """The entity's accounting defaults."""
        return service.settings_out(await service.get(db_session, principal.partner_id, entity_id))

    @patch("/{entity_id:uuid}/settings", operation_id="patch_entities_id_settings")
    async def update_settings(
        self,
        entity_id: uuid.UUID,
        data: EntitySettings,
        db_session: AsyncSession,
        principal: Principal,
    ) -> EntitySettingsOut:
        """Set the default ledger account for products and the default tax rate."""
        entity = await service.update_settings(db_session, principal.partner_id, entity_id, data)
        return service.settings_out(entity)
