"""Request dependencies shared by the domains: the caller's partner and entity."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request
from litestar.params import HeaderParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import logs
from app.auth.service import Principal
from app.db.models import Entity
from app.errors import NotFound, Unprocessable

ENTITY_HEADER = "x-monite-entity-id"


def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    """The authenticated caller (JWTAuth has already checked the token)."""
    logs.bind(partner_id=request.user.partner_id)
    return request.user


async def provide_entity(
    db_session: AsyncSession,
    principal: Principal,
    entity_header: Annotated[str | None, HeaderParameter(name=ENTITY_HEADER)] = None,
) -> Entity:
    """The entity named by ``x-monite-entity-id``, if it belongs to the caller's partner.

    Raises:
        Unprocessable: the header is missing or not a UUID.
        NotFound: no such entity for this partner (another partner's entity looks the same).
    """
    if not entity_header:
        raise Unprocessable.field(["header", ENTITY_HEADER], "field required", "missing")
    try:
        entity_id = uuid.UUID(entity_header)
    except ValueError:
        raise Unprocessable.field(["header", ENTITY_HEADER], "must be a UUID") from None
    entity = await db_session.scalar(
        select(Entity).where(Entity.id == entity_id, Entity.partner_id == principal.partner_id)
    )
    if entity is None:
        raise NotFound(f"Entity {entity_id} was not found")
    logs.bind(entity_id=entity.id)
    return entity
