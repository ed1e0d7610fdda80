"""Settling a push operation: the push-status webhook that makes a record's job due, polling
a pending operation, and reading a finished one's outcome onto its attempt (``Success``: the
provider id; ``Failed``: ``_Failed``; ``TimedOut``: a document is looked for before it is sent
again). Binding a record to the provider id it settled on (``_take_over``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AccountingConnection, SyncAttempt, SyncedRecord
from app.jobs import JobContext
from app.providers import PushOperation
from app.sync.push.common import DOC_TYPES, WHAT, _Failed, now
from app.sync.push.lookup import _find_landed
from app.synced_records import queries as synced_queries


async def _attempt_of(
    session: AsyncSession, record: SyncedRecord, key: str | None
) -> SyncAttempt | None:
    attempts = await synced_queries.attempts_of(session, record.id)
    return next((a for a in reversed(attempts) if a.push_operation_key == key), None)


async def _close_attempt(
    session: AsyncSession, record: SyncedRecord, key: str | None, error: str
) -> None:
    attempt = await _attempt_of(session, record, key)
    if attempt is not None and attempt.outcome == "pending":
        attempt.outcome, attempt.error, attempt.finished_at = "error", error, now()


def _note_response(attempt: SyncAttempt | None, op: PushOperation) -> None:
    if attempt is None:
        return
    attempt.finished_at = now() if op.status != "Pending" else None
    attempt.response = {
        "status": op.status,
        "push_operation_key": op.push_operation_key,
        "record_id": op.record_id,
        "errors": [v.message for v in (op.validation.errors if op.validation else [])],
        "status_code": op.status_code,
        "error_message": op.error_message,
    }


async def _failures_in_a_row(session: AsyncSession, record: SyncedRecord) -> int:
    """Failed attempts since the last success (the one that just failed included)."""
    count = 0
    for attempt in reversed(await synced_queries.attempts_of(session, record.id)):
        if attempt.outcome == "done":
            break
        count += 1
    return max(count, 1)


async def _outcome(
    provider: Any, connection: AccountingConnection, record: SyncedRecord, op: PushOperation
) -> str | None:
    """A settled operation's record id; None when it timed out and must be sent again.

    Raises ``_Failed`` when the platform refused it (transient for a 5xx outcome).
    """
    if op.status == "Success":
        found = op.record_id or record.provider_object_id
        if not found:
            raise _Failed("The accounting provider reported success without a record", [], True)
        return found
    if op.status == "Failed":
        messages = [v.message for v in (op.validation.errors if op.validation else [])]
        raise _Failed(
            f"The accounting system rejected the {WHAT.get(record.object_type, record.object_type)}"
            + (f": {op.error_message}" if op.error_message else ""),
            messages,
            transient=(op.status_code or 0) >= 500 and (op.status_code or 0) != 504,
        )
    # TimedOut: the platform may have written it anyway.
    if record.push_phase in ("update", "void"):
        return None  # a full PUT is idempotent: send it again
    if record.object_type in DOC_TYPES:
        return await _find_landed(provider, connection, record)
    return None  # dependencies are looked up by name before they are sent again


async def _take_over(session: AsyncSession, record: SyncedRecord, provider_id: str) -> None:
    holders = await synced_queries.of_provider_ids(
        session, record.connection_id, record.object_type, [provider_id]
    )
    holder = holders.get(provider_id)
    if holder is None or holder.id == record.id:
        return
    if holder.object_id is not None:
        raise _Failed(
            f"The {WHAT.get(record.object_type, record.object_type)} {provider_id!r} in the "
            f"accounting system is already linked to another object ({holder.object_id})"
        )
    await session.delete(holder)
    await session.flush()


async def _poll(provider: Any, company_id: str, op: PushOperation, wait: float) -> PushOperation:
    """Poll a Pending operation for up to ``wait`` seconds (0.05 s, doubling, at most 0.5 s)."""
    waited, step = 0.0, 0.05
    while op.status == "Pending" and waited < wait:
        await asyncio.sleep(step)
        waited += step
        step = min(step * 2, 0.5)
        op = await provider.get_push_operation(company_id, op.push_operation_key)
    return op


async def settle_from_event(
    ctx: JobContext, session: AsyncSession, connections: Sequence[AccountingConnection], event: Any
) -> bool:
    """A push-status webhook: queue the record's job, which reads the push operation and
    settles it. False when no synced record has this push key yet (the receiver retries).

    Duplicates and late or reordered events are harmless: only the record's current push key
    with a final status makes the job due now; the job reads the operation itself.
    """
    record = await synced_queries.by_push_key(
        session, [c.id for c in connections], event.push_operation_key
    )
    if record is None:
        return False
    if record.push_operation_key == event.push_operation_key and event.status != "Pending":
        record.next_attempt_at = None
        await session.commit()
        await ctx.jobs.enqueue("push_synced_record", synced_record_id=str(record.id))
    return True
