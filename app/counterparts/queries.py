"""Queries of the counterparts domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Counterpart, Payable, Receivable


async def get(
    session: AsyncSession, entity_id: uuid.UUID, counterpart_id: uuid.UUID
) -> Counterpart | None:
    return await session.scalar(
        select(Counterpart).where(
            Counterpart.id == counterpart_id, Counterpart.entity_id == entity_id
        )
    )


def list_stmt(
    entity_id: uuid.UUID,
    *,
    is_customer: bool | None = None,
    is_vendor: bool | None = None,
    name: str | None = None,
) -> Select[tuple[Counterpart]]:
    stmt = select(Counterpart).where(Counterpart.entity_id == entity_id)
    if is_customer is not None:
        stmt = stmt.where(Counterpart.is_customer == is_customer)
    if is_vendor is not None:
        stmt = stmt.where(Counterpart.is_vendor == is_vendor)
    if name:
        stmt = stmt.where(func.lower(Counterpart.name).contains(name.lower()))
    return stmt


async def is_referenced(session: AsyncSession, counterpart_id: uuid.UUID) -> bool:
    payable = select(Payable.id).where(Payable.counterpart_id == counterpart_id).limit(1)
    receivable = select(Receivable.id).where(Receivable.counterpart_id == counterpart_id).limit(1)
    found = await session.scalar(
        select(func.count()).where(or_(payable.exists(), receivable.exists()))
    )
    return bool(found)


async def for_matching(
    session: AsyncSession, entity_id: uuid.UUID, *, customers: bool
) -> list[Counterpart]:
    """Counterparts an incoming customer (``customers=True``) or supplier may match."""
    flag = Counterpart.is_customer if customers else Counterpart.is_vendor
    return list(
        (
            await session.scalars(
                select(Counterpart).where(Counterpart.entity_id == entity_id, flag)
            )
        ).all()
    )
