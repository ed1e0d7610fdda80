"""Product use cases."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Product
from app.errors import Conflict, NotFound
from app.ledger import service as ledger_service
from app.measure_units import service as unit_service
from app.products import queries
from app.products.schemas import PriceOut, ProductCreate, ProductOut, ProductUpdate
from app.schemas import check_currency


def to_out(p: Product) -> ProductOut:
    """The API shape of a product."""
    price = None
    if p.price_value is not None and p.price_currency:
        price = PriceOut(currency=p.price_currency, value=p.price_value)
    return ProductOut(
        id=p.id,
        entity_id=p.entity_id,
        name=p.name,
        type=p.type,
        created_at=p.created_at,
        updated_at=p.updated_at,
        description=p.description,
        price=price,
        external_reference=p.external_reference,
        ledger_account_id=p.ledger_account_id,
        smallest_amount=p.smallest_amount,
        measure_unit_id=p.measure_unit_id,
    )


async def _check_ledger_account(
    session: AsyncSession, entity_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    await ledger_service.usable_ledger_account(
        session, entity_id, account_id, ["body", "ledger_account_id"]
    )


async def _apply(
    session: AsyncSession, entity_id: uuid.UUID, p: Product, data: ProductCreate | ProductUpdate
) -> None:
    if data.name is not None:
        p.name = data.name
    if data.type is not None:
        p.type = data.type
    if data.description is not None:
        p.description = data.description
    if data.external_reference is not None:
        p.external_reference = data.external_reference
    if data.smallest_amount is not None:
        p.smallest_amount = data.smallest_amount
    if data.price is not None:
        p.price_currency = check_currency(data.price.currency, ["body", "price", "currency"])
        p.price_value = data.price.value
    if data.ledger_account_id is not None:
        await _check_ledger_account(session, entity_id, data.ledger_account_id)
        p.ledger_account_id = data.ledger_account_id
    if data.measure_unit_id is not None:
        await unit_service.check_usable(
            session, entity_id, data.measure_unit_id, ["body", "measure_unit_id"]
        )
        p.measure_unit_id = data.measure_unit_id


async def create(session: AsyncSession, entity_id: uuid.UUID, data: ProductCreate) -> Product:
    """Create a product.

    Raises:
        Unprocessable: unknown currency, a ledger account not pulled for the entity, or a
            measure unit the entity does not have.
    """
    p = Product(entity_id=entity_id, name=data.name, type=data.type)
    await _apply(session, entity_id, p, data)
    session.add(p)
    await session.flush()
    return p


async def get(session: AsyncSession, entity_id: uuid.UUID, product_id: uuid.UUID) -> Product:
    """Raises NotFound unless the product belongs to the entity."""
    p = await queries.get(session, entity_id, product_id)
    if p is None:
        raise NotFound(f"Product {product_id} was not found")
    return p


async def update(
    session: AsyncSession, entity_id: uuid.UUID, product_id: uuid.UUID, data: ProductUpdate
) -> Product:
    p = await get(session, entity_id, product_id)
    await _apply(session, entity_id, p, data)
    await session.flush()
    return p


async def delete(session: AsyncSession, entity_id: uuid.UUID, product_id: uuid.UUID) -> None:
    """Delete a product no invoice line uses.

    Raises:
        Conflict: an invoice line still refers to it.
    """
    p = await get(session, entity_id, product_id)
    if await queries.is_referenced(session, p.id):
        raise Conflict("Product is used by a receivable and cannot be deleted")
    await session.delete(p)
    await session.flush()
