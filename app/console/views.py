"""What the console's pages show, read through the domains' services and queries (the same
the API uses): entities with their connections' health, synced records, a record with its
attempts and, for a match left to a person, the candidates with their names."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connections import queries as connection_queries
from app.connections import service as connection_service
from app.connections.schemas import SyncStatusOut
from app.counterparts import service as counterpart_service
from app.db.models import AccountingConnection, Entity
from app.entities import queries as entity_queries
from app.errors import NotFound
from app.payables import service as payable_service
from app.products import service as product_service
from app.receivables import service as receivable_service
from app.synced_records import queries as record_queries
from app.synced_records import service as record_service
from app.synced_records.schemas import SyncedRecordOut

#: The object types a person lists, in the order the console shows them.
OBJECT_TYPES = ("bill", "receivable", "vendor", "customer", "product")
#: Those a person retries (pushed documents); the others are linked by hand.
PUSHED_TYPES = ("bill", "receivable")


def entity_name(entity: Entity) -> str:
    """The entity's legal name, or ``first last`` for an individual."""
    if entity.legal_name:
        return entity.legal_name
    return " ".join(p for p in (entity.first_name, entity.last_name) if p) or str(entity.id)


@dataclass
class ConnectionView:
    """One connection and, when it has pulled or is connected, its sync status."""

    connection: AccountingConnection
    status: SyncStatusOut | None


@dataclass
class EntityView:
    entity: Entity
    name: str
    connections: list[ConnectionView] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, object_type: str, status: str) -> int:
        return self.counts.get((object_type, status), 0)


async def entities(db: AsyncSession, partner_id: uuid.UUID) -> list[EntityView]:
    """The partner's entities, by name, each with its connections (newest first)."""
    rows = (await db.scalars(entity_queries.list_for_partner(partner_id))).all()
    views = [EntityView(e, entity_name(e)) for e in rows]
    for view in views:
        view.connections = [
            ConnectionView(c, None)
            for c in (await db.scalars(connection_queries.list_stmt(view.entity.id))).all()
        ]
        view.connections.sort(key=lambda v: v.connection.created_at, reverse=True)
    return sorted(views, key=lambda v: v.name.lower())


async def entity_page(db: AsyncSession, entity: Entity, pull_interval_seconds: int) -> EntityView:
    """An entity with each connection's sync status and its synced records counted by type
    and status."""
    view = EntityView(entity, entity_name(entity))
    connections = (await db.scalars(connection_queries.list_stmt(entity.id))).all()
    for c in sorted(connections, key=lambda c: c.created_at, reverse=True):
        status = await connection_service.sync_status(db, entity.id, c.id, pull_interval_seconds)
        view.connections.append(ConnectionView(c, status))
    view.counts = await record_queries.count_by_status(db, entity.id)
    return view


async def object_label(db: AsyncSession, entity_id: uuid.UUID, record: SyncedRecordOut) -> str:
    """What the record is about, as a person names it: the counterpart's or product's name,
    or the document with its number and counterpart; for a pulled contact or item not linked
    to one of ours, its name in the accounting system. Empty when there is none."""
    if record.object_id is None:
        return await _pulled_name(db, entity_id, record)
    try:
        if record.object_type in ("customer", "vendor"):
            return (await counterpart_service.get(db, entity_id, record.object_id)).name
        if record.object_type == "product":
            return (await product_service.get(db, entity_id, record.object_id)).name
        if record.object_type == "bill":
            document: Any = await payable_service.get(db, entity_id, record.object_id)
        else:
            document = await receivable_service.get(db, entity_id, record.object_id)
    except NotFound:
        return "(deleted)"
    who = ""
    if document.counterpart_id is not None:
        try:
            who = (await counterpart_service.get(db, entity_id, document.counterpart_id)).name
        except NotFound:
            who = ""
    number = getattr(document, "document_id", None) or str(document.id)[:8]
    amount = _money(document.total_amount, document.currency)
    return " · ".join(p for p in (number, who, amount) if p)


#: The pulled data type of each linked object type.
_PULLED = {"customer": "customers", "vendor": "suppliers", "product": "items"}


async def _pulled_name(db: AsyncSession, entity_id: uuid.UUID, record: SyncedRecordOut) -> str:
    data_type = _PULLED.get(record.object_type)
    if data_type is None or not record.provider_object_id:
        return ""
    stored = await record_service.get(db, entity_id, record.id)
    pulled = await record_queries.pulled_contact(
        db, stored.connection_id, data_type, record.provider_object_id
    )
    return pulled.name or "" if pulled is not None else ""


def _money(minor: int | None, currency: str | None) -> str:
    """``12.50 GBP`` from integer minor units (two decimals; the console only shows it)."""
    if minor is None or not currency:
        return ""
    return f"{minor / 100:,.2f} {currency}"


@dataclass
class Candidate:
    """One candidate of a match left to a person, as the page offers it."""

    choice: str  # the ResolveBody field the button sends: object_id | provider_object_id
    value: str
    name: str
    score: Any
    weight: Any
    fields: list[dict[str, Any]]


async def candidates(
    db: AsyncSession, entity_id: uuid.UUID, record: SyncedRecordOut
) -> list[Candidate]:
    """The candidates in ``errors.details`` (best first), with their names: ours (a pulled
    contact or item to link to a counterpart or product) or the accounting system's (a
    counterpart being pushed, to link to an existing contact)."""
    details = (record.errors or {}).get("details")
    if not isinstance(details, list):
        return []
    out = []
    for d in details:
        if not isinstance(d, dict):
            continue
        if d.get("provider_object_id"):
            choice, value = "provider_object_id", str(d["provider_object_id"])
            name = str(d.get("display_name") or value)
        elif d.get("object_id"):
            choice, value = "object_id", str(d["object_id"])
            name = value
            try:
                ours = uuid.UUID(value)
                if record.object_type == "product":
                    name = (await product_service.get(db, entity_id, ours)).name
                else:
                    name = (await counterpart_service.get(db, entity_id, ours)).name
            except (ValueError, NotFound):
                pass
        else:
            continue
        fields = [f for f in d.get("fields") or [] if isinstance(f, dict)]
        out.append(Candidate(choice, value, name, d.get("score"), d.get("weight"), fields))
    return out


def summary(value: Any) -> str:
    """A request or response summary, as indented JSON text (the template escapes it)."""
    if value is None:
        return ""
    return json.dumps(value, indent=1, sort_keys=True, default=str, ensure_ascii=False)


def when(value: dt.datetime | str | None) -> str:
    """A time as ``2026-11-01 14:03:22 UTC`` (empty for none)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def day_filters(params: dict[str, str]) -> dict[str, str]:
    """The list's date inputs (``created_from``/``created_to``, ``updated_from``/
    ``updated_to``, YYYY-MM-DD, UTC days, both ends included) as Monite's filters
    (``created_at__gte``, ``created_at__lt`` the day after, ...). A malformed day is passed on
    as given, so the filters' own validation names it."""
    out: dict[str, str] = {}
    for column in ("created", "updated"):
        start, end = params.get(f"{column}_from"), params.get(f"{column}_to")
        if start:
            out[f"{column}_at__gte"] = start
        if end:
            try:
                day = dt.date.fromisoformat(end)
                out[f"{column}_at__lt"] = (day + dt.timedelta(days=1)).isoformat()
            except ValueError:
                out[f"{column}_at__lt"] = end
    return out
