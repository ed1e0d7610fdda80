"""Our payables and receivables as ``sync_rules`` documents, and the push context.

All the reads a push needs, done once: the document with its lines, its counterpart (and its
provider id when linked), products (and their item ids), the connection's pulled ledger
accounts and tax rates, and the entity's defaults.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import sync_rules as rules
from app.connections import queries as connection_queries
from app.counterparts import queries as counterpart_queries
from app.db.models import (
    AccountingConnection,
    Counterpart,
    Entity,
    Payable,
    Product,
    Receivable,
)
from app.ledger import queries as ledger_queries
from app.products import queries as product_queries
from app.synced_records import queries as synced_queries


def _status(value: str | None) -> str:
    return "archived" if (value or "").lower() in ("archived", "deleted", "inactive") else "active"


async def push_context(
    session: AsyncSession, connection: AccountingConnection, entity: Entity
) -> rules.PushContext:
    """The connection's pulled ledger accounts and tax rates and the entity's defaults."""
    accounts, rates = await ledger_queries.of_connection(session, connection.id)
    return rules.PushContext(
        ledger_accounts=[
            rules.LedgerAccountRef(
                id=str(a.id),
                provider_id=a.provider_id,
                name=a.name,
                status="archived" if a.is_deleted else _status(a.status),
            )
            for a in accounts
        ],
        tax_rates=[
            rules.TaxRateRef(
                id=str(t.id),
                provider_id=t.provider_id,
                name=t.name or t.code or t.provider_id,
                rate=t.effective_tax_rate
                if t.effective_tax_rate is not None
                else (t.total_tax_rate or 0),
                status="archived" if t.is_deleted else _status(t.status),
            )
            for t in rates
        ],
        default_products_ledger_account_id=str(entity.default_products_ledger_account_id)
        if entity.default_products_ledger_account_id
        else None,
        default_tax_rate_id=str(entity.default_deductions_tax_rate_id)
        if entity.default_deductions_tax_rate_id
        else None,
    )


async def counterpart_doc(
    session: AsyncSession,
    connection: AccountingConnection,
    counterpart: Counterpart | None,
    object_type: str,
) -> rules.Counterpart | None:
    """The counterpart with its provider id when it is linked on this connection."""
    if counterpart is None:
        return None
    bound = await synced_queries.of_object(session, connection.id, object_type, counterpart.id)
    provider_id = (
        bound.provider_object_id if bound is not None and bound.sync_status == "done" else None
    )
    return rules.Counterpart(
        id=str(counterpart.id),
        name=counterpart.name,
        provider_id=provider_id,
        email=counterpart.email,
        phone=counterpart.phone,
        address=rules.Address(
            country=counterpart.country,
            city=counterpart.city,
            postal_code=counterpart.postal_code,
            line1=counterpart.line1,
            line2=counterpart.line2,
        ),
    )


def product_doc(product: Product, provider_id: str | None = None) -> rules.Product:
    """A product as a ``sync_rules.Product`` (price in minor units of its currency);
    ``provider_id`` is its Codat item id when it is linked on the connection."""
    return rules.Product(
        id=str(product.id),
        name=product.name,
        description=product.description,
        type="service" if product.type == "service" else "product",
        price=product.price_value,
        currency=product.price_currency,
        ledger_account_id=str(product.ledger_account_id) if product.ledger_account_id else None,
        provider_id=provider_id,
    )


def _date(value: dt.date | dt.datetime | None, fallback: dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return value or fallback.date()


async def payable_doc(
    session: AsyncSession, connection: AccountingConnection, payable: Payable
) -> rules.PayableDoc:
    """A payable as a ``sync_rules.PayableDoc`` (issue date defaults to its creation day)."""
    counterpart = (
        await counterpart_queries.get(session, payable.entity_id, payable.counterpart_id)
        if payable.counterpart_id
        else None
    )
    return rules.PayableDoc(
        id=str(payable.id),
        status=payable.status,
        currency=payable.currency,
        counterpart=await counterpart_doc(session, connection, counterpart, "vendor"),
        line_items=[
            rules.LineItem(
                id=str(line.id),
                quantity=Decimal(str(line.quantity)),
                unit_price=line.unit_price,
                name=line.name,
                description=line.description,
                tax_rate=line.tax,
                ledger_account_id=str(line.ledger_account_id) if line.ledger_account_id else None,
                accounting_tax_rate_id=str(line.accounting_tax_rate_id)
                if line.accounting_tax_rate_id
                else None,
            )
            for line in payable.line_items
        ],
        document_id=payable.document_id,
        issue_date=_date(payable.issued_at, payable.created_at),
        due_date=payable.due_date,
        memo=payable.description,
    )


async def receivable_doc(
    session: AsyncSession, connection: AccountingConnection, receivable: Receivable
) -> rules.ReceivableDoc:
    """A receivable as a ``sync_rules.ReceivableDoc`` with its products and their item ids."""
    counterpart = (
        await counterpart_queries.get(session, receivable.entity_id, receivable.counterpart_id)
        if receivable.counterpart_id
        else None
    )
    product_ids = [line.product_id for line in receivable.line_items]
    products = await product_queries.get_many(session, receivable.entity_id, product_ids)
    items: dict[uuid.UUID, str | None] = {}
    for pid in product_ids:
        bound = await synced_queries.of_object(session, connection.id, "product", pid)
        items[pid] = bound.provider_object_id if bound and bound.sync_status == "done" else None

    def product(pid: uuid.UUID) -> rules.Product | None:
        p = products.get(pid)
        return None if p is None else product_doc(p, items.get(pid))

    def discount(value: dict[str, Any] | None) -> rules.Discount | None:
        if not value:
            return None
        return rules.Discount(amount=int(value["amount"]), type=value.get("type", "amount"))

    return rules.ReceivableDoc(
        id=str(receivable.id),
        status=receivable.status,
        currency=receivable.currency,
        counterpart=await counterpart_doc(session, connection, counterpart, "customer"),
        line_items=[
            rules.LineItem(
                id=str(line.id),
                quantity=Decimal(str(line.quantity)),
                unit_price=line.unit_price,
                name=(product(line.product_id).name if product(line.product_id) else ""),
                tax_rate=line.tax_rate_value,
                accounting_tax_rate_id=str(line.accounting_tax_rate_id)
                if line.accounting_tax_rate_id
                else None,
                discount=discount(line.discount),
                product=product(line.product_id),
            )
            for line in receivable.line_items
        ],
        document_id=receivable.document_id,
        issue_date=_date(receivable.issue_date, receivable.created_at),
        due_date=receivable.due_date,
        memo=receivable.memo,
        discount=discount(receivable.discount),
    )


async def payable_push_problems(
    session: AsyncSession, entity: Entity, payable: Payable
) -> list[rules.Problem]:
    """What would stop ``payable`` being pushed as a bill on the entity's connected
    connection: the push's own validation (``sync_rules.validate_payable``) against the
    connection's pulled ledger accounts and tax rates. Empty when the entity has no connected
    connection (nothing to check against) or nothing is wrong."""
    connection = await connection_queries.active_of_entity(session, entity.id)
    if connection is None or connection.status != "connected":
        return []
    doc = await payable_doc(session, connection, payable)
    return list(
        rules.validate_payable(doc, await push_context(session, connection, entity)).problems
    )
