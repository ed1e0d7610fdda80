"""Queries of the sync engine: batched upserts of pulled data and pull cursors."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AccountingTaxRate, LedgerAccount, PullCursor, PulledRecord


def _insert(session: AsyncSession, table: Table) -> Any:
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def upsert(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """Insert ``rows`` into ``model``'s table, updating every non-key column on conflict."""
    if not rows:
        return
    table: Table = model.__table__
    now = dt.datetime.now(dt.UTC)
    updatable = [c for c in rows[0] if c not in keys]
    # Stay under SQLite's limit of bound parameters per statement (32,766).
    chunk = max(1, 30_000 // (len(rows[0]) + 3))
    for start in range(0, len(rows), chunk):
        values = [
            {"id": uuid.uuid4(), "created_at": now, "updated_at": now, **r}
            for r in rows[start : start + chunk]
        ]
        stmt = _insert(session, table).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={**{c: stmt.excluded[c] for c in updatable}, "updated_at": now},
        )
        await session.execute(stmt)


async def upsert_ledger_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(session, LedgerAccount, rows, ["connection_id", "provider_id"])


async def upsert_tax_rates(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(session, AccountingTaxRate, rows, ["connection_id", "provider_id"])


async def upsert_pulled(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(session, PulledRecord, rows, ["connection_id", "data_type", "provider_id"])


async def cursor(session: AsyncSession, connection_id: uuid.UUID, data_type: str) -> PullCursor:
    """The (connection, data type) cursor row, created on first use."""
    row = await session.scalar(
        select(PullCursor).where(
            PullCursor.connection_id == connection_id, PullCursor.data_type == data_type
        )
    )
    if row is None:
        row = PullCursor(connection_id=connection_id, data_type=data_type, last_count=0)
        session.add(row)
        await session.flush()
    return row


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


async def pulled_by_name_token(
    session: AsyncSession, connection_id: uuid.UUID, data_type: str, token: str, limit: int = 200
) -> Sequence[PulledRecord]:
    """Pulled records of a type whose name contains ``token`` (case-insensitive), not deleted."""
    from sqlalchemy import func

    return (
        await session.scalars(
            select(PulledRecord)
            .where(
                PulledRecord.connection_id == connection_id,
                PulledRecord.data_type == data_type,
                PulledRecord.is_deleted.is_(False),
                func.lower(PulledRecord.name).contains(token.lower()),
            )
            .limit(limit)
        )
    ).all()
