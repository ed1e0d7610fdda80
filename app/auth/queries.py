"""Queries of the auth domain (partners, their clients, revoked tokens)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Partner, PartnerClient, RevokedToken


async def client_by_client_id(session: AsyncSession, client_id: str) -> PartnerClient | None:
    return await session.scalar(select(PartnerClient).where(PartnerClient.client_id == client_id))


async def token_is_live(session: AsyncSession, partner_id: uuid.UUID, jti: str) -> bool:
    """One round trip per request: the partner exists and the token's ``jti`` is not revoked."""
    revoked = select(RevokedToken.id).where(RevokedToken.jti == jti).exists()
    found = await session.scalar(select(Partner.id).where(Partner.id == partner_id, ~revoked))
    return found is not None


async def is_revoked(session: AsyncSession, jti: str) -> bool:
    found = await session.scalar(select(RevokedToken.id).where(RevokedToken.jti == jti))
    return found is not None


async def add_revoked(session: AsyncSession, jti: str, expires_at: dt.datetime) -> None:
    if not await is_revoked(session, jti):
        session.add(RevokedToken(jti=jti, expires_at=expires_at))
    await session.execute(
        delete(RevokedToken).where(RevokedToken.expires_at < dt.datetime.now(dt.UTC))
    )


async def create_partner(
    session: AsyncSession, name: str, client_id: str, secret_hash: str
) -> Partner:
    partner = Partner(name=name)
    session.add(partner)
    await session.flush()
    session.add(PartnerClient(partner_id=partner.id, client_id=client_id, secret_hash=secret_hash))
    await session.flush()
    return partner
