"""The push job: one run for one synced record, under its lease, that ends in a state the
next run can resume from (see the package's docstring for the steps)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import logs, metrics
from app.connections import queries as connection_queries
from app.db.models import SyncedRecord
from app.jobs import JobContext
from app.providers import ProviderError, ProviderRejected, ProviderUnavailable, PushOperation
from app.sync import queries as sync_queries
from app.sync.providers import provider_for_connection
from app.sync.push.common import DOC_TYPES, _Failed, _set_error, _Wait, now
from app.sync.push.dependencies import _dependency_push
from app.sync.push.documents import _document_job
from app.synced_records import queries as synced_queries


class _Committing:
    """The provider client, committing the job's session before every call: no transaction
    (and no pooled connection) is held while the provider answers, which may take seconds
    under 429s and retries. Every state the engine commits is one it can resume from."""

    def __init__(self, provider: Any, session: AsyncSession) -> None:
        self._provider, self._session = provider, session

    def __getattr__(self, name: str) -> Any:
        """The provider's capability flags (``idempotency_keys``, ``finds_own_creates``)."""
        return getattr(self._provider, name)

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
    logs.bind(record_id=record_id)
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
    real_provider = await provider_for_connection(ctx, partner_id, connection)
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
        metrics.push_attempt(record.object_type, manual)
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
