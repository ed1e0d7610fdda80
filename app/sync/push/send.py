"""Sending one push: the attempt is recorded and committed before the provider hears of it,
the call carries the ``Idempotency-Key`` ``{record id}:{phase}:{attempt}``, and the push
operation key is stored in a commit of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AccountingConnection, SyncAttempt, SyncedRecord
from app.providers import ProviderError, ProviderRejected, PushOperation
from app.sync.providers import provider_flag
from app.sync.push import common
from app.sync.push.common import DATA_TYPE, _Wait, now
from app.synced_records import queries as synced_queries


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
    # A provider without idempotency keys (Smarty) may have written a create re-sent after a
    # crash: look first then too, unless its creates find their own earlier writes.
    idempotent = provider_flag(provider, "idempotency_keys")
    finds_own = getattr(provider, "finds_own_creates", None)
    if finds_own is not None and finds_own(DATA_TYPE[record.object_type]):
        earlier = []
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
    record.next_attempt_at = now() + dt.timedelta(seconds=common.POLL_AFTER)
    await session.commit()  # the attempt exists before the provider hears of it
    try:
        if earlier and (not resend or not idempotent) and lookup is not None:
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
            raise _Wait(common.RESEND_AFTER) from None
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
