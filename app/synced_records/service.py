"""Synced-record use cases: read with history, resolve an ambiguous match, retry pushes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Counterpart, Entity, Product, SyncAttempt, SyncedRecord
from app.errors import Conflict, NotFound, Unprocessable
from app.synced_records import queries
from app.synced_records.schemas import AttemptOut, ResolveBody, SyncedRecordOut

PUSHED_TYPES = ("bill", "receivable")
#: Seconds a manual retry keeps the sweep off the record while the request pushes it.
MANUAL_GRACE_S = 30.0


def attempt_out(a: SyncAttempt) -> AttemptOut:
    return AttemptOut(
        number=a.number,
        kind=a.kind,
        outcome=a.outcome,
        started_at=a.created_at,
        finished_at=a.finished_at,
        push_operation_key=a.push_operation_key,
        request=a.request_summary,
        response=a.response,
        error=a.error,
    )


def to_out(r: SyncedRecord, attempts: list[SyncAttempt] | None = None) -> SyncedRecordOut:
    """The API shape; ``attempts`` only on the single-record read."""
    return SyncedRecordOut(
        id=r.id,
        created_at=r.created_at,
        updated_at=r.updated_at,
        object_type=r.object_type,
        sync_status=r.sync_status,
        provider=r.provider,
        last_pulled_at=r.last_pulled_at or r.updated_at,
        object_id=r.object_id,
        object_updated_at=r.object_updated_at,
        platform=r.platform,
        platform_object_id=r.platform_object_id,
        platform_updated_at=r.platform_updated_at,
        provider_object_id=r.provider_object_id,
        provider_updated_at=r.provider_updated_at,
        errors=r.errors,
        attempts_count=r.attempts,
        next_attempt_at=r.next_attempt_at,
        attempts=[attempt_out(a) for a in attempts] if attempts is not None else None,
    )


def list_item(row: Any) -> SyncedRecordOut:
    """:func:`to_out` of a row of ``queries.LIST_COLUMNS``, unpacked by position (a Core
    row's attribute look-ups cost more than the rest of the conversion; issue 17)."""
    (
        id_, created_at, updated_at, object_type, sync_status, provider, last_pulled_at,
        object_id, object_updated_at, platform, platform_object_id, platform_updated_at,
        provider_object_id, provider_updated_at, errors, attempts, next_attempt_at,
    ) = row  # fmt: skip
    return SyncedRecordOut(
        id=id_,
        created_at=created_at,
        updated_at=updated_at,
        object_type=object_type,
        sync_status=sync_status,
        provider=provider,
        last_pulled_at=last_pulled_at or updated_at,
        object_id=object_id,
        object_updated_at=object_updated_at,
        platform=platform,
        platform_object_id=platform_object_id,
        platform_updated_at=platform_updated_at,
        provider_object_id=provider_object_id,
        provider_updated_at=provider_updated_at,
        errors=errors,
        attempts_count=attempts,
        next_attempt_at=next_attempt_at,
        attempts=None,
    )


async def get(session: AsyncSession, entity_id: uuid.UUID, record_id: uuid.UUID) -> SyncedRecord:
    """Raises NotFound unless the record belongs to the entity."""
    record = await queries.get_for_entity(session, entity_id, record_id)
    if record is None:
        raise NotFound(f"Synced record {record_id} was not found")
    return record


async def with_attempts(
    session: AsyncSession, entity_id: uuid.UUID, record_id: uuid.UUID
) -> SyncedRecordOut:
    record = await get(session, entity_id, record_id)
    return to_out(record, list(await queries.attempts_of(session, record.id)))


async def resolve(
    session: AsyncSession,
    entity: Entity,
    record_id: uuid.UUID,
    body: ResolveBody,
) -> tuple[SyncedRecord, list[uuid.UUID]]:
    """Decide a record that waits for a person (`ResolveBody`): link a pulled contact or item
    to one of our objects, or link a counterpart being pushed to an existing contact in the
    accounting system, or have that counterpart created. Returns the record and the pushed
    documents that waited for it, now ``pending`` (the caller commits and queues them).

    Raises:
        Conflict: the record is a pushed document, or already linked.
        Unprocessable: not exactly one choice; the object is not the entity's, is of the wrong
            kind, or is linked to another provider record on this connection; the contact is
            not in the accounting system (as last pulled) or is linked to another object.
    """
    record = await get(session, entity.id, record_id)
    if record.object_type in PUSHED_TYPES:
        raise Conflict("Only customer, vendor and product records are linked by hand")
    if record.sync_status == "done" and record.object_id is not None:
        raise Conflict("The record is already linked; it is done")
    chosen = [
        name
        for name, value in (
            ("object_id", body.object_id),
            ("provider_object_id", body.provider_object_id),
            ("create_new", body.create_new or None),
        )
        if value is not None
    ]
    if len(chosen) != 1:
        raise Unprocessable.field(
            ["body"], "give exactly one of object_id, provider_object_id, create_new"
        )
    if body.object_id is not None:
        await _link_object(session, entity, record, body.object_id)
    else:
        await _decide_push(session, record, body.provider_object_id)
    waiting = await queries.documents_in_error(session, entity.id, "waiting_for", str(record.id))
    for doc in waiting:
        doc.sync_status, doc.next_attempt_at, doc.errors = "pending", None, None
    await session.flush()
    return record, [d.id for d in waiting]


async def _link_object(
    session: AsyncSession, entity: Entity, record: SyncedRecord, object_id: uuid.UUID
) -> None:
    loc: list[str | int] = ["body", "object_id"]
    if record.object_id is not None:
        raise Unprocessable.field(
            loc, "this record is one of our objects being pushed: give provider_object_id"
        )
    if record.object_type == "product":
        product = await session.get(Product, object_id)
        if product is None or product.entity_id != entity.id:
            raise Unprocessable.field(loc, f"product {object_id} was not found for this entity")
    else:
        counterpart = await session.get(Counterpart, object_id)
        if counterpart is None or counterpart.entity_id != entity.id:
            raise Unprocessable.field(loc, f"counterpart {object_id} was not found for this entity")
        role_ok = (
            counterpart.is_customer if record.object_type == "customer" else counterpart.is_vendor
        )
        if not role_ok:
            role = "a customer" if record.object_type == "customer" else "a vendor"
            raise Unprocessable.field(loc, f"counterpart {object_id} is not {role}")
    taken = await queries.of_object(session, record.connection_id, record.object_type, object_id)
    if taken is not None and taken.id != record.id:
        raise Unprocessable.field(
            loc, f"{object_id} is already linked to another {record.object_type}"
        )
    record.object_id = object_id
    record.sync_status = "done"
    record.errors = None


async def _decide_push(
    session: AsyncSession, record: SyncedRecord, provider_object_id: str | None
) -> None:
    """A counterpart being pushed: link it to an existing contact, or (None) create it."""
    loc: list[str | int] = ["body", "provider_object_id"]
    if record.object_id is None or record.object_type == "product":
        raise Unprocessable.field(
            loc if provider_object_id else ["body", "create_new"],
            "only a counterpart being pushed is linked to a contact or created; "
            "give object_id for a pulled record",
        )
    if record.push_operation_key is not None:
        raise Conflict("A push of this record is in flight; wait for its outcome")
    number = len(await queries.attempts_of(session, record.id)) + 1
    now = dt.datetime.now(dt.UTC)
    if provider_object_id is None:
        # Recorded as an attempt: the push engine matches only before the first attempt, so
        # the next push creates the contact.
        decision = {"decided_by": "person", "create_new": True}
        record.sync_status, record.next_attempt_at, record.errors = "pending", None, None
    else:
        data_type = "customers" if record.object_type == "customer" else "suppliers"
        pulled = await queries.pulled_contact(
            session, record.connection_id, data_type, provider_object_id
        )
        if pulled is None:
            raise Unprocessable.field(
                loc, f"no {data_type[:-1]} {provider_object_id!r} in the accounting system"
            )
        holders = await queries.of_provider_ids(
            session, record.connection_id, record.object_type, [provider_object_id]
        )
        holder = holders.get(provider_object_id)
        if holder is not None and holder.id != record.id:
            if holder.object_id is not None:
                raise Unprocessable.field(
                    loc, f"{provider_object_id!r} is already linked to {holder.object_id}"
                )
            await session.delete(holder)  # the pulled contact's unlinked placeholder
            await session.flush()
        decision = {"decided_by": "person", "linked": provider_object_id}
        record.provider_object_id = record.platform_object_id = provider_object_id
        record.provider_updated_at = record.platform_updated_at = now
        record.sync_status, record.next_attempt_at, record.errors = "done", None, None
    session.add(
        SyncAttempt(
            synced_record_id=record.id,
            number=number,
            kind="resolve",
            outcome="done",
            request_summary=decision,
            finished_at=now,
        )
    )


async def prepare_retry(
    session: AsyncSession, entity_id: uuid.UUID, record_id: uuid.UUID
) -> SyncedRecord:
    """Check a manual retry may go ahead and mark the record ``pending`` for the route to push.

    Raises:
        Conflict: the push is in flight; or the record is done and its object has not changed
            since it was pushed (nothing to push); or it is not a pushed document.
    """
    record = await get(session, entity_id, record_id)
    if record.object_type not in PUSHED_TYPES:
        raise Conflict(
            "Only bills and receivables are pushed; resolve contacts and items with PATCH"
        )
    if record.push_operation_key is not None:
        raise Conflict("A push of this record is in flight; wait for its outcome")
    if record.sync_status == "done":
        changed = (
            record.object_updated_at is not None
            and record.pushed_version is not None
            and record.object_updated_at > record.pushed_version
        )
        if not changed:
            raise Conflict("Nothing changed since the last successful push")
    record.sync_status = "pending"
    # The route pushes at once (``run_push(manual=True)`` ignores this time); the sweep must not
    # start a second, automatic run meanwhile, and takes over only if the route's run never
    # happens (a crash, or another job holding the record's lease).
    record.next_attempt_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=MANUAL_GRACE_S)
    record.errors = None  # a person asked: the automatic retries start over
    await session.flush()
    return record


async def queue_bulk(
    session: AsyncSession, entity_id: uuid.UUID, object_type: str, limit: int
) -> list[uuid.UUID]:
    """Make up to ``limit`` records of a type in ``error`` (and not in flight) due now, oldest
    first; returns their ids (the caller commits, then queues a push job for each).

    Raises:
        Unprocessable: ``object_type`` is not a pushed document type (bill, receivable).
    """
    if object_type not in PUSHED_TYPES:
        raise Unprocessable.field(
            ["body", "object_type"], "only bill and receivable records are pushed"
        )
    records = await queries.errored(session, entity_id, object_type, limit)
    for record in records:
        record.sync_status = "pending"
        record.next_attempt_at = None
        # A person asked: the automatic retries start over (the push engine counts failures in
        # a row in ``errors.failures``, as it does for ``POST .../{id}/push``).
        record.errors = None
    await session.flush()
    return [r.id for r in records]


def seek_bound(value: Any, direction: str, order: str) -> tuple[dt.datetime, bool] | None:
    """The sort-column bound a pagination token implies: ``(value, ascending scan)``.

    ``value`` is the token's encoded sort value (``{"dt": iso}`` for a date-time, see
    ``app.pagination``); None when it is not a date-time (no bound is added then).
    """
    if not isinstance(value, dict) or "dt" not in value:
        return None
    try:
        when = dt.datetime.fromisoformat(value["dt"])
    except (TypeError, ValueError):
        return None
    return when, (order == "asc") == (direction == "next")


def parse_filters(params: dict[str, Any]) -> dict[str, Any]:
    """Validate list filters; dates must be ISO 8601 (with or without offset; no offset = UTC).

    Raises:
        Unprocessable: a malformed date or id, naming the parameter.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if key.startswith(("created_at__", "updated_at__")):
            try:
                when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise Unprocessable.field(
                    ["query", key], f"{value!r} is not an ISO 8601 date-time"
                ) from None
            out[key] = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).isoformat()
        elif key in ("object_id", "object_id__in"):
            values = value if isinstance(value, list) else [value]
            try:
                parsed = [str(uuid.UUID(str(v))) for v in values]
            except ValueError:
                raise Unprocessable.field(["query", key], "must be a UUID") from None
            out[key] = parsed if key == "object_id__in" else parsed[0]
        else:
            out[key] = value
    return out
