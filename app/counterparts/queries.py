"""Queries of the counterparts domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Counterpart, CounterpartAddress, Payable, Receivable


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


async def extra_addresses(
    session: AsyncSession, counterpart_id: uuid.UUID
) -> list[CounterpartAddress]:
    """The counterpart's addresses besides its default one, oldest first."""
    stmt = (
        select(CounterpartAddress)
        .where(CounterpartAddress.counterpart_id == counterpart_id)
        .order_by(CounterpartAddress.created_at, CounterpartAddress.id)
    )
    return list((await session.scalars(stmt)).all())


async def extra_address(
    session: AsyncSession, counterpart_id: uuid.UUID, address_id: uuid.UUID
) -> CounterpartAddress | None:
    return await session.scalar(
        select(CounterpartAddress).where(
            CounterpartAddress.id == address_id,
            CounterpartAddress.counterpart_id == counterpart_id,
        )
    )


async def address_is_billed(session: AsyncSession, address_id: uuid.UUID) -> bool:
    """Whether a receivable names the address as its billing address."""
    stmt = select(Receivable.id).where(Receivable.counterpart_billing_address_id == address_id)
    return (await session.scalar(stmt.limit(1))) is not None


async def get_many(
    session: AsyncSession, entity_id: uuid.UUID, counterpart_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Counterpart]:
    if not counterpart_ids:
        return {}
    rows = await session.scalars(
        select(Counterpart).where(
            Counterpart.entity_id == entity_id, Counterpart.id.in_(counterpart_ids)
        )
    )
    return {c.id: c for c in rows}


async def addresses_by_id(
    session: AsyncSession, address_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CounterpartAddress]:
    """Extra addresses by id (the callers check they belong to their counterparts)."""
    if not address_ids:
        return {}
    rows = await session.scalars(
        select(CounterpartAddress).where(CounterpartAddress.id.in_(address_ids))
    )
    return {a.id: a for a in rows}
