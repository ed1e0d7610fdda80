"""The push: payables and receivables to the accounting system, exactly once.

DESIGN.md "Flows: Push"; OCA connector's exporter pattern. A status change that matches the
entity's rules leaves a ``pending`` synced record (``hooks``); this job then:

1. re-reads and locks the record, and does nothing if it is done (and unchanged), waiting for a
   person, not yet due, or in flight (then it polls the push operation instead);
2. validates the document (every problem at once, no provider call if any);
3. pushes dependencies first: the counterpart (matched to a pulled customer/supplier by name,
   else created) and, for receivables, products without an item;
4. records the attempt *before* calling the provider, then pushes the document with the
   ``Idempotency-Key`` ``{record id}:{attempt}`` (a crash re-sends the same key, which the
   provider answers with the first response), and stores the push operation key in its own
   commit;
5. settles on the outcome (webhook or polling): ``Success`` -> ``done`` with the provider and
   platform ids; ``Failed`` -> ``error`` with the provider's messages; ``TimedOut`` -> looks for
   the record by the marker in its note before pushing again, so a slow platform never gets two
   bills. Canceled/uncollectible receivables are voided after they land.

Transient failures (provider unavailable, 5xx, timeouts) retry by themselves with capped
exponential backoff and jitter, at most ``MAX_ATTEMPTS``; validation and platform rejections
wait for a person (``POST /v1/accounting_synced_records/{id}/push``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import matching
import sync_rules as rules
from app.connections import queries as connection_queries
from app.db.models import (
    AccountingConnection,
    Counterpart,
    Entity,
    Payable,
    Product,
    Receivable,
    SyncAttempt,
    SyncedRecord,
)
from app.jobs.runner import JobContext
from app.providers import ProviderError, ProviderRejected, ProviderUnavailable, PushOperation
from app.sync import documents
from app.sync import queries as sync_queries
from app.synced_records import queries as synced_queries

log = logging.getLogger("acctsync.push")
MAX_ATTEMPTS = 5
POLL_AFTER = 10.0  # seconds before polling a push operation no webhook has settled
DEPENDENCY_WAIT = 5.0  # seconds to wait in-job for a counterpart/item push to settle
DATA_TYPE = {
    "bill": "bills",
    "receivable": "invoices",
    "vendor": "suppliers",
    "customer": "customers",
    "product": "items",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` (1-based): 30 s x 2^(n-1), capped at 1 h, full jitter."""
    return random.uniform(0.5, 1.0) * min(3600.0, 30.0 * 2 ** max(0, attempt - 1))


def marker(record: SyncedRecord) -> str:
    """The tag written into a pushed document's note, to find it after a timeout."""
    return f"acctsync:{record.id}"


class _Wait(Exception):
    """A dependency is still in flight; try the document again shortly."""


class _Failed(Exception):
    """The push cannot go on: ``message`` and ``details`` go on the synced record."""

    def __init__(self, message: str, details: list[Any] | None = None, transient: bool = False):
        super().__init__(message)
        self.message, self.details, self.transient = message, details or [], transient


async def due_records(session: AsyncSession, at: dt.datetime) -> list[uuid.UUID]:
    """Synced records a push job should look at now (see ``synced_queries.due``)."""
    return await synced_queries.due(session, at)


async def run_push(ctx: JobContext, record_id: uuid.UUID, *, manual: bool = False) -> None:
    """Push or settle one synced record (safe to run twice, concurrently or after a crash).

    One job at a time holds a record's lease; a job that finds it taken runs again shortly.
    """
    async with sync_queries.lease(ctx.jobs.engine, record_id) as leased:
        if not leased:
            await ctx.jobs.retry_later("push_synced_record", 1.0, synced_record_id=str(record_id))
            return
        await _run_push(ctx, record_id, manual)


async def _run_push(ctx: JobContext, record_id: uuid.UUID, manual: bool) -> None:
    async with ctx.sessionmaker() as session:
        record = await synced_queries.lock(session, record_id)
        if record is None or not _should_run(record, manual):
            return
        connection = await connection_queries.by_id(session, record.connection_id)
        assert connection is not None
        entity = await connection_queries.entity_of(session, connection)
        if connection.status != "connected":
            _set_error(
                record, f"The accounting connection is {connection.status}", [], transient=False
            )
            await session.commit()
            return
        provider = await ctx.provider_for(entity.partner_id)
        try:
            if record.push_operation_key:
                op = await provider.get_push_operation(
                    connection.provider_company_id, record.push_operation_key
                )
                await _settle(ctx, session, provider, connection, entity, record, op)
            else:
                await _push(ctx, session, provider, connection, entity, record)
        except _Wait:
            record.next_attempt_at = now() + dt.timedelta(seconds=2)
        except _Failed as exc:
            _set_error(record, exc.message, exc.details, exc.transient)
        except ProviderUnavailable as exc:
            _set_error(record, f"The accounting provider is unavailable: {exc}", [], transient=True)
        except ProviderRejected as exc:
            details = [v.message for v in exc.validation_errors]
            _set_error(
                record,
                f"The accounting provider rejected the request: {exc.error or exc}",
                details,
                transient=False,
            )
        await session.commit()


def _should_run(record: SyncedRecord, manual: bool) -> bool:
    if record.object_type not in ("bill", "receivable"):
        return record.sync_status == "pending" and record.push_operation_key is not None
    if manual:
        return True
    if record.sync_status == "done":
        return False
    if record.sync_status == "error" and record.next_attempt_at is None:
        return False  # waits for a person
    return record.next_attempt_at is None or record.next_attempt_at <= now()


def _set_error(record: SyncedRecord, message: str, details: list[Any], transient: bool) -> None:
    record.sync_status = "error"
    record.push_operation_key = None
    record.errors = {"message": message, "details": details}
    if transient and record.attempts < MAX_ATTEMPTS:
        record.next_attempt_at = now() + dt.timedelta(seconds=backoff(record.attempts))
        record.errors["retry"] = (
            f"retrying automatically (attempt {record.attempts} of {MAX_ATTEMPTS})"
        )
    else:
        record.next_attempt_at = None


async def _load(session: AsyncSession, record: SyncedRecord) -> Payable | Receivable:
    model = Payable if record.object_type == "bill" else Receivable
    doc = await session.get(model, record.object_id)
    if doc is None:
        raise _Failed(f"The {record.object_type} {record.object_id} no longer exists")
    await session.refresh(doc, ["line_items"])
    return doc


async def _document(
    session: AsyncSession, connection: AccountingConnection, record: SyncedRecord
) -> Any:
    obj = await _load(session, record)
    if record.object_type == "bill":
        return obj, await documents.payable_doc(session, connection, obj)  # type: ignore[arg-type]
    return obj, await documents.receivable_doc(session, connection, obj)  # type: ignore[arg-type]


async def _push(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    record: SyncedRecord,
) -> None:
    obj, doc = await _document(session, connection, record)
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
    # Dependencies first (OCA connector: export the partner before the order).
    counterpart_type = "vendor" if record.object_type == "bill" else "customer"
    counterpart = await session.get(Counterpart, uuid.UUID(doc.counterpart.id))
    assert counterpart is not None
    counterpart_id = await _ensure_counterpart(
        ctx, session, provider, connection, counterpart, counterpart_type, doc.currency
    )
    if record.object_type == "receivable":
        for line in doc.line_items:
            if line.product is not None and line.product.provider_id is None:
                product = await session.get(Product, uuid.UUID(line.product.id))
                assert product is not None
                await _ensure_item(
                    ctx, session, provider, connection, context, product, line.product
                )
        obj, doc = await _document(session, connection, record)
        validation = validate(doc, context)
    if record.object_type == "bill":
        payload = rules.map_bill(doc, validation, supplier_id=counterpart_id)
        plan = rules.bill_status_plan(doc.status)
    else:
        payload = rules.map_invoice(doc, validation, customer_id=counterpart_id)
        plan = rules.invoice_status_plan(doc.status)
    payload["note"] = f"{payload.get('note') or ''} [{marker(record)}]".strip()
    phase = "update" if record.provider_object_id else "create"
    if phase == "update" and plan.void_after:
        payload, phase = rules.void_payload(payload), "void"
    await _send(session, provider, connection, record, obj, payload, phase)
    if record.push_operation_key is None:
        return


async def _send(
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    record: SyncedRecord,
    obj: Payable | Receivable,
    payload: dict[str, Any],
    phase: str,
) -> None:
    """Record the attempt, commit, call the provider, store the push key, commit."""
    last = (await synced_queries.attempts_of(session, record.id) or [None])[-1]
    resend = (
        last is not None
        and last.kind == phase
        and last.outcome == "pending"
        and last.push_operation_key is None
    )
    if not resend:
        record.attempts += 1
        last = SyncAttempt(
            synced_record_id=record.id,
            number=record.attempts,
            kind=phase,
            outcome="pending",
            request_summary=_summary(payload, record),
        )
        session.add(last)
    record.sync_status = "pending"
    record.push_phase = phase
    await session.commit()  # the attempt exists before the provider hears of it
    data_type = DATA_TYPE[record.object_type]
    key = f"{record.id}:{phase}:{last.number}"
    try:
        if phase == "create":
            op = await provider.push_create(
                connection.provider_company_id,
                connection.provider_connection_id,
                data_type,
                payload,
                idempotency_key=key,
            )
        else:
            op = await provider.push_update(
                connection.provider_company_id,
                connection.provider_connection_id,
                data_type,
                record.provider_object_id,
                payload,
                idempotency_key=key,
            )
    except ProviderError as exc:
        last.outcome, last.error, last.finished_at = "error", str(exc)[:2000], now()
        raise
    record.push_operation_key = op.push_operation_key
    last.push_operation_key = op.push_operation_key
    last.response = {"status": op.status, "push_operation_key": op.push_operation_key}
    record.next_attempt_at = now() + dt.timedelta(seconds=POLL_AFTER)
    await session.commit()  # the push key is stored before anything else happens
    if op.status != "Pending":
        await _settle_op(session, provider, connection, record, op)


def _summary(payload: dict[str, Any], record: SyncedRecord) -> dict[str, Any]:
    """What a person needs to know about what was sent; ``version`` is the object change it
    carries (the hook's ``object_updated_at``)."""
    version = record.object_updated_at or now()
    return {
        "version": version.isoformat(),
        "status": payload.get("status"),
        "currency": payload.get("currency"),
        "total": str(payload.get("totalAmount")),
        "lines": len(payload.get("lineItems", [])),
        "counterpart": (payload.get("supplierRef") or payload.get("customerRef") or {}).get("id"),
    }


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


async def _settle(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    record: SyncedRecord,
    op: PushOperation,
) -> None:
    if op.status == "Pending":
        record.next_attempt_at = now() + dt.timedelta(seconds=POLL_AFTER)
        return
    await _settle_op(session, provider, connection, record, op)


async def _settle_op(
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    record: SyncedRecord,
    op: PushOperation,
) -> None:
    attempts = await synced_queries.attempts_of(session, record.id)
    attempt = next(
        (a for a in reversed(attempts) if a.push_operation_key == op.push_operation_key), None
    )
    if attempt is not None:
        attempt.finished_at = now()
        attempt.response = {
            "status": op.status,
            "push_operation_key": op.push_operation_key,
            "record_id": op.record_id,
            "errors": [v.message for v in (op.validation.errors if op.validation else [])],
            "status_code": op.status_code,
            "error_message": op.error_message,
        }
    if op.status == "TimedOut":
        landed = await _find_landed(provider, connection, record)
        if landed is None:
            if attempt is not None:
                attempt.outcome, attempt.error = (
                    "error",
                    "push operation timed out; record not found",
                )
            raise _Failed(
                "The accounting system did not answer in time; the push will be retried",
                transient=True,
            )
        op_record_id = landed
    elif op.status == "Failed":
        messages = [v.message for v in (op.validation.errors if op.validation else [])]
        if attempt is not None:
            attempt.outcome, attempt.error = "error", "; ".join(messages) or op.error_message
        transient = (op.status_code or 0) >= 500
        raise _Failed(
            f"The accounting system rejected the {record.object_type}"
            + (f": {op.error_message}" if op.error_message else ""),
            messages,
            transient=transient,
        )
    else:
        op_record_id = op.record_id or record.provider_object_id
    if attempt is not None:
        attempt.outcome = "done"
    record.provider_object_id = op_record_id
    record.platform_object_id = op_record_id
    record.provider_updated_at = op.completed_on_utc or now()
    record.platform_updated_at = record.provider_updated_at
    record.push_operation_key = None
    version = (
        attempt.request_summary.get("version") if attempt and attempt.request_summary else None
    )
    if version:
        record.pushed_version = dt.datetime.fromisoformat(version)
    if record.object_type in ("bill", "receivable") and record.push_phase in ("create", "update"):
        obj, doc = await _document(session, connection, record)
        plan = (
            rules.bill_status_plan if record.object_type == "bill" else rules.invoice_status_plan
        )(doc.status)
        if plan.void_after:
            await session.commit()
            context = await documents.push_context(
                session, connection, await connection_queries.entity_of(session, connection)
            )
            validate = (
                rules.validate_payable
                if record.object_type == "bill"
                else rules.validate_receivable
            )
            validation = validate(doc, context)
            mapper = rules.map_bill if record.object_type == "bill" else rules.map_invoice
            payload = rules.void_payload(mapper(doc, validation, doc.counterpart.provider_id))
            payload["note"] = f"{payload.get('note') or ''} [{marker(record)}]".strip()
            await _send(session, provider, connection, record, obj, payload, "void")
            return
    record.errors = None
    record.next_attempt_at = None
    record.push_phase = None
    changed = (
        record.object_updated_at is not None
        and record.pushed_version is not None
        and record.object_updated_at > record.pushed_version
    )
    # The document changed while this push was in flight: push it again, as an update.
    record.sync_status = "pending" if changed else "done"


async def _find_landed(
    provider: Any, connection: AccountingConnection, record: SyncedRecord
) -> str | None:
    """After a timeout: the id of the document we pushed, if the platform has it after all."""
    if record.provider_object_id:
        return record.provider_object_id
    page = await provider.get_page(
        connection.provider_company_id,
        DATA_TYPE[record.object_type],
        page_size=10,
        query=f"note~{record.id}",
    )
    return page.records[0].id if page.records else None


async def _wait_op(provider: Any, company_id: str, op: PushOperation) -> PushOperation:
    waited = 0.0
    while op.status == "Pending" and waited < DEPENDENCY_WAIT:
        await asyncio.sleep(0.1)
        waited += 0.1
        op = await provider.get_push_operation(company_id, op.push_operation_key)
    return op


async def _dependency(
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    object_type: str,
    object_id: uuid.UUID,
    payload: dict[str, Any],
    what: str,
) -> str:
    """Push a counterpart or an item once (bound by its own synced record); returns its id.

    Raises:
        _Wait: its push is still in flight. _Failed: the provider refused it.
    """
    bound = await synced_queries.of_object(session, connection.id, object_type, object_id)
    if bound is not None and bound.sync_status == "done" and bound.provider_object_id:
        return bound.provider_object_id
    if bound is None:
        bound = SyncedRecord(
            entity_id=connection.entity_id,
            connection_id=connection.id,
            object_type=object_type,
            object_id=object_id,
            sync_status="pending",
            platform=connection.platform,
            attempts=0,
        )
        session.add(bound)
        await session.flush()
    if bound.push_operation_key:
        op = await provider.get_push_operation(
            connection.provider_company_id, bound.push_operation_key
        )
    else:
        bound.attempts += 1
        bound.sync_status = "pending"
        await session.commit()
        op = await provider.push_create(
            connection.provider_company_id,
            connection.provider_connection_id,
            DATA_TYPE[object_type],
            payload,
            idempotency_key=f"{bound.id}:create:{bound.attempts}",
        )
        bound.push_operation_key = op.push_operation_key
        await session.commit()
    op = await _wait_op(provider, connection.provider_company_id, op)
    if op.status == "Pending":
        raise _Wait()
    if op.status != "Success" or not op.record_id:
        messages = [v.message for v in (op.validation.errors if op.validation else [])]
        bound.sync_status, bound.push_operation_key = "error", None
        bound.errors = {
            "message": f"The accounting system did not create the {what}",
            "details": messages,
        }
        raise _Failed(
            f"The {what} could not be created in the accounting system",
            messages,
            transient=op.status == "TimedOut",
        )
    bound.sync_status, bound.push_operation_key, bound.errors = "done", None, None
    bound.provider_object_id = bound.platform_object_id = op.record_id
    bound.provider_updated_at = bound.platform_updated_at = op.completed_on_utc or now()
    return op.record_id


async def _ensure_counterpart(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    counterpart: Counterpart,
    object_type: str,
    currency: str,
) -> str:
    """The provider id of the counterpart: linked already, matched to a pulled contact by
    name, or created."""
    bound = await synced_queries.of_object(session, connection.id, object_type, counterpart.id)
    if bound is not None and bound.sync_status == "done" and bound.provider_object_id:
        return bound.provider_object_id
    data_type = "suppliers" if object_type == "vendor" else "customers"
    if bound is None or not bound.push_operation_key:
        found = await _match_pulled_contact(session, connection, counterpart, data_type)
        if found is not None:
            if bound is None:
                bound = SyncedRecord(
                    entity_id=connection.entity_id,
                    connection_id=connection.id,
                    object_type=object_type,
                    object_id=counterpart.id,
                    platform=connection.platform,
                    attempts=0,
                )
                session.add(bound)
            bound.sync_status, bound.errors = "done", None
            bound.provider_object_id = bound.platform_object_id = found
            bound.last_pulled_at = now()
            await session.flush()
            return found
    doc = await documents.counterpart_doc(session, connection, counterpart, object_type)
    assert doc is not None
    mapper = rules.map_supplier if object_type == "vendor" else rules.map_customer
    return await _dependency(
        session,
        provider,
        connection,
        object_type,
        counterpart.id,
        mapper(doc, currency),
        "supplier" if object_type == "vendor" else "customer",
    )


async def _match_pulled_contact(
    session: AsyncSession,
    connection: AccountingConnection,
    counterpart: Counterpart,
    data_type: str,
) -> str | None:
    """A pulled customer/supplier that is this counterpart (matching's rules), if exactly one."""
    tokens = matching.name_tokens(counterpart.name)
    if not tokens:
        return None
    rows = await sync_queries.pulled_by_name_token(
        session, connection.id, data_type, max(tokens, key=len)
    )
    if not rows:
        return None
    from app.providers.records import Customer, Supplier, decode_object
    from app.sync.matching import contact_record

    kind = Customer if data_type == "customers" else Supplier
    existing = []
    for row in rows:
        record = decode_object(kind, row.raw)
        name = record.customer_name if data_type == "customers" else record.supplier_name
        existing.append(contact_record(record, name))
    ours = matching.CounterpartRecord(
        id=str(counterpart.id),
        name=counterpart.name,
        country=counterpart.country,
        city=counterpart.city,
        address=counterpart.line1,
        postal_code=counterpart.postal_code,
    )
    result = matching.match_counterparts([ours], existing)[0]
    if result.outcome != "matched" or result.existing_id is None:
        return None
    taken = await synced_queries.of_provider_ids(
        session,
        connection.id,
        "vendor" if data_type == "suppliers" else "customer",
        [result.existing_id],
    )
    return None if result.existing_id in taken else result.existing_id


async def _ensure_item(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    context: rules.PushContext,
    product: Product,
    product_doc: rules.Product,
) -> str:
    validation = rules.validate_product(product_doc, context)
    if validation.problems:
        raise _Failed(
            f"The product {product.name!r} cannot be pushed",
            [p.message for p in validation.problems],
        )
    return await _dependency(
        session,
        provider,
        connection,
        "product",
        product.id,
        rules.map_item(product_doc, validation),
        "item",
    )


async def settle_from_event(
    ctx: JobContext, session: AsyncSession, connections: Sequence[AccountingConnection], event: Any
) -> bool:
    """A push-status webhook: queue the record's job, which reads the push operation and
    settles it. False when no synced record has this push key yet (the receiver retries)."""
    record = await synced_queries.by_push_key(
        session, [c.id for c in connections], event.push_operation_key
    )
    if record is None:
        return False
    if record.push_operation_key == event.push_operation_key and event.status != "Pending":
        record.next_attempt_at = None
        await session.flush()
        await ctx.jobs.enqueue("push_synced_record", synced_record_id=str(record.id))
    return True
