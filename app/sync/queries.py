"""Queries of the sync engine: batched upserts of pulled data and pull cursors."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.models import AccountingTaxRate, LedgerAccount, PullCursor, PulledRecord


def _insert(session: AsyncSession, table: Table) -> Any:
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def upsert(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """Insert ``rows`` into ``model``'s table, updating every non-key column on conflict.

    One ``INSERT .. ON CONFLICT DO UPDATE`` executed for many parameter sets: SQLAlchemy's
    "insertmanyvalues" batches them into multi-row statements compiled once and cached
    (compiling one literal multi-row statement per page cost more than the database work).
    """
    if not rows:
        return
    table: Table = model.__table__
    now = dt.datetime.now(dt.UTC)
    updatable = [c for c in rows[0] if c not in keys]
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={**{c: stmt.excluded[c] for c in updatable}, "updated_at": stmt.excluded.updated_at},
    )
    await session.execute(
        stmt, [{"id": uuid.uuid4(), "created_at": now, "updated_at": now, **r} for r in rows]
    )


async def upsert_ledger_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(session, LedgerAccount, rows, ["connection_id", "provider_id"])


async def upsert_tax_rates(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(session, AccountingTaxRate, rows, ["connection_id", "provider_id"])


async def upsert_pulled(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert ``pulled_row`` rows (``app.sync.pull``) keyed by (connection, data type,
    provider id). On SQLite the values are converted here, once per row with a shared
    connection id and timestamp per page, and go to the driver's ``executemany``: SQLAlchemy's
    per-value bind processing (UUID, two type layers per timestamp) was about a third of a
    large pull's time (issue 17). The stored values are the same as SQLAlchemy writes."""
    if not rows:
        return
    if session.bind.dialect.name != "sqlite":
        await upsert(session, PulledRecord, rows, ["connection_id", "data_type", "provider_id"])
        return
    now = _sqlite_timestamp(dt.datetime.now(dt.UTC))
    connection_id, connection_bytes = None, b""
    params = []
    for r in rows:
        if r["connection_id"] is not connection_id:
            connection_id = r["connection_id"]
            connection_bytes = connection_id.bytes
        modified = r["provider_modified_at"]
        params.append(
            (
                uuid.uuid4().bytes,
                now,
                now,
                connection_bytes,
                r["data_type"],
                r["provider_id"],
                r["name"],
                r["raw"],
                bool(r["is_deleted"]),
                None if modified is None else _sqlite_timestamp(modified),
            )
        )
    conn = await session.connection()
    await conn.exec_driver_sql(_UPSERT_PULLED_SQLITE, params)


#: `upsert_pulled` on SQLite: the statement SQLAlchemy compiles for `upsert`, as text.
_UPSERT_PULLED_SQLITE = (
    "INSERT INTO pulled_records (id, created_at, updated_at, connection_id, data_type, "
    "provider_id, name, raw, is_deleted, provider_modified_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (connection_id, data_type, provider_id) DO UPDATE SET "
    "name = excluded.name, raw = excluded.raw, is_deleted = excluded.is_deleted, "
    "provider_modified_at = excluded.provider_modified_at, updated_at = excluded.updated_at"
)


def _sqlite_timestamp(value: dt.datetime) -> str:
    """An aware datetime as advanced-alchemy's ``DateTimeUTC`` stores it on SQLite
    (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC).

    Raises:
        TypeError: ``value`` is naive (as ``DateTimeUTC`` does).
    """
    if value.tzinfo is None:
        raise TypeError("tzinfo is required")
    return value.astimezone(dt.UTC).isoformat(" ", "microseconds")[:26]


async def cursor(session: AsyncSession, connection_id: uuid.UUID, data_type: str) -> PullCursor:
    """The (connection, data type) cursor row, created on first use (race-safe)."""
    stmt = select(PullCursor).where(
        PullCursor.connection_id == connection_id, PullCursor.data_type == data_type
    )
    row = await session.scalar(stmt)
    if row is None:
        now = dt.datetime.now(dt.UTC)
        await session.execute(
            _insert(session, PullCursor.__table__)
            .values(
                id=uuid.uuid4(),
                connection_id=connection_id,
                data_type=data_type,
                last_count=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["connection_id", "data_type"])
        )
        row = await session.scalar(stmt)
        assert row is not None
    return row


_LOCAL_LEASES: dict[uuid.UUID, asyncio.Lock] = {}


@asynccontextmanager
async def lease(engine: AsyncEngine, object_id: uuid.UUID) -> AsyncIterator[bool]:
    """Try to take the exclusive lease of an object (a connection's pull, a synced record's
    push): yields True if this job holds it, False if another job does.

    PostgreSQL: a session-level advisory lock, held across the job's several commits and
    exclusive across every worker; SQLite (one process): an asyncio lock.
    """
    if engine.dialect.name != "postgresql":
        lock = _LOCAL_LEASES.setdefault(object_id, asyncio.Lock())
        if lock.locked():
            yield False
            return
        try:
            async with lock:
                yield True
        finally:
            if not lock.locked():
                _LOCAL_LEASES.pop(object_id, None)
        return
    key = int.from_bytes(object_id.bytes[:8], "big", signed=True)
    async with engine.connect() as conn:
        got = bool(
            (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
        )
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()


async def pulled_of_type(
    session: AsyncSession, connection_id: uuid.UUID, data_type: str, provider_ids: Sequence[str]
) -> Sequence[PulledRecord]:
    return (
        await session.scalars(
            select(PulledRecord).where(
                PulledRecord.connection_id == connection_id,
                PulledRecord.data_type == data_type,
                PulledRecord.provider_id.in_(provider_ids),
            )
        )
    ).all()


async def pulled_by_name_words(
    session: AsyncSession,
    connection_id: uuid.UUID,
    data_type: str,
    words: Sequence[str],
    limit: int = 500,
) -> Sequence[PulledRecord]:
    """Pulled records of a type, not deleted, whose name contains any of ``words``
    (case-insensitive substrings; the caller passes word stems so that a typo later in a word
    still finds it), at most ``limit``."""
    from sqlalchemy import func, or_

    if not words:
        return []
    name = func.lower(PulledRecord.name)
    return (
        await session.scalars(
            select(PulledRecord)
            .where(
                PulledRecord.connection_id == connection_id,
                PulledRecord.data_type == data_type,
                PulledRecord.is_deleted.is_(False),
                or_(*(name.contains(w.lower(), autoescape=True) for w in words)),
            )
            .limit(limit)
        )
    ).all()


def pulled_stmt(connection_id: uuid.UUID, data_type: str) -> Any:
    """Pulled records of one data type of a connection (for the accounting views)."""
    return select(PulledRecord).where(
        PulledRecord.connection_id == connection_id, PulledRecord.data_type == data_type
    )
