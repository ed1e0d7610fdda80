"""Where the partner's objects tell the sync engine that something changed.

Called by the payables and receivables services inside the request's transaction, so a
status change and its synced record commit together (DESIGN.md "Reliability rules"); the push
job is queued after the commit, and the sweep re-queues it if that is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

import sync_rules as rules
from app.connections import queries as connection_queries
from app.db.models import AccountingConnection, Entity, Payable, Receivable, SyncedRecord
from app.jobs import active_context
from app.synced_records import queries as synced_queries

log = logging.getLogger("acctsync.push")
_tasks: set[asyncio.Task[None]] = set()


def push_statuses(entity: Entity) -> rules.PushStatuses:
    """The entity's push rules (Monite's defaults where it set none)."""
    if not entity.push_statuses:
        return rules.default_push_statuses()
    return rules.PushStatuses(**entity.push_statuses)


def _enqueue_after_commit(session: AsyncSession, record_id: str) -> None:
    """Queue the push job once the session commits (never before: the job must see the row)."""
    if active_context() is None:
        return  # no job runner in this process; the sweep of a worker will pick it up
    pending: list[str] = session.info.setdefault("push_after_commit", [])
    pending.append(record_id)
    if session.info.get("push_listener"):
        return
    session.info["push_listener"] = True

    @event.listens_for(session.sync_session, "after_commit", once=True)
    def _after_commit(_session: object) -> None:
        ids = list(session.info.pop("push_after_commit", []))
        session.info.pop("push_listener", None)
        ctx = active_context()
        if ctx is None or not ids:
            return
        loop = asyncio.get_running_loop()
        for record_id in ids:
            task = loop.create_task(
                ctx.jobs.enqueue("push_synced_record", synced_record_id=record_id)
            )
            _tasks.add(task)
            task.add_done_callback(_enqueued)


def _enqueued(task: asyncio.Task[object]) -> None:
    """A queued push's enqueue task ended: a failure (the job runner stopping or restarting)
    loses nothing, since the record is pending and the sweep queues it; say so once, without
    the "Task exception was never retrieved" traceback."""
    _tasks.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.info("push not queued now (%s: %s); the sweep will queue it", type(exc).__name__, exc)


async def document_status_changed(
    session: AsyncSession,
    entity: Entity,
    object_type: Literal["bill", "receivable"],
    document: Payable | Receivable,
    old_status: str,
) -> None:
    """A payable (``bill``) or receivable changed status from ``old_status``.

    When the entity has a connected connection and its rules list the new status, the
    document's synced record becomes ``pending`` (created if new; a done record is pushed
    again as an update) and a push job is queued after commit.
    """
    connection = await connection_queries.active_of_entity(session, entity.id)
    rules_ = push_statuses(entity)
    listed = rules_.payable if object_type == "bill" else rules_.receivable
    if connection is None or connection.status != "connected":
        if document.status in listed:
            await _wait_for_connection(session, entity, object_type, document, connection)
        return
    if document.status not in listed:
        return
    record = await synced_queries.of_object(session, connection.id, object_type, document.id)
    now = dt.datetime.now(dt.UTC)
    if record is None:
        record = SyncedRecord(
            entity_id=entity.id,
            connection_id=connection.id,
            object_type=object_type,
            object_id=document.id,
            sync_status="pending",
            platform=connection.platform,
            provider="codat",
            attempts=0,
        )
        session.add(record)
    elif record.push_operation_key is None:
        record.sync_status = "pending"
        record.next_attempt_at = None
        record.errors = None
    record.object_updated_at = now
    await session.flush()
    _enqueue_after_commit(session, str(record.id))


#: ``errors.code`` of a document synced record waiting for a connection.
NO_CONNECTION = "no_connection"


async def _wait_for_connection(
    session: AsyncSession,
    entity: Entity,
    object_type: Literal["bill", "receivable"],
    document: Payable | Receivable,
    active: AccountingConnection | None,
) -> None:
    """The document reached a push status while the entity had no connected connection: its
    synced record (on the de-authorised connection, else the most recent disconnected one)
    says so and waits; when a connection becomes connected it is pushed there
    (``app.connections.service.carry_over``). An entity that never connected has none."""
    holder = active if active is not None and active.status == "deauthorized" else None
    if holder is None:
        holder = await connection_queries.latest_of_entity(session, entity.id, "disconnected")
    if holder is None:
        return
    record = await synced_queries.of_object(session, holder.id, object_type, document.id)
    if record is not None and record.push_operation_key is not None:
        return  # a push in flight settles first
    if record is None:
        record = SyncedRecord(
            entity_id=entity.id,
            connection_id=holder.id,
            object_type=object_type,
            object_id=document.id,
            platform=holder.platform,
            provider="codat",
            attempts=0,
        )
        session.add(record)
    record.sync_status = "error"
    record.next_attempt_at = None
    record.errors = {
        "code": NO_CONNECTION,
        "message": f"The {object_type} reached {document.status} while the entity had no "
        "active accounting connection; it is pushed when the entity connects again",
        "details": [],
    }
    record.object_updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
