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
from app.db.models import Entity, Payable, Receivable, SyncedRecord
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
            task.add_done_callback(_tasks.discard)


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
    if connection is None or connection.status != "connected":
        return
    rules_ = push_statuses(entity)
    listed = rules_.payable if object_type == "bill" else rules_.receivable
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
