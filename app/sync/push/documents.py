"""The document push: a payable (bill) or receivable (invoice) is validated (every problem at
once, no provider call if any), its dependencies are pushed first, then it is created, updated
or voided as its status plan says, and settled: done, pushed again as an update when it changed
in flight, or voided after it landed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import sync_rules as rules
from app import metrics
from app.db.models import (
    AccountingConnection,
    Entity,
    Payable,
    Receivable,
    SyncAttempt,
    SyncedRecord,
)
from app.jobs import JobContext
from app.providers import ProviderNotFound, ProviderUnavailable, PushOperation
from app.sync import documents
from app.sync.push import common
from app.sync.push.common import _Failed, _knob, _Wait, now
from app.sync.push.dependencies import _ensure_dependency
from app.sync.push.lookup import _find_landed
from app.sync.push.send import _send
from app.sync.push.settle import (
    _attempt_of,
    _close_attempt,
    _failures_in_a_row,
    _note_response,
    _outcome,
    _take_over,
)


def marker(record: SyncedRecord) -> str:
    """The tag written into a pushed document's note, to find it after a timeout."""
    return f"acctsync:{record.id}"


async def _load(session: AsyncSession, record: SyncedRecord) -> Payable | Receivable:
    model = Payable if record.object_type == "bill" else Receivable
    doc = await session.get(model, record.object_id)
    if doc is None:
        raise _Failed(f"The {record.object_type} {record.object_id} no longer exists")
    await session.refresh(doc)
    await session.refresh(doc, ["line_items"])
    return doc


async def _document(
    session: AsyncSession, connection: AccountingConnection, record: SyncedRecord
) -> Any:
    obj = await _load(session, record)
    if record.object_type == "bill":
        return obj, await documents.payable_doc(session, connection, obj)  # type: ignore[arg-type]
    return obj, await documents.receivable_doc(session, connection, obj)  # type: ignore[arg-type]


def _plan(record: SyncedRecord, status: str) -> rules.StatusPlan:
    try:
        if record.object_type == "bill":
            return rules.bill_status_plan(status)
        return rules.invoice_status_plan(status)
    except ValueError as exc:
        raise _Failed(str(exc)) from None


def _validation_attempt(
    session: AsyncSession, record: SyncedRecord, problems: Sequence[Any]
) -> None:
    record.attempts += 1
    session.add(
        SyncAttempt(
            synced_record_id=record.id,
            number=record.attempts,
            kind="validate",
            outcome="error",
            error="; ".join(p.message for p in problems)[:2000],
            finished_at=now(),
        )
    )


async def _document_job(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    record: SyncedRecord,
) -> None:
    if record.push_operation_key:
        try:
            op = await provider.get_push_operation(
                connection.provider_company_id, record.push_operation_key
            )
        except ProviderNotFound:
            # The provider lost the operation: its outcome is unknown. Forget it; the next
            # create looks for the record by its marker before sending again.
            await _close_attempt(session, record, record.push_operation_key, "operation lost")
            record.push_operation_key = None
            raise _Wait(_knob(ctx, "resend_after")) from None
        except ProviderUnavailable as exc:  # keep the key: poll again later
            delay = max(_knob(ctx, "poll_after"), exc.retry_after or 0.0)
            raise _Wait(delay) from None
        await _settle_document(ctx, session, provider, connection, entity, record, op)
        return
    await _push_document(ctx, session, provider, connection, entity, record)


async def _push_document(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    record: SyncedRecord,
) -> None:
    _obj, doc = await _document(session, connection, record)
    context = await documents.push_context(session, connection, entity)
    validate = rules.validate_payable if record.object_type == "bill" else rules.validate_receivable
    validation = validate(doc, context)
    if not validation.ok:
        _validation_attempt(session, record, validation.problems)
        raise _Failed(
            f"The {record.object_type} cannot be pushed: "
            f"{len(validation.problems)} problem(s) to fix",
            [p.message for p in validation.problems],
        )
    plan = _plan(record, doc.status)
    # Dependencies first (OCA connector: export the partner before the order).
    counterpart_type = "vendor" if record.object_type == "bill" else "customer"
    counterpart_id = await _ensure_dependency(
        ctx, session, provider, connection, entity, counterpart_type, uuid.UUID(doc.counterpart.id)
    )
    if record.object_type == "receivable":
        missing = {
            line.product.id
            for line in doc.line_items
            if line.product is not None and line.product.provider_id is None
        }
        for product_id in sorted(missing):
            await _ensure_dependency(
                ctx, session, provider, connection, entity, "product", uuid.UUID(product_id)
            )
        if missing:
            _obj, doc = await _document(session, connection, record)
            validation = validate(doc, context)
            if not validation.ok:  # the items were just linked
                raise _Failed(
                    "The receivable cannot be pushed", [p.message for p in validation.problems]
                )
    if record.object_type == "bill":
        payload = rules.map_bill(doc, validation, supplier_id=counterpart_id)
    else:
        payload = rules.map_invoice(doc, validation, customer_id=counterpart_id)
    payload["note"] = f"{payload.get('note') or ''} [{marker(record)}]".strip()
    phase = "update" if record.provider_object_id else "create"
    if phase == "update" and plan.void_after:
        payload, phase = rules.void_payload(payload), "void"
    op, found, attempt = await _send(
        session,
        provider,
        connection,
        record,
        payload,
        phase,
        lookup=lambda: _find_landed(provider, connection, record),
    )
    if found is not None:
        await _succeeded(ctx, session, provider, connection, entity, record, attempt, found, None)
    elif op is not None and op.status != "Pending":
        await _settle_document(ctx, session, provider, connection, entity, record, op)


async def _settle_document(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    record: SyncedRecord,
    op: PushOperation,
) -> None:
    attempt = await _attempt_of(session, record, op.push_operation_key)
    _note_response(attempt, op)
    if op.status == "Pending":
        raise _Wait(_knob(ctx, "poll_after"))
    try:
        found = await _outcome(provider, connection, record, op)
    except _Failed as exc:
        if attempt is not None:
            attempt.outcome = "error"
            attempt.error = ("; ".join(exc.details) or exc.message)[:2000]
        record.push_operation_key = None
        raise
    if found is None:
        if attempt is not None:
            attempt.outcome, attempt.error = "error", "push operation timed out; record not found"
        record.push_operation_key = None
        if await _failures_in_a_row(session, record) >= common.MAX_ATTEMPTS:
            raise _Failed(
                f"The accounting system timed out {common.MAX_ATTEMPTS} times in a row", [], False
            )
        record.errors = {"message": "The accounting system timed out; pushing again"}
        raise _Wait(_knob(ctx, "resend_after"))
    await _succeeded(ctx, session, provider, connection, entity, record, attempt, found, op)


async def _succeeded(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    record: SyncedRecord,
    attempt: SyncAttempt | None,
    provider_id: str,
    op: PushOperation | None,
) -> None:
    await _take_over(session, record, provider_id)
    if attempt is not None:
        attempt.outcome, attempt.finished_at = "done", now()
    record.provider_object_id = provider_id
    record.platform_object_id = provider_id
    record.provider_updated_at = (op.completed_on_utc if op else None) or now()
    record.platform_updated_at = record.provider_updated_at
    record.push_operation_key = None
    version = (
        attempt.request_summary.get("version") if attempt and attempt.request_summary else None
    )
    if version:
        record.pushed_version = dt.datetime.fromisoformat(version)
    phase = record.push_phase
    record.push_phase = None
    record.errors = None
    if phase in ("create", "update"):
        _obj, doc = await _document(session, connection, record)
        if _plan(record, doc.status).void_after:
            await session.commit()
            await _push_document(ctx, session, provider, connection, entity, record)
            return
    record.next_attempt_at = None
    changed = (
        record.object_updated_at is not None
        and record.pushed_version is not None
        and record.object_updated_at > record.pushed_version
    )
    metrics.push_done(record.object_type, record.object_updated_at or record.created_at)
    record.sync_status = "done"
    if changed:  # the document changed while this push was in flight: push it as an update
        record.sync_status = "pending"
        raise _Wait(0.1)
