"""Connection use cases: connect, read, disconnect, sync, and following the provider's status.

Monite: ``POST /accounting_connections`` creates the provider company once per entity and,
given a platform, a provider connection; the user authorises at ``connection_url``; the
provider's connection webhook (or our periodic check) moves the status on.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.connections import health, queries
from app.connections.platforms import DIRECT_PLATFORMS, PLATFORM_KEYS, platform_of_key
from app.connections.schemas import ConnectionOut, DataTypeSyncStatus, ErrorOut, SyncStatusOut
from app.connections.smarty_link import link_url
from app.db.models import AccountingConnection, Entity, ProviderCompany
from app.errors import Conflict, NotFound, Unprocessable
from app.providers import Connection, ProviderError
from app.providers.factory import NoProviderKey, ProviderFactory
from app.providers.smarty import forget_tokens

log = logging.getLogger("acctsync.connections")

#: Codat connection status -> ours (Monite's enum).
STATUS_FROM_PROVIDER = {
    "PendingAuth": "pending_auth",
    "Linked": "connected",
    "Unlinked": "disconnected",
    "Deauthorized": "deauthorized",
}
# A status never moves back: a late PendingAuth does not reset a connected connection, and a
# disconnected connection stays so (reconnecting makes a new connection). connected and
# deauthorized follow each other by the event time when it is known.
_RANK = {"pending_auth": 0, "connected": 1, "deauthorized": 1, "disconnected": 2}


def _error_out(e: dict[str, Any]) -> ErrorOut:
    return ErrorOut(
        code=e["code"],
        message=e["message"],
        data_type=e["data_type"],
        first_seen_at=dt.datetime.fromisoformat(e["first_seen_at"]),
        last_seen_at=dt.datetime.fromisoformat(e["last_seen_at"]),
    )


def to_out(c: AccountingConnection) -> ConnectionOut:
    """The API shape of a connection (``connection_url`` is always present; ``errors`` the
    current problems, oldest seen first, or null when there are none)."""
    errors = [_error_out(e) for e in health.problems(c)] or None
    return ConnectionOut(
        id=c.id,
        created_at=c.created_at,
        updated_at=c.updated_at,
        connection_url=c.connection_url,
        status=c.status,  # type: ignore[arg-type]
        platform=c.platform,
        last_pull=c.last_pull,
        errors=errors,
    )


def _entity_name(entity: Entity) -> str:
    if entity.legal_name:
        return entity.legal_name
    return f"{entity.first_name or ''} {entity.last_name or ''}".strip() or str(entity.id)


@dataclass(frozen=True)
class SyncQuota:
    """The outcome of asking for a manual sync: ``allowed``, the daily ``limit``, how many
    are ``remaining`` today (UTC) and ``retry_after`` seconds until the quota resets."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int


async def take_manual_sync(
    session: AsyncSession,
    entity_id: uuid.UUID,
    connection_id: uuid.UUID,
    limit: int,
    now: dt.datetime | None = None,
) -> SyncQuota:
    """Take one of the connection's manual syncs of the day (UTC), ``limit`` a day.

    Raises:
        NotFound: not this entity's connection.
        Conflict: the connection is not connected (nothing is counted).
    """
    c = await get(session, entity_id, connection_id)
    if c.status != "connected":
        raise Conflict(f"Connection is {c.status}; only a connected connection can sync")
    now = now or dt.datetime.now(dt.UTC)
    tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    retry_after = max(1, int((tomorrow - now).total_seconds() + 0.999))
    remaining = await queries.take_manual_sync(session, c.id, now.date(), limit)
    if remaining is None:
        return SyncQuota(False, limit, 0, retry_after)
    return SyncQuota(True, limit, remaining, retry_after)


def stale_after(pull_interval_seconds: int) -> dt.timedelta:
    """How old the last complete pull of a connected connection may be before it is stale:
    two scheduled intervals and ten minutes (a pull that failed once is retried well within)."""
    return dt.timedelta(seconds=2 * pull_interval_seconds + 600)


async def sync_status(
    session: AsyncSession,
    entity_id: uuid.UUID,
    connection_id: uuid.UUID,
    pull_interval_seconds: int = 3600,
    now: dt.datetime | None = None,
) -> SyncStatusOut:
    """Per data type pull state and the connection's current problems.

    A data type's ``error`` is its own problem or, failing that, a connection-wide one
    (every data type is blocked by it). ``stale``: connected, and the last complete pull
    (or, never pulled, the connection) is older than :func:`stale_after` ``(interval)``,
    whatever the reason (failing pulls, or no worker running them). Raises NotFound unless
    the entity's connection.
    """
    c = await get(session, entity_id, connection_id)
    cursors = {r.data_type: r for r in await queries.pull_cursors(session, c.id)}
    found = health.problems(c)
    wide = [e for e in found if e["data_type"] is None]
    data = []
    for data_type in (
        *health.PULLED_DATA_TYPES,
        *sorted(set(cursors) - set(health.PULLED_DATA_TYPES)),
    ):
        row = cursors.get(data_type)
        own = [e for e in found if e["data_type"] == data_type]
        problem = (own or wide or [None])[-1]
        data.append(
            DataTypeSyncStatus(
                data_type=data_type,
                last_attempt_at=row.last_run_at if row else None,
                last_success_at=row.last_success_at if row else None,
                records_read=row.last_count if row and row.last_success_at else 0,
                records_changed=row.last_changed if row and row.last_success_at else 0,
                error=_error_out(problem) if problem else None,
            )
        )
    since = c.last_pull or c.connected_at or c.created_at
    stale = (
        c.status == "connected"
        and since is not None
        and ((now or dt.datetime.now(dt.UTC)) - since > stale_after(pull_interval_seconds))
    )
    healthy = (
        c.status == "connected"
        and not found
        and not stale
        and all(d.last_success_at is not None for d in data)
    )
    return SyncStatusOut(
        connection_id=c.id,
        status=c.status,  # type: ignore[arg-type]
        healthy=healthy,
        stale=stale,
        last_pull=c.last_pull,
        data=data,
        errors=[_error_out(e) for e in found],
    )


async def connect(
    session: AsyncSession, providers: ProviderFactory, entity: Entity, platform: str | None
) -> AccountingConnection:
    """Create the provider company (once per entity) and, given a platform, a connection.

    Raises:
        Unprocessable: unknown platform.
        Conflict: the entity has a connection that is not disconnected, or the partner has no
            provider API key configured.
        ProviderError: the provider refused or is unavailable (answered as 502/503).
    """
    if platform is not None and platform not in PLATFORM_KEYS and platform not in DIRECT_PLATFORMS:
        known = sorted([*PLATFORM_KEYS, *DIRECT_PLATFORMS])
        raise Unprocessable.field(
            ["body", "platform"], f"unknown platform {platform!r}; one of: {', '.join(known)}"
        )
    if await queries.active_of_entity(session, entity.id) is not None:
        raise Conflict("The entity already has an accounting connection that is not disconnected")
    if platform in DIRECT_PLATFORMS:
        return await _connect_direct(session, providers, entity, platform)
    try:
        provider = await providers.for_partner(entity.partner_id)
    except NoProviderKey:
        raise Conflict(
            "No accounting provider API key is configured for this partner; "
            "set it with PATCH /v1/settings {accounting: {provider, token}}"
        ) from None
    company = await queries.provider_company(session, entity.id)
    if company is None:
        created = await provider.create_company(
            _entity_name(entity),
            description=f"acctsync entity {entity.id}",
            idempotency_key=f"company:{entity.id}",
        )
        company = ProviderCompany(
            entity_id=entity.id, provider_company_id=created.id, redirect_url=created.redirect or ""
        )
        session.add(company)
        await session.flush()
    connection = AccountingConnection(
        entity_id=entity.id,
        platform=platform,
        status="pending_auth",
        provider_company_id=company.provider_company_id,
        connection_url=company.redirect_url,
        status_changed_at=dt.datetime.now(dt.UTC),
    )
    if platform is not None:
        made = await provider.create_connection(
            company.provider_company_id,
            PLATFORM_KEYS[platform],
            idempotency_key=f"connection:{entity.id}:{uuid.uuid4()}",
        )
        connection.provider_connection_id = made.id
        connection.connection_url = made.link_url or company.redirect_url
    session.add(connection)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "The entity already has an accounting connection that is not disconnected"
        ) from None
    return connection


async def _connect_direct(
    session: AsyncSession, providers: ProviderFactory, entity: Entity, platform: str
) -> AccountingConnection:
    """A connection to a platform reached directly (Smarty Accounting): ``pending_auth``
    until the user gives their credentials at ``connection_url`` (``app.connections.smarty``);
    no provider company, no partner API key needed."""
    connection_id = uuid.uuid4()
    connection = AccountingConnection(
        id=connection_id,
        entity_id=entity.id,
        platform=platform,
        status="pending_auth",
        provider_company_id="",
        connection_url=link_url(providers.settings, connection_id),
        status_changed_at=dt.datetime.now(dt.UTC),
    )
    session.add(connection)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "The entity already has an accounting connection that is not disconnected"
        ) from None
    return connection


async def get(
    session: AsyncSession, entity_id: uuid.UUID, connection_id: uuid.UUID
) -> AccountingConnection:
    """Raises NotFound unless the connection belongs to the entity."""
    c = await queries.get(session, entity_id, connection_id)
    if c is None:
        raise NotFound(f"Accounting connection {connection_id} was not found")
    return c


async def disconnect(
    session: AsyncSession, providers: ProviderFactory, entity: Entity, connection_id: uuid.UUID
) -> AccountingConnection:
    """Unlink at the provider and mark ``disconnected`` (idempotent).

    Raises:
        NotFound: not this entity's connection.
    """
    c = await get(session, entity.id, connection_id)
    if c.status == "disconnected":
        return c
    if c.platform in DIRECT_PLATFORMS:
        await forget_tokens(session, c.id)  # Smarty has no unlink: its tokens are dropped
        providers.forget_smarty(c.id)
    elif c.provider_connection_id:
        provider = await providers.for_partner(entity.partner_id)
        try:
            await provider.unlink_connection(c.provider_company_id, c.provider_connection_id)
        except ProviderError as exc:
            if getattr(exc, "status_code", None) != 404:
                raise
    c.status = "disconnected"
    c.status_changed_at = dt.datetime.now(dt.UTC)
    await session.flush()
    return c


def apply_provider_status(
    c: AccountingConnection,
    provider_status: str,
    *,
    occurred_at: dt.datetime | None,
    platform_key: str | None = None,
    provider_connection_id: str | None = None,
    errors: list[str] | None = None,
) -> bool:
    """Move ``c`` to the provider's status if that is not a step back.

    ``errors``: the provider's current connection error messages (None: not reported); they
    replace the previous ones in the connection's problems. A connection that becomes
    ``connected`` again (re-authorised) loses its connection-wide problems.

    Returns True when the connection has just become ``connected`` (the caller queues the
    first pull and the hourly schedule).
    """
    new = STATUS_FROM_PROVIDER.get(provider_status)
    if provider_connection_id and c.provider_connection_id is None:
        c.provider_connection_id = provider_connection_id
    if platform_key and c.platform is None:
        c.platform = platform_of_key(platform_key)
    stale = (
        occurred_at is not None
        and c.status_changed_at is not None
        and occurred_at < c.status_changed_at
    )
    if errors is not None and not stale and c.status != "disconnected":
        health.set_connection_status_errors(c, errors)
    if new is None or new == c.status:
        return False
    current_rank, new_rank = _RANK[c.status], _RANK[new]
    if new_rank < current_rank:
        return False
    if new_rank == current_rank and occurred_at is not None and c.status_changed_at is not None:
        if occurred_at <= c.status_changed_at:
            return False
    became_connected = new == "connected"
    if became_connected:
        # Re-authorised: what stood against the whole connection is re-checked by the pull
        # that follows (it records the problem again if it is still there).
        health.clear_connection_wide(c)
        if errors:
            health.set_connection_status_errors(c, errors)
    c.status = new
    c.status_changed_at = occurred_at or dt.datetime.now(dt.UTC)
    if became_connected and c.connected_at is None:
        c.connected_at = dt.datetime.now(dt.UTC)
    return became_connected


async def mark_deauthorized(session: AsyncSession, connection_id: uuid.UUID) -> None:
    """The provider refused the connection's own credentials for good (Smarty refused its
    refresh token; its tokens are dropped in the same transaction): a ``connected``
    connection becomes ``deauthorized`` until the user connects again; any other status, or
    a connection that is gone, is left as it is. The caller commits.
    """
    c = await session.get(AccountingConnection, connection_id)
    if c is not None and c.status == "connected":
        c.status = "deauthorized"
        c.status_changed_at = dt.datetime.now(dt.UTC)


async def carry_over(session: AsyncSession, c: AccountingConnection) -> dict[str, Any]:
    """``c`` has just become connected: keep what the partner holds.

    Reconnecting the same accounting company (same provider company and platform as the
    entity's most recent disconnected connection): that connection's pulled ledger accounts,
    tax rates, records and synced records (with their history) move to ``c``, so every id the
    partner holds stays valid and the next pull updates them rather than duplicating them. A
    different company starts clean. Either way, documents that reached a push status while no
    connection was active (synced records waiting with ``errors.code`` ``no_connection``)
    move to ``c`` as ``pending``: the sweep pushes them. Returns what was done,
    ``{"adopted_from": id | None, "documents": n}``.
    """
    previous = await queries.previous_of_same_company(session, c)
    if previous is not None:
        await session.flush()
        await queries.move_pulled_rows(session, previous.id, c.id)
        log.info("connection %s: carried over the pulled data of %s", c.id, previous.id)
    woken = 0
    for record in await queries.waiting_documents(session, c.entity_id):
        if record.connection_id != c.id:
            assert record.object_id is not None
            if await queries.has_record(session, c.id, record.object_type, record.object_id):
                continue
            record.connection_id = c.id
            record.platform = c.platform
        record.sync_status = "pending"
        record.errors = None
        record.next_attempt_at = None
        woken += 1
    await session.flush()
    return {"adopted_from": previous.id if previous else None, "documents": woken}


def apply_connection_snapshot(c: AccountingConnection, remote: Connection) -> bool:
    """Apply a connection read from the provider (the periodic check of pending ones)."""
    errors = [
        e.error_message or e.status_text or "connection error"
        for e in (remote.data_connection_errors or [])
    ]
    return apply_provider_status(
        c,
        remote.status or "",
        occurred_at=None,
        platform_key=remote.integration_key,
        provider_connection_id=remote.id,
        errors=errors,
    )
