"""The background tasks, wired at the top as ``app.server`` wires the routes: each is a
domain function (pull, push, webhook drain, pending connections) added to the job runner's
registry (``app.jobs.registry``) under its task name, so the runner knows no domain. Imported
by ``app.server``; APScheduler references them as ``app.tasks:<name>``.

Each is safe to run twice: webhook events are marked processed, pulls are upserts behind
cursors, pushes re-read their synced record and carry idempotency keys. Any worker runs any
task; what must not run twice at once is guarded by a lease (see ``registry.TaskSpec``).

APScheduler 4 has no job retries: a pull that fails because the provider is unavailable is
rescheduled here with capped exponential backoff (:func:`pull_retry_delay`), its attempt
number carried in the job's kwargs.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import uuid

import app.event_sources  # noqa: F401  (which changes of the domains' rows are events)
from app.connections import queries as connection_queries
from app.connections.platforms import DIRECT_PLATFORMS
from app.connections.service import apply_connection_snapshot, carry_over
from app.events import dispatch as event_dispatch
from app.events import queries as event_queries
from app.events.delivery import deliver as deliver_events
from app.jobs import JobContext, current_context, job_label, registry
from app.providers import ProviderError
from app.providers.factory import NoProviderKey
from app.receivables.service import mark_overdue
from app.sync.pull import pull
from app.sync.push import due_records, run_push
from app.sync.queries import lease
from app.webhook_receiver.apply import drain

log = logging.getLogger("acctsync.jobs")

#: First retry of a failed pull after about this many seconds, doubling per attempt ...
PULL_RETRY_BASE = 30.0
#: ... up to this (or the pull interval, if shorter) ...
PULL_RETRY_CAP = 900.0
#: ... and at most this many retries; after them the regular schedule pulls again.
PULL_MAX_RETRIES = 6
#: The error class names (as ``pull()`` reports them) that a later attempt may cure.
RETRYABLE_PULL_ERRORS = ("ProviderUnavailable",)

# Cluster-wide singletons: lease keys (PostgreSQL advisory locks; an asyncio lock on SQLite).
DRAIN_LEASE = uuid.uuid5(uuid.NAMESPACE_URL, "acctsync:jobs:apply_webhook_events")
SWEEP_LEASE = uuid.uuid5(uuid.NAMESPACE_URL, "acctsync:jobs:sweep")
PENDING_LEASE = uuid.uuid5(uuid.NAMESPACE_URL, "acctsync:jobs:check_pending_connections")
OVERDUE_LEASE = uuid.uuid5(uuid.NAMESPACE_URL, "acctsync:jobs:mark_overdue_receivables")
#: The daily overdue run starts at this UTC time (and once whenever the runner starts).
OVERDUE_RUN_AT = dt.time(0, 5)
OVERDUE_SCHEDULE = "daily:mark_overdue_receivables"
OVERDUE_BATCH = 500
#: A drain that finds another one running runs again after this many seconds.
DRAIN_BUSY_RETRY = 0.25


def pull_retry_delay(attempt: int, interval: float) -> float | None:
    """Seconds before retry number ``attempt + 1`` of a failed pull, or None to stop retrying.

    ``PULL_RETRY_BASE * 2**attempt`` capped at ``min(PULL_RETRY_CAP, interval)``, times a
    random factor in [0.5, 1] (jitter, so an outage does not end in a thundering herd).
    None after ``PULL_MAX_RETRIES`` retries, or when even the first retry would not come
    before the connection's next scheduled pull (``interval`` seconds away at most).
    """
    if attempt >= PULL_MAX_RETRIES or PULL_RETRY_BASE >= interval:
        return None
    delay = min(PULL_RETRY_BASE * 2.0**attempt, PULL_RETRY_CAP, float(interval))
    return delay * random.uniform(0.5, 1.0)


@registry.task()
async def apply_webhook_events() -> int:
    """Apply every due stored webhook event; returns how many were settled.

    One drain at a time cluster-wide; a drain that finds another running asks to run again
    in ``DRAIN_BUSY_RETRY`` seconds (the retries share one schedule id, so they never pile
    up), so an event stored after the running drain read its last batch is still applied
    promptly rather than at the next sweep.
    """
    ctx = current_context()
    ctx.jobs.drain_started()
    async with lease(ctx.jobs.engine, DRAIN_LEASE) as leased:
        if not leased:
            await ctx.jobs.retry_later(
                "apply_webhook_events", DRAIN_BUSY_RETRY, schedule_id="retry:apply_webhook_events"
            )
            return 0
        return await drain(ctx)


@registry.task()
async def pull_connection(
    connection_id: str, data_types: list[str] | None = None, attempt: int = 0
) -> dict[str, int | str]:
    """Pull a connection (all data types, or the ones a webhook named).

    Returns per data type the records stored or the error text (``{}``: not connected, or
    another pull of it is running and this one was put after it). When a data type failed
    because the provider is unavailable (or the pull failed unexpectedly), the same pull is
    retried after :func:`pull_retry_delay` seconds with ``attempt + 1``; a connection with
    no provider key or a provider rejection (4xx) is not retried: the error stays on its
    pull cursors and the next scheduled pull tries again.

    Logs ``pull start`` / ``pull done`` lines naming the connection, the schedule and the
    scheduled fire time (what the scale-out test counts).
    """
    ctx = current_context()
    label = f"connection={connection_id} {job_label()} attempt={attempt} pid={os.getpid()}"
    log.info("pull start %s", label)
    try:
        results = await pull(ctx, uuid.UUID(connection_id), data_types)
    except NoProviderKey:
        log.warning("pull failed %s: the partner has no provider key (not retried)", label)
        return {}
    except Exception:
        log.exception("pull failed %s", label)
        await _retry_pull(ctx, connection_id, data_types, attempt)
        raise
    errors = [v for v in results.values() if isinstance(v, str)]
    if not results:
        log.info("pull skipped %s", label)
    elif errors:
        log.info("pull failed %s errors=%d", label, len(errors))
        if any(e.startswith(RETRYABLE_PULL_ERRORS) for e in errors):
            await _retry_pull(ctx, connection_id, data_types, attempt)
    else:
        log.info("pull done %s records=%d", label, sum(int(v) for v in results.values()))
    return results


async def _retry_pull(
    ctx: JobContext, connection_id: str, data_types: list[str] | None, attempt: int
) -> None:
    delay = pull_retry_delay(attempt, ctx.settings.pull_interval_seconds)
    if delay is None:
        log.warning("pull %s: no retry after attempt %d (schedule pulls)", connection_id, attempt)
        return
    wanted = ",".join(sorted(data_types)) if data_types else "all"
    await ctx.jobs.retry_later(
        "pull_connection",
        delay,
        schedule_id=f"retry:pull_connection:{connection_id}:{wanted}",
        connection_id=connection_id,
        data_types=list(data_types) if data_types else None,
        attempt=attempt + 1,
    )
    log.info("pull %s: retry %d in %.1f s", connection_id, attempt + 1, delay)


@registry.task()
async def push_synced_record(synced_record_id: str) -> None:
    """Push (or settle) one synced record."""
    await run_push(current_context(), uuid.UUID(synced_record_id))


@registry.task()
async def check_pending_connections() -> None:
    """Ask the provider about connections still ``pending_auth`` (a lost webhook must not
    strand a connection). One at a time cluster-wide; a second one finding it running skips."""
    ctx = current_context()
    async with lease(ctx.jobs.engine, PENDING_LEASE) as leased:
        if leased:
            await _check_pending(ctx)


async def _check_pending(ctx: JobContext) -> None:
    async with ctx.sessionmaker() as session:
        pending = list(await connection_queries.with_status(session, "pending_auth"))
        for conn in pending:
            if conn.platform in DIRECT_PLATFORMS:
                continue  # connected by the user's credentials, not by a provider's link
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
            if linked:
                # locked and re-read: a webhook or pull changing it meanwhile is not overwritten
                conn = await connection_queries.locked(session, conn.id) or conn
            if linked and apply_connection_snapshot(conn, linked[0]):
                await carry_over(session, conn)
                await session.commit()
                await ctx.jobs.ensure_pull_schedule(conn.id)
                await ctx.jobs.enqueue("pull_connection", connection_id=str(conn.id))
            await session.commit()  # the lock is not held over the next provider call


@registry.task()
async def sweep() -> None:
    """Re-queue work the tables say is due: webhook events, push retries, pending checks.

    One at a time cluster-wide (it runs every ``sweep_interval`` on every worker; a sweep
    that finds another running skips: the running one does the same work)."""
    ctx = current_context()
    async with lease(ctx.jobs.engine, SWEEP_LEASE) as leased:
        if leased:
            await _sweep(ctx)


async def _sweep(ctx: JobContext) -> None:
    await ctx.jobs.request_webhook_drain()
    await _dispatch_events(ctx, None)
    async with ctx.sessionmaker() as session:
        due = await due_records(session, dt.datetime.now(dt.UTC))
    for record_id in due:
        await ctx.jobs.enqueue("push_synced_record", synced_record_id=str(record_id))
    await check_pending_connections()


#: A delivery job that finds its subscription's lease held runs again after this many seconds.
DELIVERY_BUSY_RETRY = 0.5


@registry.task()
async def deliver_webhooks(subscription_id: str) -> None:
    """Send a webhook subscription's due events in sequence order (``app.events.delivery``).

    One job per subscription at a time cluster-wide (the subscription's lease); a job that
    finds it held runs again in ``DELIVERY_BUSY_RETRY`` seconds (one schedule id, so retries
    never pile up), so an event committed while the holder finishes is not left behind. A
    failed event's retry is scheduled after its backoff (``retry:deliver_webhooks:{id}``).
    """
    ctx = current_context()
    sid = uuid.UUID(subscription_id)
    async with lease(ctx.jobs.engine, sid) as leased:
        if not leased:
            await ctx.jobs.retry_later(
                "deliver_webhooks",
                DELIVERY_BUSY_RETRY,
                schedule_id=f"retry:deliver_webhooks:{sid}:busy",
                subscription_id=subscription_id,
            )
            return
        delay = await deliver_events(ctx, sid)
    if delay is not None:
        await ctx.jobs.retry_later(
            "deliver_webhooks",
            delay,
            schedule_id=f"retry:deliver_webhooks:{sid}",
            subscription_id=subscription_id,
        )


@registry.task()
async def dispatch_events(partner_ids: list[str] | None = None) -> int:
    """Queue ``deliver_webhooks`` for every due subscription (of ``partner_ids``, or all):
    asked for after commits that wrote events (``app.events.dispatch``) and by the sweep.
    Returns how many were queued."""
    return await _dispatch_events(current_context(), partner_ids)


async def _dispatch_events(ctx: JobContext, partner_ids: list[str] | None) -> int:
    async with ctx.sessionmaker() as session:
        due = await event_queries.due_subscriptions(
            session,
            dt.datetime.now(dt.UTC),
            [uuid.UUID(p) for p in partner_ids] if partner_ids is not None else None,
        )
    for sid in due:
        await ctx.jobs.enqueue("deliver_webhooks", subscription_id=str(sid))
    return len(due)


assert event_dispatch  # imported for its commit listener


@registry.reconciler
async def reconcile_event_deliveries(ctx: JobContext) -> int:
    """Queue the deliveries the tables say are due when the runner starts (a restart lost the
    in-memory retries, or events were committed while no runner was up)."""
    return await _dispatch_events(ctx, None)


@registry.task()
async def mark_overdue_receivables() -> int:
    """Move receivables past their due date to ``overdue`` (pushed under the default rules),
    in batches of one transaction each; returns how many moved. One run at a time
    cluster-wide. Then asks for the next run at :data:`OVERDUE_RUN_AT` UTC tomorrow (a
    schedule of its own, replaced rather than piled up)."""
    ctx = current_context()
    moved = 0
    async with lease(ctx.jobs.engine, OVERDUE_LEASE) as leased:
        if leased:
            today = dt.datetime.now(dt.UTC).date()
            while True:
                async with ctx.sessionmaker() as session:
                    batch = await mark_overdue(session, today, OVERDUE_BATCH)
                    await session.commit()
                moved += batch
                if batch < OVERDUE_BATCH:
                    break
            log.info("overdue receivables: %d moved", moved)
    await ctx.jobs.retry_later(
        "mark_overdue_receivables", next_overdue_run(), schedule_id=OVERDUE_SCHEDULE
    )
    return moved


def next_overdue_run(now: dt.datetime | None = None) -> float:
    """Seconds from ``now`` to the next :data:`OVERDUE_RUN_AT` (UTC), always in the future."""
    now = now or dt.datetime.now(dt.UTC)
    at = dt.datetime.combine(now.date(), OVERDUE_RUN_AT, dt.UTC)
    if at <= now:
        at += dt.timedelta(days=1)
    return (at - now).total_seconds()


@registry.reconciler
async def reconcile_overdue(ctx: JobContext) -> None:
    """Run the overdue check on start (it catches up after downtime and schedules the next)."""
    await ctx.jobs.enqueue("mark_overdue_receivables")


@registry.reconciler
async def reconcile_schedules(ctx: JobContext) -> dict[str, int]:
    """Make the pull schedules match the connections table (the truth).

    One ``pull:{id}`` interval schedule per connected connection (added if missing, replaced
    if its interval differs from the setting, else kept with its phase); the pull schedules
    (and pending pull retries) of every other connection removed; a first pull queued for
    connected connections never pulled (lost to a crash or restart). Returns the counts
    ``{"added", "removed", "queued"}`` ("added": schedules added or replaced by this call, or
    by a process reconciling at the same moment). Safe to run in several processes at once.
    """
    async with ctx.sessionmaker() as session:
        connected = list(await connection_queries.with_status(session, "connected"))
    wanted = {c.id: c.last_pull for c in connected}
    added, removed = await ctx.jobs.reconcile_pull_schedules(wanted)
    never_pulled = [cid for cid, last_pull in wanted.items() if last_pull is None]
    for connection_id in never_pulled:
        await ctx.jobs.enqueue("pull_connection", connection_id=str(connection_id))
    counts = {"added": added, "removed": removed, "queued": len(never_pulled)}
    log.info("reconciled pull schedules: %s (connected: %d)", counts, len(wanted))
    return counts
