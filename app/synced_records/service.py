"""Synced-record use cases: read with history, resolve an ambiguous match, retry pushes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Counterpart, Entity, Product, SyncAttempt, SyncedRecord
from app.errors import Conflict, NotFound, Unprocessable
from app.synced_records import queries
from app.synced_records.schemas import AttemptOut, SyncedRecordOut

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
    session: AsyncSession, entity: Entity, record_id: uuid.UUID, object_id: uuid.UUID
) -> SyncedRecord:
    """Link an ambiguous (or unlinked) pulled contact or item to the chosen object.

    Raises:
        Conflict: the record is a pushed document, or already linked.
        Unprocessable: the object is not the entity's, is of the wrong kind, or is linked to
            another provider record on this connection.
    """
    record = await get(session, entity.id, record_id)
    if record.object_type in PUSHED_TYPES:
        raise Conflict("Only customer, vendor and product records are linked by hand")
    if record.sync_status == "done" and record.object_id is not None:
        raise Conflict("The record is already linked; it is done")
    loc: list[str | int] = ["body", "object_id"]
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
    await session.flush()
    return record


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
