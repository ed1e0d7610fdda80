"""Queries of the connections domain."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    AccountingConnection,
    AccountingTaxRate,
    Entity,
    LedgerAccount,
    ProviderCompany,
    PullCursor,
    PulledRecord,
    SyncedRecord,
)
from app.synced_records import queries as synced_queries


async def get(
    session: AsyncSession, entity_id: uuid.UUID, connection_id: uuid.UUID
) -> AccountingConnection | None:
    return await session.scalar(
        select(AccountingConnection).where(
            AccountingConnection.id == connection_id, AccountingConnection.entity_id == entity_id
        )
    )


async def by_id(session: AsyncSession, connection_id: uuid.UUID) -> AccountingConnection | None:
    return await session.get(AccountingConnection, connection_id)


async def locked(session: AsyncSession, connection_id: uuid.UUID) -> AccountingConnection | None:
    """The connection re-read from the database and locked against every other writer until
    the session's transaction ends: a read-modify-write of its ``errors`` (a JSON column the
    pull and the webhook receiver both change) then loses no update.

    PostgreSQL: ``SELECT ... FOR UPDATE`` (a row lock; another worker process waits for it).
    SQLite: a no-op ``UPDATE`` of the row first takes the database's write lock (the driver
    starts a transaction only at a write, so a plain read would hold nothing), then the row is
    read. An object already in the session is overwritten with what was read, so lock before
    changing it.
    """
    where = AccountingConnection.id == connection_id
    if (await session.connection()).dialect.name == "postgresql":
        return await session.scalar(
            select(AccountingConnection)
            .where(where)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    await session.execute(
        update(AccountingConnection)
        .where(where)
        # both columns set to themselves: nothing changes, ``updated_at`` included
        .values(errors=AccountingConnection.errors, updated_at=AccountingConnection.updated_at)
        .execution_options(synchronize_session=False)
    )
    return await session.get(AccountingConnection, connection_id, populate_existing=True)


async def active_of_entity(
    session: AsyncSession, entity_id: uuid.UUID
) -> AccountingConnection | None:
    """The entity's connection that is not ``disconnected`` (at most one exists)."""
    return await session.scalar(
        select(AccountingConnection).where(
            AccountingConnection.entity_id == entity_id,
            AccountingConnection.status != "disconnected",
        )
    )


def list_stmt(entity_id: uuid.UUID) -> Select[tuple[AccountingConnection]]:
    return select(AccountingConnection).where(AccountingConnection.entity_id == entity_id)


async def provider_company(session: AsyncSession, entity_id: uuid.UUID) -> ProviderCompany | None:
    return await session.scalar(
        select(ProviderCompany).where(ProviderCompany.entity_id == entity_id)
    )


async def by_provider_ids(
    session: AsyncSession,
    company_id: str,
    connection_id: str | None,
    partner_id: uuid.UUID | None,
) -> list[AccountingConnection]:
    """Connections of a provider company (narrowed to a provider connection id when given, and
    to one partner's entities when ``partner_id`` is set), newest first."""
    stmt = select(AccountingConnection).where(
        AccountingConnection.provider_company_id == company_id
    )
    if partner_id is not None:
        stmt = stmt.join(Entity, Entity.id == AccountingConnection.entity_id).where(
            Entity.partner_id == partner_id
        )
    rows = list(
        (await session.scalars(stmt.order_by(AccountingConnection.created_at.desc()))).all()
    )
    if connection_id is None:
        return rows
    exact = [r for r in rows if r.provider_connection_id == connection_id]
    if exact:
        return exact
    # A connection made on the company's link page: bind it to our row awaiting one.
    return [r for r in rows if r.provider_connection_id is None and r.status != "disconnected"][:1]


async def with_status(session: AsyncSession, status: str) -> Sequence[AccountingConnection]:
    return (
        await session.scalars(
            select(AccountingConnection).where(AccountingConnection.status == status)
        )
    ).all()


async def entity_of(session: AsyncSession, connection: AccountingConnection) -> Entity:
    entity = await session.get(Entity, connection.entity_id)
    assert entity is not None
    return entity


async def pull_cursors(session: AsyncSession, connection_id: uuid.UUID) -> Sequence[PullCursor]:
    """The connection's per-data-type pull state rows."""
    return (
        await session.scalars(select(PullCursor).where(PullCursor.connection_id == connection_id))
    ).all()


async def take_manual_sync(
    session: AsyncSession, connection_id: uuid.UUID, today: dt.date, limit: int
) -> int | None:
    """Count one manual sync of the connection on ``today`` if fewer than ``limit`` were
    taken that day (one atomic UPDATE: concurrent requests cannot both take the last one).
    Returns how many that day has left after this one, or None when none was left."""
    c = AccountingConnection
    taken = await session.execute(
        update(c)
        .where(
            c.id == connection_id,
            or_(c.manual_sync_day.is_(None), c.manual_sync_day != today, c.manual_syncs < limit),
        )
        .values(
            manual_syncs=case((c.manual_sync_day == today, c.manual_syncs + 1), else_=1),
            manual_sync_day=today,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 0:  # type: ignore[attr-defined]
        return None
    used = await session.scalar(select(c.manual_syncs).where(c.id == connection_id))
    return max(0, limit - int(used or 0))


async def previous_of_same_company(
    session: AsyncSession, c: AccountingConnection
) -> AccountingConnection | None:
    """The entity's most recent disconnected connection to the same accounting company as
    ``c``: the same provider company and the same platform (None without a platform)."""
    if c.platform is None:
        return None
    return await session.scalar(
        select(AccountingConnection)
        .where(
            AccountingConnection.entity_id == c.entity_id,
            AccountingConnection.id != c.id,
            AccountingConnection.status == "disconnected",
            AccountingConnection.provider_company_id == c.provider_company_id,
            AccountingConnection.platform == c.platform,
        )
        .order_by(AccountingConnection.created_at.desc())
        .limit(1)
    )


async def move_pulled_rows(session: AsyncSession, old_id: uuid.UUID, new_id: uuid.UUID) -> None:
    """Move a connection's pulled ledger accounts, tax rates, records and synced records (with
    their attempts) to another connection: the rows, and so their ids, stay the same. The
    target must have none of its own yet (the unique keys include the connection)."""
    for model in (LedgerAccount, AccountingTaxRate, PulledRecord, SyncedRecord):
        await session.execute(
            update(model)
            .where(model.connection_id == old_id)
            .values(connection_id=new_id)
            .execution_options(synchronize_session=False)
        )


async def latest_of_entity(
    session: AsyncSession, entity_id: uuid.UUID, status: str
) -> AccountingConnection | None:
    """The entity's most recently created connection in ``status``."""
    return await session.scalar(
        select(AccountingConnection)
        .where(AccountingConnection.entity_id == entity_id, AccountingConnection.status == status)
        .order_by(AccountingConnection.created_at.desc())
        .limit(1)
    )


async def waiting_documents(session: AsyncSession, entity_id: uuid.UUID) -> list[SyncedRecord]:
    """The entity's document synced records that wait for a connection (see
    ``app.sync.hooks``: ``errors.code`` ``no_connection``), on any of its connections."""
    waiting = await synced_queries.documents_in_error(session, entity_id, "code", "no_connection")
    return [r for r in waiting if r.next_attempt_at is None]


async def has_record(
    session: AsyncSession, connection_id: uuid.UUID, object_type: str, object_id: uuid.UUID
) -> bool:
    return (
        await session.scalar(
            select(SyncedRecord.id).where(
                SyncedRecord.connection_id == connection_id,
                SyncedRecord.object_type == object_type,
                SyncedRecord.object_id == object_id,
            )
        )
    ) is not None
