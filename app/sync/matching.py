"""Pulled contacts and items matched to the entity's counterparts and products.

Monite: customers and suppliers are matched to counterparts (``is_customer`` /
``is_vendor``) by name, then country, city and address, and a pull never creates a
counterpart; items are matched to products by name, a product is created and linked where
none matches, and several matches link nothing and report an error. Every decision that
links or fails to link writes a synced record (``customer``, ``vendor`` or ``product``).
Records already bound stay bound: only new or changed provider records are matched; linked
counterparts and products stay candidates as "claimed" (one-to-one across pulls).

The pull calls `PullMatcher` with each page inside the page's transaction, so a page is stored
and matched, or neither, before its cursor moves. New synced records and created products are
inserted in bulk; the counterpart index is built once per pull.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

import matching
from app.connections import queries as connection_queries
from app.counterparts import queries as counterpart_queries
from app.db.models import AccountingConnection, Product, SyncedRecord
from app.events import announce
from app.ledger import queries as ledger_queries
from app.measure_units import service as unit_service
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


def counterpart_record(counterpart: Any) -> matching.CounterpartRecord:
    """One of our counterparts (its own address) as a matching record."""
    return matching.CounterpartRecord(
        id=str(counterpart.id),
        name=counterpart.name,
        country=counterpart.country,
        city=counterpart.city,
        address=counterpart.line1,
        postal_code=counterpart.postal_code,
    )


def candidate_details(
    match: matching.Match, id_key: str = "object_id", names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The candidates a person chooses from, best first: each one's id (under ``id_key``), its
    name where ``names`` has it, the match probability ``score`` (0-100), the total match
    ``weight`` in bits, the fields' similarities (0-100) and each field's comparison level and
    weight in Monite's order (name, country, city, address, postal code)."""
    return [
        {
            id_key: c.existing_id,
            **({"display_name": names.get(c.existing_id)} if names is not None else {}),
            "score": round(c.score, 1),
            "weight": c.weight,
            "name": c.name,
            "country": c.country,
            "city": c.city,
            "address": c.address,
            "postal_code": c.postal_code,
            "fields": [{"field": f.field, "level": f.level, "weight": f.weight} for f in c.fields],
        }
        for c in match.candidates
    ]


def _errors(match: matching.Match, what: str) -> dict[str, Any]:
    return {
        "message": f"{what} matches several; choose one with "
        "PATCH /v1/accounting_synced_records/{id}",
        "reason": match.reason,
        "details": candidate_details(match),
    }


class _Writes:
    """What a page's matching writes: new synced records and created products, inserted in
    bulk at the end (ORM objects one by one cost more than the matching), and updates of the
    synced records already loaded in the session."""

    def __init__(self, connection: AccountingConnection, object_type: str, now: dt.datetime):
        self.connection, self.object_type, self.now = connection, object_type, now
        self.synced: list[dict[str, Any]] = []
        self.products: list[dict[str, Any]] = []

    def bind(
        self,
        bound: SyncedRecord | None,
        provider: Any,
        *,
        object_id: uuid.UUID | None,
        status: str,
        errors: dict[str, Any] | None,
    ) -> None:
        values = {
            "object_id": object_id,
            "sync_status": status,
            "errors": errors,
            "platform": self.connection.platform,
            "platform_object_id": provider.id,
            "provider_updated_at": provider.modified_date,
            "platform_updated_at": getattr(provider, "source_modified_date", None)
            or provider.modified_date,
            "last_pulled_at": self.now,
        }
        if bound is not None:
            for key, value in values.items():
                setattr(bound, key, value)
            return
        self.synced.append(
            {
                "id": uuid.uuid4(),
                "created_at": self.now,
                "updated_at": self.now,
                "entity_id": self.connection.entity_id,
                "connection_id": self.connection.id,
                "object_type": self.object_type,
                "provider_object_id": provider.id,
                "provider": "codat",
                "attempts": 0,
                **values,
            }
        )

    async def flush(self, session: AsyncSession) -> None:
        """Insert the new synced records, then the products of those that were inserted.

        A binding written meanwhile by another job (a push that just created this record in
        the platform) wins: ``ON CONFLICT DO NOTHING``, and no product is created for it.
        Core inserts (executemany): the ORM's bulk path costs several times more per row.
        """
        if not self.synced:
            return
        table = SyncedRecord.__table__
        dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).on_conflict_do_nothing().returning(table.c.id)
        inserted = set((await session.execute(stmt, self.synced)).scalars())
        if self.products:
            kept = {r["object_id"] for r in self.synced if r["id"] in inserted}
            products = [p for p in self.products if p["id"] in kept]
            if products:
                await session.execute(insert(Product.__table__), products)
                announce(session, Product, products)  # events: product.created
        # events: counterpart/product linked, waiting for a person (after product.created)
        announce(session, SyncedRecord, [r for r in self.synced if r["id"] in inserted])


class PullMatcher:
    """The matching step of one pull, called with each page of every data type inside the
    page's transaction (so a page is stored and matched, or neither).

    The entity's counterparts are read and indexed (`matching.CounterpartIndex`) once per pull
    and data type, not once per page: a pull of 100,000 contacts reuses one index, let go
    when the pull moves on to the next data type. Products are read per page of items, since
    the pull itself creates products.
    """

    def __init__(self, connection: AccountingConnection) -> None:
        self.connection = connection
        self._indexes: dict[bool, matching.CounterpartIndex] = {}

    async def __call__(self, session: AsyncSession, data_type: str, records: Sequence[Any]) -> None:
        # An index serves one data type's pages (customers, or suppliers): once the pull has
        # moved on to another data type it is let go, not kept to the pull's end.
        current = {"customers": True, "suppliers": False}.get(data_type)
        for customers in [k for k in self._indexes if k is not current]:
            del self._indexes[customers]
        if data_type in OBJECT_TYPE:
            await match_page(session, self.connection, data_type, records, self)

    async def counterparts(
        self, session: AsyncSession, customers: bool
    ) -> matching.CounterpartIndex:
        """The index of the entity's customers (or vendors), built on first use."""
        index = self._indexes.get(customers)
        if index is None:
            existing = await counterpart_queries.for_matching(
                session, self.connection.entity_id, customers=customers
            )
            index = self._indexes[customers] = matching.CounterpartIndex(
                [counterpart_record(c) for c in existing]
            )
        return index


async def match_page(
    session: AsyncSession,
    connection: AccountingConnection,
    data_type: str,
    records: Sequence[Any],
    matcher: PullMatcher | None = None,
) -> None:
    """Match ``records`` (customers, suppliers or items) and write their synced records in
    ``session`` (not committed). ``matcher`` caches the counterpart index across pages."""
    object_type = OBJECT_TYPE[data_type]
    live = [r for r in records if not (r.metadata and r.metadata.is_deleted)]
    now = dt.datetime.now(dt.UTC)
    if len(live) < len(records):
        await _mark_deleted(session, connection, object_type, records, now)
    known = await synced_queries.of_provider_ids(
        session, connection.id, object_type, [r.id for r in live]
    )
    todo = [r for r in live if r.id not in known or known[r.id].sync_status != "done"]
    for r in live:
        if r.id in known and known[r.id].sync_status == "done":
            known[r.id].last_pulled_at = now
            known[r.id].provider_updated_at = r.modified_date
    if not todo:
        return
    writes = _Writes(connection, object_type, now)
    claimed = await synced_queries.linked_object_ids(session, connection.id, object_type)
    if data_type == "items":
        await _match_items(session, connection, todo, known, claimed, writes)
    else:
        customers = data_type == "customers"
        index = await (matcher or PullMatcher(connection)).counterparts(session, customers)
        incoming = [
            contact_record(r, r.customer_name if customers else r.supplier_name) for r in todo
        ]
        # Linked counterparts stay candidates, "claimed": a contact most like one of them comes
        # out ambiguous instead of linking to the next-best one (one-to-one across pulls).
        results = matching.match_counterparts(incoming, index, claimed=claimed)
        what = "customer" if customers else "supplier"
        for record, match in zip(todo, results, strict=True):
            _apply_match(writes, record, match, known.get(record.id), what)
    await writes.flush(session)


async def _mark_deleted(
    session: AsyncSession,
    connection: AccountingConnection,
    object_type: str,
    records: Sequence[Any],
    now: dt.datetime,
) -> None:
    """Synced records of contacts and items deleted in the accounting system say so
    (``error``, ``errors.code`` ``deleted_upstream``); the link is no longer used: the next push
    of a document that needs the object matches it again against the contacts in the books
    (a bookkeeper may have merged two) and creates it only where nothing plausible is left."""
    gone = [r.id for r in records if r.metadata and r.metadata.is_deleted]
    bound = await synced_queries.of_provider_ids(session, connection.id, object_type, gone)
    what = {"customer": "customer", "vendor": "supplier", "product": "item"}[object_type]
    for record in bound.values():
        if (record.errors or {}).get("code") == "deleted_upstream":
            continue
        record.sync_status = "error"
        record.next_attempt_at = None
        record.last_pulled_at = now
        record.errors = {
            "code": "deleted_upstream",
            "message": f"The {what} {record.provider_object_id!r} was deleted in the "
            "accounting system; the next push links the object again or creates it",
        }


def _apply_match(
    writes: _Writes, record: Any, match: matching.Match, bound: SyncedRecord | None, what: str
) -> None:
    if match.outcome == "unmatched":
        return  # kept as a pulled record; the push side may find it later
    if match.outcome == "matched":
        assert match.existing_id is not None
        writes.bind(
            bound, record, object_id=uuid.UUID(match.existing_id), status="done", errors=None
        )
    else:
        writes.bind(
            bound,
            record,
            object_id=None,
            status="error",
            errors=_errors(match, f"The {what} {record.id!r}"),
        )


def _price(item: Any, currency: str | None) -> int | None:
    """The item's unit price in minor units of ``currency`` (the accounting company's base
    currency: Codat items carry no currency of their own); None without a price or a currency
    (an amount whose currency nobody can name is not kept)."""
    details = item.invoice_item or item.bill_item
    if details is None or details.unit_price is None or currency is None:
        return None
    exponent = get_currency_precision(currency)
    return max(
        0, int((Decimal(details.unit_price) * 10**exponent).quantize(Decimal(1), ROUND_HALF_UP))
    )


def _known_currency(code: str | None) -> str | None:
    """``code`` if it is an ISO 4217 currency with a known minor unit, else None."""
    return code if code and code in list_currencies() else None


async def _match_items(
    session: AsyncSession,
    connection: AccountingConnection,
    todo: Sequence[Any],
    known: dict[str, SyncedRecord],
    claimed: set[str],
    writes: _Writes,
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
    # A created product keeps its item's price in the accounting company's base currency
    # (Codat company info, read by the pull), not relabelled with the entity's: it prices
    # invoices in that currency; none when the company's currency is unknown.
    currency = _known_currency(connection.base_currency)
    unit_id: uuid.UUID | None = None
    for record, match in zip(todo, results, strict=True):
        if match.outcome == "unmatched":
            # Monite: an item that matches no product creates one, with the item's ledger
            # account when it has one we pulled, in the pull's stub measure unit.
            details = record.invoice_item or record.bill_item
            ref = details.account_ref.id if details and details.account_ref else None
            if unit_id is None:
                unit_id = await unit_service.stub_unit(session, entity.id, writes.now)
            price = _price(record, currency)
            product_id = uuid.uuid4()
            writes.products.append(
                {
                    "id": product_id,
                    "created_at": writes.now,
                    "updated_at": writes.now,
                    "entity_id": entity.id,
                    "name": (record.name or record.code or record.id)[:100],
                    "type": "service" if (record.type or "").lower() == "service" else "product",
                    "description": details.description if details else None,
                    "price_value": price,
                    "price_currency": currency if price is not None else None,
                    "external_reference": record.code,
                    "ledger_account_id": accounts.get(ref) if ref else None,
                    "measure_unit_id": unit_id,
                }
            )
            match = matching.Match(
                incoming_id=record.id,
                outcome="matched",
                existing_id=str(product_id),
                score=100.0,
                reason="created",
            )
        _apply_match(writes, record, match, known.get(record.id), "item")
