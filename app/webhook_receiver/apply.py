"""Applying stored webhook events, once each, in any order.

Each due event is applied in its own transaction; failure keeps ``attempts`` and
``last_error`` and schedules the next attempt with capped exponential backoff. An event about
a company no entity has is marked ``unknown_company`` and applied to nothing; a push outcome
for a push key not recorded yet is retried (the push job may not have committed it yet).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

import webhooks
from app import metrics
from app.connections import health
from app.connections import queries as connection_queries
from app.connections.service import apply_provider_status, carry_over
from app.db.models import WebhookEvent
from app.jobs import JobContext
from app.webhook_receiver import queries

log = logging.getLogger("acctsync.webhooks")
BATCH = 200
MAX_BACKOFF = 3600.0
#: A push outcome whose push key is still unknown after this many tries is parked.
MAX_UNKNOWN_PUSH_ATTEMPTS = 8


class RetryLater(Exception):
    """The event refers to something not stored yet; try again later."""


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 2^n capped at an hour, with full jitter."""
    return random.uniform(0.5, 1.0) * min(MAX_BACKOFF, 2.0 ** min(attempts, 12))


async def drain(ctx: JobContext) -> int:
    """Apply every due stored event; returns how many were settled."""
    settled = 0
    while True:
        now = dt.datetime.now(dt.UTC)
        async with ctx.sessionmaker() as session:
            batch = list(await queries.due_events(session, now, BATCH))
        if not batch:
            return settled
        for row in batch:
            if await apply_one(ctx, row.id):
                settled += 1
        if len(batch) < BATCH:
            return settled


async def apply_one(ctx: JobContext, event_id: uuid.UUID) -> bool:
    """Apply one stored event. True when it is settled (applied, ignored or parked)."""
    async with ctx.sessionmaker() as session:
        row = await session.get(WebhookEvent, event_id)
        if row is None or row.processed_at is not None:
            return False
        try:
            event = webhooks.decode_event(row.body, message_id=row.message_id)
            outcome = await _apply(ctx, session, row, event)
        except RetryLater as exc:
            await session.rollback()
            return await _failed(ctx, event_id, str(exc), retry_limit=MAX_UNKNOWN_PUSH_ATTEMPTS)
        except Exception as exc:  # handled: kept on the row and retried
            log.exception("webhook event %s failed", event_id)
            await session.rollback()
            return await _failed(ctx, event_id, f"{type(exc).__name__}: {exc}", retry_limit=None)
        row.processed_at = dt.datetime.now(dt.UTC)
        row.outcome = outcome
        row.attempts += 1
        received_at = row.received_at
        await session.commit()
        metrics.webhook_applied(outcome, received_at)
        return True


async def _failed(
    ctx: JobContext, event_id: uuid.UUID, error: str, retry_limit: int | None
) -> bool:
    async with ctx.sessionmaker() as session:
        row = await session.get(WebhookEvent, event_id)
        if row is None:
            return False
        row.attempts += 1
        row.last_error = error[:2000]
        if retry_limit is not None and row.attempts >= retry_limit:
            row.processed_at = dt.datetime.now(dt.UTC)
            row.outcome = "unknown_reference"
            await session.commit()
            return True
        row.next_attempt_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=backoff(row.attempts))
        await session.commit()
        return False


async def _apply(
    ctx: JobContext, session: AsyncSession, row: WebhookEvent, event: webhooks.WebhookEvent
) -> str:
    if isinstance(event, webhooks.Ignored):
        return "ignored"
    company_id = event.company_id
    connection_id = getattr(event, "connection_id", None)
    connections = await connection_queries.by_provider_ids(
        session, company_id, connection_id, row.partner_id
    )
    if not connections:
        log.warning("webhook %s: company %s belongs to no entity", row.message_id, company_id)
        return "unknown_company"
    if isinstance(event, webhooks.ConnectionStatusChanged):
        # locked (and re-read) before it changes: a pull writing ``errors`` now waits
        conn = await connection_queries.locked(session, connections[0].id) or connections[0]
        errors = list(event.errors) if event.errors is not None else None
        became_connected = apply_provider_status(
            conn,
            event.status,
            occurred_at=event.occurred_at,
            platform_key=event.platform_key,
            provider_connection_id=event.connection_id,
            errors=errors,
        )
        await session.flush()
        if became_connected:
            await carry_over(session, conn)
            await session.commit()
            await ctx.jobs.ensure_pull_schedule(conn.id)
            await ctx.jobs.enqueue("pull_connection", connection_id=str(conn.id))
        elif conn.status in ("disconnected", "deauthorized"):
            await session.commit()
            await ctx.jobs.remove_pull_schedule(conn.id)
        return "applied"
    if isinstance(event, webhooks.DataSyncCompleted):
        queued = 0
        for listed in connections:
            conn = await connection_queries.locked(session, listed.id) or listed
            for failed in event.failed_data_types:
                name = health.pulled_data_type(failed)
                health.record(
                    conn, "data_sync_error", f"The provider's sync of {failed} failed", name
                )
            if conn.status == "connected":
                await ctx.jobs.enqueue(
                    "pull_connection",
                    connection_id=str(conn.id),
                    data_types=[health.pulled_data_type(d) for d in event.data_types],
                )
                queued += 1
        return "applied" if queued else "not_connected"
    if isinstance(event, webhooks.DataSyncError):
        for listed in connections:
            conn = await connection_queries.locked(session, listed.id) or listed
            message = event.message or f"data sync error ({event.data_type or 'unknown data type'})"
            health.record(
                conn, "data_sync_error", message, health.pulled_data_type(event.data_type)
            )
        return "applied"
    if isinstance(event, webhooks.PushOperationChanged):
        from app.sync import push

        found = await push.settle_from_event(ctx, session, connections, event)
        if not found:
            raise RetryLater(f"push operation {event.push_operation_key} is not recorded yet")
        return "applied"
    return "ignored"
