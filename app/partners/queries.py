"""Queries of the partners domain."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import PartnerSettings


async def settings_of(session: AsyncSession, partner_id: uuid.UUID) -> PartnerSettings | None:
    return await session.scalar(
        select(PartnerSettings).where(PartnerSettings.partner_id == partner_id)
    )


async def get_or_create_settings(session: AsyncSession, partner_id: uuid.UUID) -> PartnerSettings:
    row = await settings_of(session, partner_id)
    if row is None:
        row = PartnerSettings(partner_id=partner_id, provider="codat")
        session.add(row)
        await session.flush()
    return row
