"""The task functions APScheduler runs (referenced as ``app.jobs.tasks:<name>``).

Each is safe to run twice: webhook events are marked processed, pulls are upserts behind
cursors, pushes re-read their synced record and carry idempotency keys.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from app.connections import queries as connection_queries
from app.connections.service import apply_connection_snapshot
from app.jobs.runner import JobContext, current_context
from app.providers import ProviderError
from app.providers.factory import NoProviderKey

log = logging.getLogger("acctsync.jobs")


async def apply_webhook_events() -> int:
    """Apply every due stored webhook event."""
    from app.webhook_receiver.apply import drain

    ctx = current_context()
    ctx.jobs.drain_started()
    return await drain(ctx)


async def pull_connection(connection_id: str, data_types: list[str] | None = None) -> None:
    """Pull a connection (all data types, or the ones a webhook named)."""
    from app.sync.pull import pull

    await pull(current_context(), uuid.UUID(connection_id), data_types)


async def push_synced_record(synced_record_id: str) -> None:
    """Push (or settle) one synced record."""
    from app.sync.push import run_push

    await run_push(current_context(), uuid.UUID(synced_record_id))


async def check_pending_connections() -> None:
    """Ask the provider about connections still ``pending_auth`` (a lost webhook must not
    strand a connection)."""
    ctx = current_context()
    async with ctx.sessionmaker() as session:
        pending = list(await connection_queries.with_status(session, "pending_auth"))
        for conn in pending:
            entity = await connection_queries.entity_of(session, conn)
            try:
                provider = await ctx.provider_for(entity.partner_id)
                if conn.provider_connection_id:
                    remote = [
                        await provider.get_connection(
                            conn.provider_company_id, conn.provider_connection_id
                        )
                    ]
                else:
                    remote = await provider.list_connections(conn.provider_company_id)
            except (ProviderError, NoProviderKey) as exc:
                log.warning("pending connection %s: %s", conn.id, exc)
                continue
            linked = [r for r in remote if r.status == "Linked"] or remote[:1]
            if linked and apply_connection_snapshot(conn, linked[0]):
                await session.commit()
                await ctx.jobs.ensure_pull_schedule(conn.id)
                await ctx.jobs.enqueue("pull_connection", connection_id=str(conn.id))
        await session.commit()


async def sweep() -> None:
    """Re-queue work the tables say is due: webhook events, push retries, pending checks."""
    ctx = current_context()
    await ctx.jobs.request_webhook_drain()
    from app.sync.push import due_records

    async with ctx.sessionmaker() as session:
        due = await due_records(session, dt.datetime.now(dt.UTC))
    for record_id in due:
        await ctx.jobs.enqueue("push_synced_record", synced_record_id=str(record_id))
    await check_pending_connections()


async def reconcile_schedules(ctx: JobContext) -> None:
    """One pull schedule per connected connection; none for the others."""
    async with ctx.sessionmaker() as session:
        connected = await connection_queries.with_status(session, "connected")
        ids = {c.id for c in connected}
        never_pulled = [c.id for c in connected if c.last_pull is None]
    for connection_id in ids:
        await ctx.jobs.ensure_pull_schedule(connection_id)
    for connection_id in never_pulled:  # a first pull lost to a crash or restart
        await ctx.jobs.enqueue("pull_connection", connection_id=str(connection_id))
    for schedule in await ctx.jobs.scheduler.get_schedules():
        if schedule.id.startswith("pull:"):
            try:
                connection_id = uuid.UUID(schedule.id.removeprefix("pull:"))
            except ValueError:
                continue
            if connection_id not in ids:
                await ctx.jobs.remove_pull_schedule(connection_id)
