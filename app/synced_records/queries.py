"""Queries of the synced-records domain (``synced_records`` and ``sync_attempts``)."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import PulledRecord, SyncAttempt, SyncedRecord
from app.db.reads import read_columns
from app.pagination import Bound


async def of_provider_ids(
    session: AsyncSession, connection_id: uuid.UUID, object_type: str, provider_ids: Sequence[str]
) -> dict[str, SyncedRecord]:
    rows = await session.scalars(
        select(SyncedRecord).where(
            SyncedRecord.connection_id == connection_id,
            SyncedRecord.object_type == object_type,
            SyncedRecord.provider_object_id.in_(provider_ids),
        )
    )
    return {r.provider_object_id: r for r in rows if r.provider_object_id}


async def linked_object_ids(
    session: AsyncSession, connection_id: uuid.UUID, object_type: str
) -> set[str]:
    """Our object ids already bound to a provider record on this connection."""
    rows = await session.scalars(
        select(SyncedRecord.object_id).where(
            SyncedRecord.connection_id == connection_id,
            SyncedRecord.object_type == object_type,
            SyncedRecord.object_id.is_not(None),
        )
    )
    return {str(r) for r in rows}


async def of_object(
    session: AsyncSession, connection_id: uuid.UUID, object_type: str, object_id: uuid.UUID
) -> SyncedRecord | None:
    return await session.scalar(
        select(SyncedRecord).where(
            SyncedRecord.connection_id == connection_id,
            SyncedRecord.object_type == object_type,
            SyncedRecord.object_id == object_id,
        )
    )


async def get_for_entity(
    session: AsyncSession, entity_id: uuid.UUID, record_id: uuid.UUID
) -> SyncedRecord | None:
    return await session.scalar(
        select(SyncedRecord).where(
            SyncedRecord.id == record_id, SyncedRecord.entity_id == entity_id
        )
    )


async def lock(session: AsyncSession, record_id: uuid.UUID) -> SyncedRecord | None:
    """The record, row-locked on PostgreSQL (SQLite serialises writers anyway)."""
    stmt = select(SyncedRecord).where(SyncedRecord.id == record_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def by_push_key(
    session: AsyncSession, connection_ids: Sequence[uuid.UUID], push_operation_key: str
) -> SyncedRecord | None:
    """The synced record whose current push is ``push_operation_key``, or whose attempt
    history has it (a late outcome of an earlier attempt)."""
    record = await session.scalar(
        select(SyncedRecord).where(
            SyncedRecord.connection_id.in_(connection_ids),
            SyncedRecord.push_operation_key == push_operation_key,
        )
    )
    if record is not None:
        return record
    return await session.scalar(
        select(SyncedRecord)
        .join(SyncAttempt, SyncAttempt.synced_record_id == SyncedRecord.id)
        .where(
            SyncedRecord.connection_id.in_(connection_ids),
            SyncAttempt.push_operation_key == push_operation_key,
        )
    )


async def due(session: AsyncSession, now: dt.datetime, limit: int = 500) -> list[uuid.UUID]:
    """Push records waiting for an attempt: ``pending`` and due (new, or a retry whose time has
    come), or in flight for long enough that the push operation should be polled."""
    rows = await session.scalars(
        select(SyncedRecord.id)
        .where(
            SyncedRecord.object_type.in_(("bill", "receivable", "customer", "vendor", "product")),
            or_(
                and_(
                    SyncedRecord.sync_status == "pending",
                    or_(
                        SyncedRecord.next_attempt_at.is_(None), SyncedRecord.next_attempt_at <= now
                    ),
                ),
                and_(SyncedRecord.sync_status == "error", SyncedRecord.next_attempt_at <= now),
            ),
        )
        .limit(limit)
    )
    return list(rows)


async def attempts_of(session: AsyncSession, record_id: uuid.UUID) -> Sequence[SyncAttempt]:
    return (
        await session.scalars(
            select(SyncAttempt)
            .where(SyncAttempt.synced_record_id == record_id)
            .order_by(SyncAttempt.number)
        )
    ).all()


#: What the list answers with (``service.to_out``): fewer columns, fewer values converted.
#: UUIDs and timestamps are read through ``app.db.reads`` (one closure per value).
LIST_COLUMNS = read_columns(
    SyncedRecord.__table__,
    (
        "id", "created_at", "updated_at", "object_type", "sync_status", "provider",
        "last_pulled_at", "object_id", "object_updated_at", "platform", "platform_object_id",
        "platform_updated_at", "provider_object_id", "provider_updated_at", "errors",
        "attempts", "next_attempt_at",
    ),
)  # fmt: skip


def list_stmt(
    entity_id: uuid.UUID,
    object_type: str,
    filters: dict[str, Any],
    seek: tuple[dt.datetime, bool] | None = None,
) -> Bound:
    """The list endpoint's query; ``filters`` as parsed by the route (see ``routes``).

    ``seek`` is ``(value, ascending)`` of a pagination token: a bound on the sort column
    (``>= value`` when the page is read ascending, ``<= value`` descending) that the keyset
    condition implies. The paginator's ``a > x OR (a = x AND id > y)`` alone is a filter the
    databases apply row by row from the start of the list (a page deep in a 1,000,000-row list
    took 125 ms on SQLite, bench/synced_records.py); with the bound, the index scan starts at
    the token's position.

    It selects the columns of :data:`LIST_COLUMNS`: Core rows, not ORM objects (loading 100
    ORM objects and reading their attributes was a fifth of the request, issue 17);
    ``service.to_out`` reads either. The statement is built once per shape (which filters,
    sort, seek direction: :func:`_list_shape`) with every value a bind parameter.
    """
    dates = tuple(
        key
        for key in (f"{c}__{op}" for c in ("created_at", "updated_at") for op in _DATE_OPS)
        if filters.get(key) is not None
    )
    params: dict[str, Any] = {"entity_id": entity_id, "object_type": object_type}
    params.update((key, dt.datetime.fromisoformat(filters[key])) for key in dates)
    if seek is not None:
        params["seek"] = seek[0]
    if filters.get("object_id"):
        params["object_id"] = uuid.UUID(filters["object_id"])
    if filters.get("object_id__in"):
        params["object_ids"] = [uuid.UUID(x) for x in filters["object_id__in"]]
    if filters.get("sync_status"):
        params["sync_status"] = filters["sync_status"]
    shape = _list_shape(
        filters.get("sort", "created_at"),
        None if seek is None else seek[1],
        "object_id" in params,
        "object_ids" in params,
        "sync_status" in params,
        dates,
    )
    return Bound(shape, params)


_DATE_OPS = {"gt": "__gt__", "lt": "__lt__", "gte": "__ge__", "lte": "__le__"}


@functools.lru_cache(maxsize=256)
def _list_shape(
    sort: str,
    seek_ascending: bool | None,
    object_id: bool,
    object_ids: bool,
    sync_status: bool,
    dates: tuple[str, ...],
) -> Select[Any]:
    """:func:`list_stmt`'s statement for one shape; values are the bind parameters
    ``entity_id``, ``object_type``, ``seek``, ``object_id``, ``object_ids``, ``sync_status``
    and each date filter's name (``created_at__gt``...)."""
    conds = [
        SyncedRecord.entity_id == bindparam("entity_id"),
        SyncedRecord.object_type == bindparam("object_type"),
    ]
    if seek_ascending is not None:
        sort_col = getattr(SyncedRecord, sort)
        bound = bindparam("seek", type_=sort_col.type)
        conds.append(sort_col >= bound if seek_ascending else sort_col <= bound)
    if object_id:
        conds.append(SyncedRecord.object_id == bindparam("object_id"))
    if object_ids:
        conds.append(SyncedRecord.object_id.in_(bindparam("object_ids", expanding=True)))
    if sync_status:
        conds.append(SyncedRecord.sync_status == bindparam("sync_status"))
    for key in dates:
        column, op = key.split("__")
        col = getattr(SyncedRecord, column)
        conds.append(getattr(col, _DATE_OPS[op])(bindparam(key, type_=col.type)))
    return select(*LIST_COLUMNS).where(and_(*conds))


async def count_by_status(
    session: AsyncSession, entity_id: uuid.UUID
) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(SyncedRecord.object_type, SyncedRecord.sync_status, func.count())
        .where(SyncedRecord.entity_id == entity_id)
        .group_by(SyncedRecord.object_type, SyncedRecord.sync_status)
    )
    return {(t, s): n for t, s, n in rows}


async def errored(
    session: AsyncSession, entity_id: uuid.UUID, object_type: str, limit: int
) -> list[SyncedRecord]:
    """Records of a type in ``error`` and not in flight, oldest first."""
    rows = await session.scalars(
        select(SyncedRecord)
        .where(
            SyncedRecord.entity_id == entity_id,
            SyncedRecord.object_type == object_type,
            SyncedRecord.sync_status == "error",
            SyncedRecord.push_operation_key.is_(None),
        )
        .order_by(SyncedRecord.created_at, SyncedRecord.id)
        .limit(limit)
    )
    return list(rows)


async def insert_pending_once(
    session: AsyncSession, connection: Any, object_type: str, object_id: uuid.UUID
) -> None:
    """Insert a ``pending`` synced record for an object unless one exists (race-free:
    ``ON CONFLICT DO NOTHING`` on (connection, object_type, object_id))."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stamp = dt.datetime.now(dt.UTC)
    await session.execute(
        dialect.insert(SyncedRecord.__table__)
        .values(
            id=uuid.uuid4(),
            created_at=stamp,
            updated_at=stamp,
            entity_id=connection.entity_id,
            connection_id=connection.id,
            object_type=object_type,
            object_id=object_id,
            sync_status="pending",
            provider="codat",
            platform=connection.platform,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["connection_id", "object_type", "object_id"])
    )


async def pulled_contact(
    session: AsyncSession, connection_id: uuid.UUID, data_type: str, provider_id: str
) -> PulledRecord | None:
    """A live (not deleted) pulled record of ``data_type`` on the connection, by provider id:
    what a person may link a pushed counterpart to."""
    return await session.scalar(
        select(PulledRecord).where(
            PulledRecord.connection_id == connection_id,
            PulledRecord.data_type == data_type,
            PulledRecord.provider_id == provider_id,
            PulledRecord.is_deleted.is_(False),
        )
    )


async def documents_in_error(
    session: AsyncSession,
    entity_id: uuid.UUID,
    key: str,
    value: str,
    *,
    limit: int = 1000,
) -> list[SyncedRecord]:
    """The entity's pushed documents (bills, receivables) in ``error`` whose ``errors[key]``
    is ``value``, oldest first, on any of its connections: those waiting for a dependency a
    person must decide (``waiting_for``: its record id) or for a connection (``code``:
    ``no_connection``)."""
    rows = await session.scalars(
        select(SyncedRecord)
        .where(
            SyncedRecord.entity_id == entity_id,
            SyncedRecord.object_type.in_(("bill", "receivable")),
            SyncedRecord.sync_status == "error",
        )
        .order_by(SyncedRecord.created_at, SyncedRecord.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return [r for r in rows if (r.errors or {}).get(key) == value]
