"""Dependencies pushed or linked before a document: its counterpart (a supplier or customer)
and, for a receivable, products without an item. Each is bound by its own synced record
(created race-free) and pushed under that record's lease, so a thousand bills of one vendor
create one supplier; a contact already in the books is linked, not duplicated (``lookup``).
A dependency still in flight after ``DEPENDENCY_WAIT`` seconds makes the document's job come
back later (``_Wait``) instead of holding a worker."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import sync_rules as rules
from app import metrics
from app.connections import queries as connection_queries
from app.db.models import (
    AccountingConnection,
    Counterpart,
    Entity,
    Product,
    SyncAttempt,
    SyncedRecord,
)
from app.jobs import JobContext
from app.providers import ProviderError, ProviderNotFound, ProviderRejected, PushOperation
from app.sync import documents
from app.sync import queries as sync_queries
from app.sync.matching import candidate_details
from app.sync.push import common
from app.sync.push.common import WHAT, _Failed, _knob, _set_error, _Wait, now
from app.sync.push.lookup import _ambiguous_or_close_name, _find_dependency, _match_pulled_contact
from app.sync.push.send import _send
from app.sync.push.settle import (
    _attempt_of,
    _close_attempt,
    _failures_in_a_row,
    _note_response,
    _outcome,
    _poll,
    _take_over,
)
from app.synced_records import queries as synced_queries


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
    deleted = (bound.errors or {}).get("code") == "deleted_upstream"
    if (not attempts or deleted) and bound.object_type in ("vendor", "customer"):
        # An existing contact that plausibly matches is never duplicated: one clear candidate
        # is linked; several, or one that needs a person, leave the record for a person.
        decision = await _match_pulled_contact(session, connection, bound)
        if decision is not None and decision[0].outcome == "matched":
            assert decision[0].existing_id is not None
            await _adopt(session, bound, decision[0].existing_id)
            await session.commit()
            return decision[0].existing_id
        if decision is not None and _ambiguous_or_close_name(decision[0]):
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
    metrics.push_done(bound.object_type, bound.object_updated_at or bound.created_at)
    bound.next_attempt_at, bound.push_phase = None, None
    bound.provider_object_id = bound.platform_object_id = provider_id
    bound.provider_updated_at = bound.platform_updated_at = now()


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
        if await _failures_in_a_row(session, bound) >= common.MAX_ATTEMPTS:
            raise _Failed(
                f"The accounting system timed out {common.MAX_ATTEMPTS} times in a row", [], False
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
