"""The push: payables and receivables to the accounting system, exactly once.

DESIGN.md "Flows: Push"; OCA connector's exporter pattern. A status change that matches the
entity's rules leaves a ``pending`` synced record (``hooks``); this job then:

1. holds the record's lease (one job per record across workers), re-reads it, and does nothing
   if it is done (and unchanged), waiting for a person, not yet due, or in flight (then it
   polls the push operation instead);
2. validates the document (every problem at once, no provider call if any);
3. pushes dependencies first: the counterpart (matched to a pulled customer/supplier by name,
   else created) and, for receivables, products without an item. Each dependency is bound by
   its own synced record (created race-free) and pushed under that record's lease, so a
   thousand bills of one vendor create one supplier. A dependency still in flight after
   ``DEPENDENCY_WAIT`` seconds makes the document job come back later (``_Wait``) instead of
   holding a worker;
4. records the attempt (``sync_attempts``) and commits *before* calling the provider, then
   pushes with the ``Idempotency-Key`` ``{record id}:{phase}:{attempt}``, and stores the push
   operation key in its own commit. A crash between the two commits leaves the attempt
   ``pending`` without a key: the next run re-sends with the SAME key, which the provider
   answers with the first response (Codat: idempotent replays);
5. settles on the outcome (webhook -> ``settle_from_event`` -> this job, or polling after
   ``POLL_AFTER`` seconds): ``Success`` -> ``done`` with the provider and platform ids;
   ``Failed`` -> ``error`` with the provider's messages; ``TimedOut`` -> a create looks for the
   record by the marker ``acctsync:{record id}`` in its note (``query=note~{id}``; contacts
   and items by name) and adopts it, else pushes again; an update or void is simply sent again
   (a full PUT is idempotent). Before any create that follows an earlier create attempt of
   unknown outcome (5xx, timeout, crash), the same look-up runs first, so a slow platform never
   gets two bills. Canceled/uncollectible receivables are voided after they land; a document
   that changed while in flight is pushed again as an update.

Transient failures (provider unavailable after the client's own retries, 5xx outcomes) retry by
themselves with capped exponential backoff and jitter, at most ``MAX_ATTEMPTS`` failed attempts
in a row; then, and for validation and platform rejections, the record stays ``error`` until a
person retries (``POST /v1/accounting_synced_records/{id}/push``). Every attempt is kept in
``sync_attempts``.

Timing knobs: ``RETRY_BASE``/``RETRY_CAP`` (module constants); ``POLL_AFTER``,
``DEPENDENCY_WAIT``, ``WAIT_RETRY`` and ``RESEND_AFTER`` may also be overridden per process
through ``JobContext.extras`` (``push_poll_after`` etc.), e.g. by tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
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
from app.jobs import JobContext
from app.providers import (
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
    PushOperation,
)
from app.sync import documents
from app.sync import queries as sync_queries
from app.synced_records import queries as synced_queries

log = logging.getLogger("acctsync.push")
#: Failed attempts in a row (transient errors) before a record waits for a person.
MAX_ATTEMPTS = 5
#: Seconds before polling a push operation no webhook has settled.
POLL_AFTER = 10.0
#: Seconds a document job waits in-job for a counterpart/item push to settle.
DEPENDENCY_WAIT = 2.0
#: Seconds before a document job tries again when a dependency is busy or in flight.
WAIT_RETRY = 1.0
#: Seconds before pushing again after a TimedOut push whose record did not land.
RESEND_AFTER = 0.5
#: Backoff of transient failures: RETRY_BASE x 2^(n-1) seconds, capped at RETRY_CAP.
RETRY_BASE = 30.0
RETRY_CAP = 3600.0
DOC_TYPES = ("bill", "receivable")
DEPENDENCY_TYPES = ("vendor", "customer", "product")
DATA_TYPE = {
    "bill": "bills",
    "receivable": "invoices",
    "vendor": "suppliers",
    "customer": "customers",
    "product": "items",
}
NAME_FIELD = {"suppliers": "supplierName", "customers": "customerName", "items": "name"}
WHAT = {"vendor": "supplier", "customer": "customer", "product": "item"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _knob(ctx: JobContext | None, name: str) -> float:
    default = globals()[name.upper()]
    if ctx is None:
        return default
    return float(ctx.extras.get(f"push_{name}", default))


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` (1-based): ``RETRY_BASE`` x 2^(n-1), capped at
    ``RETRY_CAP``, jittered to 50-100% (AWS "Exponential Backoff And Jitter")."""
    return random.uniform(0.5, 1.0) * min(RETRY_CAP, RETRY_BASE * 2 ** max(0, attempt - 1))


def marker(record: SyncedRecord) -> str:
    """The tag written into a pushed document's note, to find it after a timeout."""
    return f"acctsync:{record.id}"


class _Wait(Exception):
    """Nothing failed, but the job must come back in ``delay`` seconds (a dependency is busy
    or in flight, a push timed out and is to be sent again, the document changed)."""

    def __init__(self, delay: float):
        super().__init__(f"again in {delay} s")
        self.delay = delay


class _Failed(Exception):
    """The push cannot go on: ``message`` and ``details`` go on the synced record;
    ``waiting_for`` names the dependency's synced record a person must decide first."""

    def __init__(
        self,
        message: str,
        details: list[Any] | None = None,
        transient: bool = False,
        waiting_for: uuid.UUID | None = None,
    ):
        super().__init__(message)
        self.message, self.details, self.transient = message, details or [], transient
        self.waiting_for = waiting_for


class _Committing:
    """The provider client, committing the job's session before every call: no transaction
    (and no pooled connection) is held while the provider answers, which may take seconds
    under 429s and retries. Every state the engine commits is one it can resume from."""

    def __init__(self, provider: Any, session: AsyncSession) -> None:
        self._provider, self._session = provider, session

    async def get_push_operation(self, *args: Any, **kwargs: Any) -> PushOperation:
        await self._session.commit()
        return await self._provider.get_push_operation(*args, **kwargs)

    async def get_page(self, *args: Any, **kwargs: Any) -> Any:
        await self._session.commit()
        return await self._provider.get_page(*args, **kwargs)

    async def push_create(self, *args: Any, **kwargs: Any) -> PushOperation:
        await self._session.commit()
        return await self._provider.push_create(*args, **kwargs)

    async def push_update(self, *args: Any, **kwargs: Any) -> PushOperation:
        await self._session.commit()
        return await self._provider.push_update(*args, **kwargs)


async def due_records(session: AsyncSession, at: dt.datetime) -> list[uuid.UUID]:
    """Synced records a push job should look at now (see ``synced_queries.due``)."""
    return await synced_queries.due(session, at)


async def run_push(ctx: JobContext, record_id: uuid.UUID, *, manual: bool = False) -> None:
    """Push or settle one synced record (safe to run twice, concurrently or after a crash).

    One job at a time holds a record's lease; a job that finds it taken runs again shortly.
    ``manual``: a person asked for it (runs even when the record waits for a person).
    """
    async with sync_queries.lease(ctx.jobs.engine, record_id) as leased:
        if not leased:
            await ctx.jobs.retry_later("push_synced_record", 1.0, synced_record_id=str(record_id))
            return
        again = await _run_push(ctx, record_id, manual)
    if again is not None:
        await ctx.jobs.retry_later("push_synced_record", again, synced_record_id=str(record_id))


async def _run_push(ctx: JobContext, record_id: uuid.UUID, manual: bool) -> float | None:
    """One run; returns seconds after which to run again (None: the sweep or a webhook will)."""
    again: float | None = None
    async with ctx.sessionmaker() as session:
        record = await session.get(SyncedRecord, record_id)
        if record is None or not _should_run(record, manual):
            return None
        connection = await connection_queries.by_id(session, record.connection_id)
        assert connection is not None
        partner_id = (await connection_queries.entity_of(session, connection)).partner_id
    # the provider first, so a job never holds two pooled connections at once
    real_provider = await ctx.provider_for(partner_id)
    async with ctx.sessionmaker() as session:
        record = await synced_queries.lock(session, record_id)
        if record is None or not _should_run(record, manual):
            return None
        if manual:
            record.errors = None  # a person asked: the automatic retries start over
        connection = await connection_queries.by_id(session, record.connection_id)
        assert connection is not None
        entity = await connection_queries.entity_of(session, connection)
        if connection.status != "connected":
            _set_error(ctx, record, f"The accounting connection is {connection.status}", [], False)
            await session.commit()
            return None
        provider = _Committing(real_provider, session)
        try:
            if record.object_type in DOC_TYPES:
                await _document_job(ctx, session, provider, connection, entity, record)
            else:
                await _dependency_push(ctx, session, provider, connection, entity, record, 0.0)
        except _Wait as exc:
            record.next_attempt_at = now() + dt.timedelta(seconds=exc.delay)
            again = exc.delay
        except _Failed as exc:
            _set_error(ctx, record, exc.message, exc.details, exc.transient)
            if exc.waiting_for is not None and exc.waiting_for != record.id:
                assert record.errors is not None
                record.errors["waiting_for"] = str(exc.waiting_for)
        except ProviderUnavailable as exc:
            _set_error(
                ctx,
                record,
                f"The accounting provider is unavailable: {exc}",
                [],
                True,
                retry_after=exc.retry_after,
            )
        except ProviderRejected as exc:
            details = [v.message for v in exc.validation_errors]
            _set_error(
                ctx,
                record,
                f"The accounting provider rejected the request: {exc.error or exc}",
                details,
                False,
            )
        except ProviderError as exc:  # an answer the API does not document: a provider bug
            _set_error(ctx, record, f"The accounting provider failed: {exc}", [], True)
        if record.sync_status == "error" and record.next_attempt_at is not None:
            again = max(0.0, (record.next_attempt_at - now()).total_seconds())
        await session.commit()
    return again


def _should_run(record: SyncedRecord, manual: bool) -> bool:
    if record.object_id is None:
        return False  # a pulled contact or item nobody is bound to: nothing to push
    if manual:
        return True
    if record.sync_status == "done":
        return False
    if record.sync_status == "error" and record.next_attempt_at is None:
        return False  # waits for a person
    if record.object_type not in DOC_TYPES and record.sync_status != "pending":
        return record.next_attempt_at is not None and record.next_attempt_at <= now()
    return record.next_attempt_at is None or record.next_attempt_at <= now()


async def _failures_in_a_row(session: AsyncSession, record: SyncedRecord) -> int:
    """Failed attempts since the last success (the one that just failed included)."""
    count = 0
    for attempt in reversed(await synced_queries.attempts_of(session, record.id)):
        if attempt.outcome == "done":
            break
        count += 1
    return max(count, 1)


def _set_error(
    ctx: JobContext | None,
    record: SyncedRecord,
    message: str,
    details: list[Any],
    transient: bool,
    retry_after: float | None = None,
) -> None:
    """Put the record in ``error``; a transient failure is retried automatically after a
    backoff unless it is the ``MAX_ATTEMPTS``-th failed run in a row (counted in
    ``errors.failures``, reset by a success, a status change or a manual retry)."""
    failures = int((record.errors or {}).get("failures") or 0) + 1
    record.sync_status = "error"
    record.push_operation_key = None
    record.errors = {"message": message, "details": details, "failures": failures}
    if transient and failures < MAX_ATTEMPTS:
        delay = backoff(failures)
        record.next_attempt_at = now() + dt.timedelta(seconds=max(delay, retry_after or 0.0))
        record.errors["retry"] = (
            f"retrying automatically (failed attempt {failures} of {MAX_ATTEMPTS})"
        )
    else:
        record.next_attempt_at = None


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


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


async def _send(
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    record: SyncedRecord,
    payload: dict[str, Any],
    phase: str,
    lookup: Callable[[], Awaitable[str | None]] | None = None,
) -> tuple[PushOperation | None, str | None, SyncAttempt]:
    """Record the attempt, commit, call the provider, store the push key, commit.

    Returns ``(operation, None, attempt)``, or ``(None, found id, attempt)`` when ``lookup``
    found the record an earlier create of unknown outcome (5xx, timeout, lost operation)
    wrote after all: before a create that follows another create attempt, ``lookup`` runs
    first, inside the new attempt. A last attempt of the same phase left ``pending`` without a
    key (a crash between the two commits) is re-sent with the same idempotency key instead.

    Raises ``_Wait`` when such a re-send is refused because the request differs (its outcome
    is then unknown; the next run looks before it creates), ``ProviderError`` otherwise.
    """
    attempts = await synced_queries.attempts_of(session, record.id)
    last = attempts[-1] if attempts else None
    resend = (
        last is not None
        and last.kind == phase
        and last.outcome == "pending"
        and last.push_operation_key is None
    )
    earlier = [a for a in attempts if a.kind == "create"] if phase == "create" else []
    if not resend or last is None:
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
    # a crash from here on is picked up by the sweep after POLL_AFTER, not at once
    record.next_attempt_at = now() + dt.timedelta(seconds=POLL_AFTER)
    await session.commit()  # the attempt exists before the provider hears of it
    try:
        if earlier and not resend and lookup is not None:
            found = await lookup()
            if found is not None:
                for attempt in earlier:
                    if attempt.outcome == "pending":
                        attempt.outcome, attempt.finished_at = "error", now()
                last.response = {"found_by_lookup": True, "record_id": found}
                return None, found, last
        op = await _call(provider, connection, record, payload, phase, last.number)
    except ProviderRejected as exc:
        last.outcome, last.error, last.finished_at = "error", str(exc)[:2000], now()
        if resend and exc.status_code == 422:
            # The key was used with another body (the document changed before the re-send):
            # whether the first request landed is unknown; the next run checks first.
            raise _Wait(RESEND_AFTER) from None
        raise
    except ProviderError as exc:
        last.outcome, last.error, last.finished_at = "error", str(exc)[:2000], now()
        raise
    record.push_operation_key = op.push_operation_key
    last.push_operation_key = op.push_operation_key
    last.response = {"status": op.status, "push_operation_key": op.push_operation_key}
    await session.commit()  # the push key is stored before anything else happens
    return op, None, last


async def _call(
    provider: Any,
    connection: AccountingConnection,
    record: SyncedRecord,
    payload: dict[str, Any],
    phase: str,
    number: int,
) -> PushOperation:
    """The provider call itself, with the ``Idempotency-Key`` ``{record}:{phase}:{attempt}``."""
    data_type = DATA_TYPE[record.object_type]
    key = f"{record.id}:{phase}:{number}"
    if phase == "create":
        return await provider.push_create(
            connection.provider_company_id,
            connection.provider_connection_id,
            data_type,
            payload,
            idempotency_key=key,
        )
    return await provider.push_update(
        connection.provider_company_id,
        connection.provider_connection_id,
        data_type,
        record.provider_object_id,
        payload,
        idempotency_key=key,
    )


def _summary(payload: dict[str, Any], record: SyncedRecord) -> dict[str, Any]:
    """What a person needs to know about what was sent; ``version`` is the object change it
    carries (the hook's ``object_updated_at``)."""
    version = record.object_updated_at or now()
    return {
        "version": version.isoformat(),
        "status": payload.get("status"),
        "currency": payload.get("currency") or payload.get("defaultCurrency"),
        "total": str(payload["totalAmount"]) if "totalAmount" in payload else None,
        "lines": len(payload.get("lineItems", [])),
        "counterpart": (payload.get("supplierRef") or payload.get("customerRef") or {}).get("id"),
        "name": payload.get("supplierName") or payload.get("customerName") or payload.get("name"),
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
        if await _failures_in_a_row(session, record) >= MAX_ATTEMPTS:
            raise _Failed(
                f"The accounting system timed out {MAX_ATTEMPTS} times in a row", [], False
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
    record.sync_status = "done"
    if changed:  # the document changed while this push was in flight: push it as an update
        record.sync_status = "pending"
        raise _Wait(0.1)


async def _find_landed(
    provider: Any, connection: AccountingConnection, record: SyncedRecord
) -> str | None:
    """The id of the document this record pushed, if the platform has it (found by the
    marker in its note: Codat ``query=note~{synced record id}``)."""
    if record.provider_object_id:
        return record.provider_object_id
    page = await provider.get_page(
        connection.provider_company_id,
        DATA_TYPE[record.object_type],
        page_size=10,
        query=f"note~{record.id}",
    )
    return page.records[0].id if page.records else None


# --------------------------------------------------------------------------------------------
# Dependencies: counterparts (customers, suppliers) and products (items)
# --------------------------------------------------------------------------------------------


async def _bound(
    session: AsyncSession, connection: AccountingConnection, object_type: str, object_id: uuid.UUID
) -> SyncedRecord:
    """The object's synced record on the connection, created race-free if it has none."""
    record = await synced_queries.of_object(session, connection.id, object_type, object_id)
    if record is not None:
        return record
    await synced_queries.insert_pending_once(session, connection, object_type, object_id)
    await session.commit()
    record = await synced_queries.of_object(session, connection.id, object_type, object_id)
    assert record is not None
    return record


async def _ensure_dependency(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    object_type: str,
    object_id: uuid.UUID,
) -> str:
    """The provider id of a counterpart or product, pushing it first if it is not linked.

    Raises:
        _Wait: another job is pushing it, or its push is still in flight.
        _Failed: it cannot be pushed (its own record says why).
    """
    bound = await _bound(session, connection, object_type, object_id)
    if bound.sync_status == "done" and bound.provider_object_id:
        return bound.provider_object_id
    async with sync_queries.lease(ctx.jobs.engine, bound.id) as leased:
        if not leased:
            raise _Wait(_knob(ctx, "wait_retry"))
        await session.refresh(bound)
        try:
            return await _dependency_push(
                ctx,
                session,
                provider,
                connection,
                entity,
                bound,
                _knob(ctx, "dependency_wait"),
            )
        except ProviderError as exc:
            if not isinstance(exc, ProviderRejected):
                bound.errors = {"message": f"The accounting provider failed: {exc}"}
                raise
            message = f"The accounting provider rejected the request: {exc}"
            _set_error(ctx, bound, message, [], False)
            await session.commit()
            raise _Failed(
                f"The {WHAT[object_type]} could not be created in the accounting system",
                [v.message for v in exc.validation_errors] or [str(exc)],
            ) from None
        except _Failed as exc:
            if bound.sync_status != "error":
                _set_error(ctx, bound, exc.message, exc.details, False)
            await session.commit()
            raise


async def _poll(provider: Any, company_id: str, op: PushOperation, wait: float) -> PushOperation:
    """Poll a Pending operation for up to ``wait`` seconds (0.05 s, doubling, at most 0.5 s)."""
    waited, step = 0.0, 0.05
    while op.status == "Pending" and waited < wait:
        await asyncio.sleep(step)
        waited += step
        step = min(step * 2, 0.5)
        op = await provider.get_push_operation(company_id, op.push_operation_key)
    return op


async def _dependency_push(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    entity: Entity,
    bound: SyncedRecord,
    wait: float,
) -> str:
    """Link or push one dependency (its lease held); returns its provider id.

    Raises ``_Wait`` while its push is in flight, ``_Failed`` when it is refused.
    """
    if bound.sync_status == "done" and bound.provider_object_id:
        return bound.provider_object_id
    company = connection.provider_company_id
    if bound.push_operation_key:
        try:
            op = await provider.get_push_operation(company, bound.push_operation_key)
        except ProviderNotFound:
            await _close_attempt(session, bound, bound.push_operation_key, "operation lost")
            bound.push_operation_key = None
        else:
            op = await _poll(provider, company, op, wait)
            if op.status == "Pending":
                raise _Wait(_knob(ctx, "poll_after") if wait == 0 else _knob(ctx, "wait_retry"))
            found = await _settle_dependency(ctx, session, provider, connection, bound, op)
            if found is not None:
                return found
    payload = await _dependency_payload(session, connection, entity, bound)
    attempts = await synced_queries.attempts_of(session, bound.id)
    if not attempts and bound.object_type in ("vendor", "customer"):
        # An existing contact that plausibly matches is never duplicated: one clear candidate
        # is linked; several, or one that needs a person, leave the record for a person.
        decision = await _match_pulled_contact(session, connection, bound)
        if decision is not None and decision[0].outcome == "matched":
            assert decision[0].existing_id is not None
            await _adopt(session, bound, decision[0].existing_id)
            await session.commit()
            return decision[0].existing_id
        if decision is not None and _needs_person(decision[0]):
            from app.sync.matching import candidate_details

            match, names = decision
            why = (
                match.reason
                if match.outcome == "ambiguous"
                else "a contact of the same name is there, with other details"
            )
            raise _Failed(
                f"The {WHAT[bound.object_type]} may already be in the accounting system "
                f"({why}); choose the contact with PATCH "
                f"/v1/accounting_synced_records/{bound.id} "
                '{"provider_object_id": ...}, or {"create_new": true} to create it',
                candidate_details(match, "provider_object_id", names),
                waiting_for=bound.id,
            )
    op, found, attempt = await _send(
        session,
        provider,
        connection,
        bound,
        payload,
        "create",
        lookup=lambda: _find_dependency(session, provider, connection, bound, payload),
    )
    if found is not None:
        await _adopt(session, bound, found, attempt)
        await session.commit()
        return found
    assert op is not None
    op = await _poll(provider, company, op, wait)
    if op.status == "Pending":
        raise _Wait(_knob(ctx, "poll_after") if wait == 0 else _knob(ctx, "wait_retry"))
    found = await _settle_dependency(ctx, session, provider, connection, bound, op)
    if found is None:
        raise _Wait(_knob(ctx, "resend_after"))
    return found


async def _adopt(
    session: AsyncSession,
    bound: SyncedRecord,
    provider_id: str,
    attempt: SyncAttempt | None = None,
) -> None:
    """Bind ``bound`` to the provider record ``provider_id`` (it is done).

    A pull running meanwhile may have stored the record we just created as a pulled contact or
    item bound to nothing (``object_id`` null, "claimed" by us): that placeholder gives way.

    Raises ``_Failed`` when another of our objects is already bound to ``provider_id``.
    """
    await _take_over(session, bound, provider_id)
    if attempt is not None:
        attempt.outcome, attempt.finished_at = "done", now()
    bound.sync_status, bound.errors, bound.push_operation_key = "done", None, None
    bound.next_attempt_at, bound.push_phase = None, None
    bound.provider_object_id = bound.platform_object_id = provider_id
    bound.provider_updated_at = bound.platform_updated_at = now()


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


async def _settle_dependency(
    ctx: JobContext,
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    bound: SyncedRecord,
    op: PushOperation,
) -> str | None:
    """Settle a dependency's finished operation: its id, or None to push it again."""
    attempt = await _attempt_of(session, bound, op.push_operation_key)
    _note_response(attempt, op)
    try:
        found = await _outcome(provider, connection, bound, op)
    except _Failed as exc:
        if attempt is not None:
            attempt.outcome = "error"
            attempt.error = ("; ".join(exc.details) or exc.message)[:2000]
        bound.push_operation_key = None
        raise
    if found is None:  # TimedOut: did it land anyway?
        payload = await _dependency_payload(session, connection, None, bound)
        found = await _find_dependency(session, provider, connection, bound, payload)
    if found is None:
        if attempt is not None:
            attempt.outcome, attempt.error = "error", "push operation timed out; record not found"
        bound.push_operation_key = None
        bound.next_attempt_at = None
        if await _failures_in_a_row(session, bound) >= MAX_ATTEMPTS:
            raise _Failed(
                f"The accounting system timed out {MAX_ATTEMPTS} times in a row", [], False
            )
        await session.commit()
        return None
    await _adopt(session, bound, found, attempt)
    await session.commit()
    return found


async def _dependency_payload(
    session: AsyncSession,
    connection: AccountingConnection,
    entity: Entity | None,
    bound: SyncedRecord,
) -> dict[str, Any]:
    """The Codat supplier, customer or item body for a dependency (deterministic, so a
    re-send with the same idempotency key carries the same body)."""
    if entity is None:
        entity = await connection_queries.entity_of(session, connection)
    if bound.object_type in ("vendor", "customer"):
        counterpart = await session.get(Counterpart, bound.object_id)
        if counterpart is None:
            raise _Failed(f"The counterpart {bound.object_id} no longer exists")
        doc = await documents.counterpart_doc(session, connection, counterpart, bound.object_type)
        assert doc is not None
        mapper = rules.map_supplier if bound.object_type == "vendor" else rules.map_customer
        return mapper(doc, entity.currency)
    product = await session.get(Product, bound.object_id)
    if product is None:
        raise _Failed(f"The product {bound.object_id} no longer exists")
    product_doc = documents.product_doc(product)
    context = await documents.push_context(session, connection, entity)
    validation = rules.validate_product(product_doc, context)
    if validation.problems:
        raise _Failed(
            f"The product {product.name!r} cannot be pushed",
            [p.message for p in validation.problems],
        )
    return rules.map_item(product_doc, validation)


async def _find_dependency(
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    bound: SyncedRecord,
    payload: dict[str, Any],
) -> str | None:
    """After a create of unknown outcome: a live record with the name we sent that no other
    synced record holds (contacts and items carry no note to mark them)."""
    data_type = DATA_TYPE[bound.object_type]
    name = str(payload.get(NAME_FIELD[data_type]) or "")
    if not name or '"' in name:
        return None
    page = await provider.get_page(
        connection.provider_company_id,
        data_type,
        page_size=50,
        query=f'{NAME_FIELD[data_type]}="{name}"',
    )
    ids = [r.id for r in page.records if not (r.metadata and r.metadata.is_deleted)]
    if not ids:
        return None
    taken = await synced_queries.of_provider_ids(session, connection.id, bound.object_type, ids)
    free = [
        i for i in ids if i not in taken or taken[i].id == bound.id or taken[i].object_id is None
    ]
    return free[0] if free else None


def _needs_person(match: matching.Match) -> bool:
    """At push a duplicate contact in the customer's books is the costly mistake, so more is
    left for a person than at pull: an ambiguous match, and also an unmatched one whose best
    candidate has the same or a close name (the same name in another town may be a move)."""
    if match.outcome == "ambiguous":
        return True
    return match.outcome == "unmatched" and any(
        c.excluded_by not in ("country", "numbers") and c.fields[0].level in ("exact", "close")
        for c in match.candidates
    )


async def _match_pulled_contact(
    session: AsyncSession, connection: AccountingConnection, bound: SyncedRecord
) -> tuple[matching.Match, dict[str, str]] | None:
    """The matcher's decision for this counterpart against the contacts already in the
    accounting system (as last pulled), and their names by provider id; None when the
    counterpart is gone or has no name.

    Candidates: pulled customers (or suppliers) whose name holds the stem (first four letters)
    of one of the counterpart's words, so a typo later in a word still finds them. Contacts
    another of our objects is linked to are "claimed": a match to one is left for a person.
    Monite: a counterpart is matched by name, then country, city and address (`matching`).
    """
    counterpart = await session.get(Counterpart, bound.object_id)
    if counterpart is None:
        return None
    data_type = DATA_TYPE[bound.object_type]
    stems = sorted({t[:4] for t in matching.name_tokens(counterpart.name) if len(t) >= 3})
    rows = await sync_queries.pulled_by_name_words(session, connection.id, data_type, stems)
    from app.providers.records import Customer, Supplier, decode_object
    from app.sync.matching import contact_record

    kind = Customer if data_type == "customers" else Supplier
    existing = []
    names: dict[str, str] = {}
    for row in rows:
        pulled = decode_object(kind, row.raw)
        name = pulled.customer_name if data_type == "customers" else pulled.supplier_name
        existing.append(contact_record(pulled, name))
        names[pulled.id] = name or ""
    holders = await synced_queries.of_provider_ids(
        session, connection.id, bound.object_type, list(names)
    )
    claimed = {pid for pid, h in holders.items() if h.object_id is not None and h.id != bound.id}
    ours = matching.CounterpartRecord(
        id=str(counterpart.id),
        name=counterpart.name,
        country=counterpart.country,
        city=counterpart.city,
        address=counterpart.line1,
        postal_code=counterpart.postal_code,
    )
    return matching.match_counterparts([ours], existing, claimed=claimed)[0], names


# --------------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------------


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
