"""Queries of the products domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Product, ReceivableLineItem


async def get(session: AsyncSession, entity_id: uuid.UUID, product_id: uuid.UUID) -> Product | None:
    return await session.scalar(
        select(Product).where(Product.id == product_id, Product.entity_id == entity_id)
    )


async def get_many(
    session: AsyncSession, entity_id: uuid.UUID, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    rows = await session.scalars(
        select(Product).where(Product.entity_id == entity_id, Product.id.in_(product_ids))
    )
    return {p.id: p for p in rows}


def list_stmt(entity_id: uuid.UUID, name: str | None = None) -> Select[tuple[Product]]:
    stmt = select(Product).where(Product.entity_id == entity_id)
    if name:
        stmt = stmt.where(func.lower(Product.name).contains(name.lower()))
    return stmt


async def is_referenced(session: AsyncSession, product_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(ReceivableLineItem.id).where(ReceivableLineItem.product_id == product_id).limit(1)
    )
    return found is not None


async def all_of_entity(session: AsyncSession, entity_id: uuid.UUID) -> list[Product]:
    return list(
        (await session.scalars(select(Product).where(Product.entity_id == entity_id))).all()
    )
