"""Pulled contacts and items matched to the entity's counterparts and products.

Monite: customers and suppliers are matched to counterparts (``is_customer`` /
``is_vendor``) by name, then country, city and address, and a pull never creates a
counterpart; items are matched to products by name, a product is created and linked where
none matches, and several matches link nothing and report an error. Every decision that
links or fails to link writes a synced record (``customer``, ``vendor`` or ``product``).
Records already bound stay bound: only new or changed provider records are matched, against
the counterparts and products not yet linked on this connection.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy.ext.asyncio import AsyncSession

import matching
from app.connections import queries as connection_queries
from app.counterparts import queries as counterpart_queries
from app.db.models import AccountingConnection, Product, SyncedRecord
from app.jobs.runner import JobContext
from app.ledger import queries as ledger_queries
from app.products import queries as product_queries
from app.synced_records import queries as synced_queries

OBJECT_TYPE = {"customers": "customer", "suppliers": "vendor", "items": "product"}


def contact_record(record: Any, name: str | None) -> matching.CounterpartRecord:
    """A Codat customer or supplier as a matching record (first address)."""
    address = record.addresses[0] if record.addresses else None
    return matching.CounterpartRecord(
        id=record.id,
        name=name or "",
        country=address.country if address else None,
        city=address.city if address else None,
        address=address.line1 if address else None,
        postal_code=address.postal_code if address else None,
    )


def _errors(match: matching.Match, what: str) -> dict[str, Any]:
    return {
        "message": f"{what} matches several; choose one with "
        "PATCH /v1/accounting_synced_records/{id}",
        "details": [
            {
                "object_id": c.existing_id,
                "score": round(c.score, 1),
                "name": c.name,
                "country": c.country,
                "city": c.city,
                "address": c.address,
                "postal_code": c.postal_code,
            }
            for c in match.candidates
        ],
    }


def _bind(
    record: SyncedRecord | None,
    connection: AccountingConnection,
    object_type: str,
    provider: Any,
    now: dt.datetime,
) -> SyncedRecord:
    if record is None:
        record = SyncedRecord(
            entity_id=connection.entity_id,
            connection_id=connection.id,
            object_type=object_type,
            provider_object_id=provider.id,
            provider="codat",
            attempts=0,
        )
    record.platform = connection.platform
    record.platform_object_id = provider.id
    record.provider_updated_at = provider.modified_date
    record.platform_updated_at = (
        getattr(provider, "source_modified_date", None) or provider.modified_date
    )
    record.last_pulled_at = now
    return record


async def after_page(
    ctx: JobContext, connection: AccountingConnection, data_type: str, records: Sequence[Any]
) -> None:
    """Match one committed page of customers, suppliers or items (other types: nothing)."""
    if data_type not in OBJECT_TYPE:
        return
    async with ctx.sessionmaker() as session:
        await match_page(session, connection, data_type, records)
        await session.commit()


async def match_page(
    session: AsyncSession, connection: AccountingConnection, data_type: str, records: Sequence[Any]
) -> None:
    """Match ``records`` and write their synced records in ``session`` (not committed)."""
    object_type = OBJECT_TYPE[data_type]
    live = [r for r in records if not (r.metadata and r.metadata.is_deleted)]
    known = await synced_queries.of_provider_ids(
        session, connection.id, object_type, [r.id for r in live]
    )
    now = dt.datetime.now(dt.UTC)
    todo = [r for r in live if r.id not in known or known[r.id].sync_status != "done"]
    for r in live:
        if r.id in known and known[r.id].sync_status == "done":
            known[r.id].last_pulled_at = now
            known[r.id].provider_updated_at = r.modified_date
    if not todo:
        return
    claimed = await synced_queries.linked_object_ids(session, connection.id, object_type)
    if data_type == "items":
        await _match_items(session, connection, todo, known, claimed, now)
        return
    customers = data_type == "customers"
    existing = await counterpart_queries.for_matching(
        session, connection.entity_id, customers=customers
    )
    index = [
        matching.CounterpartRecord(
            id=str(c.id),
            name=c.name,
            country=c.country,
            city=c.city,
            address=c.line1,
            postal_code=c.postal_code,
        )
        for c in existing
    ]
    incoming = [contact_record(r, r.customer_name if customers else r.supplier_name) for r in todo]
    # Linked counterparts stay candidates, "claimed": a contact most like one of them comes out
    # ambiguous instead of linking to the next-best one (one-to-one across pulls).
    results = matching.match_counterparts(incoming, index, claimed=claimed)
    for record, match in zip(todo, results, strict=True):
        _apply_match(
            session,
            connection,
            object_type,
            record,
            match,
            known.get(record.id),
            now,
            "customer" if customers else "supplier",
        )


def _apply_match(
    session: AsyncSession,
    connection: AccountingConnection,
    object_type: str,
    record: Any,
    match: matching.Match,
    bound: SyncedRecord | None,
    now: dt.datetime,
    what: str,
) -> None:
    if match.outcome == "unmatched":
        return  # kept as a pulled record; the push side may find it later
    row = _bind(bound, connection, object_type, record, now)
    if match.outcome == "matched":
        row.object_id = uuid.UUID(match.existing_id)
        row.sync_status, row.errors = "done", None
    else:
        row.object_id = None
        row.sync_status = "error"
        row.errors = _errors(match, f"The {what} {record.id!r}")
    session.add(row)


def _price(item: Any, currency: str) -> int | None:
    details = item.invoice_item or item.bill_item
    if details is None or details.unit_price is None:
        return None
    exponent = get_currency_precision(currency)
    return max(
        0, int((Decimal(details.unit_price) * 10**exponent).quantize(Decimal(1), ROUND_HALF_UP))
    )


async def _match_items(
    session: AsyncSession,
    connection: AccountingConnection,
    todo: Sequence[Any],
    known: dict[str, SyncedRecord],
    claimed: set[str],
    now: dt.datetime,
) -> None:
    entity = await connection_queries.entity_of(session, connection)
    products = await product_queries.all_of_entity(session, entity.id)
    index = [matching.ProductRecord(id=str(p.id), name=p.name) for p in products]
    incoming = [matching.ProductRecord(id=r.id, name=r.name or r.code or r.id) for r in todo]
    results = matching.match_products(incoming, index, claimed=claimed)
    account_refs = {
        ref.id
        for r in todo
        for ref in [
            (r.invoice_item or r.bill_item).account_ref if (r.invoice_item or r.bill_item) else None
        ]
        if ref is not None and ref.id
    }
    accounts = await ledger_queries.by_provider_ids(session, connection.id, sorted(account_refs))
    for record, match in zip(todo, results, strict=True):
        if match.outcome == "unmatched":
            details = record.invoice_item or record.bill_item
            ref = details.account_ref.id if details and details.account_ref else None
            product = Product(
                entity_id=entity.id,
                name=(record.name or record.code or record.id)[:100],
                type="service" if (record.type or "").lower() == "service" else "product",
                description=details.description if details else None,
                price_value=_price(record, entity.currency),
                price_currency=entity.currency,
                external_reference=record.code,
                ledger_account_id=accounts.get(ref) if ref else None,
            )
            session.add(product)
            await session.flush()
            match = matching.Match(
                incoming_id=record.id,
                outcome="matched",
                existing_id=str(product.id),
                score=100.0,
                reason="created",
            )
        _apply_match(
            session, connection, "product", record, match, known.get(record.id), now, "item"
        )
