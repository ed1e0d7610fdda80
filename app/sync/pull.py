"""The pull: provider data into our tables, per data type, incrementally.

DESIGN.md "Flows: Pull". For each data type: read pages of up to 5000 records with
``query=modifiedDate>={cursor}`` ordered by ``modifiedDate`` (the first pull has no cursor),
upsert each page in one transaction keyed by (connection, provider id), and advance the
cursor in that same transaction, so a crash re-reads at most one page and never skips one.
After the cursor moves, paging restarts at page 1 of the new query (keyset paging over the
provider's offset pages), which stays correct when records change while we read. Deleted
records (``metadata.isDeleted``) are marked, never dropped; a failed pull deletes nothing and
leaves the cursor where it was. Memory stays at one page however large the company.

The query is ``modifiedDate>=`` in whole seconds, so a record is never skipped; once the
cursor's second is long past (`SETTLE`), the cursor moves to the next second so that an
unchanged company returns nothing (`settled_cursor`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy.ext.asyncio import AsyncSession

from app import logs, metrics
from app.connections import health
from app.connections import queries as connection_queries
from app.db.models import AccountingConnection
from app.jobs import JobContext
from app.providers import ProviderError, ProviderNotFound
from app.providers.factory import NoProviderKey
from app.sync import ingest_memory, queries
from app.sync.providers import provider_flag, provider_for_connection
from app.sync.unchanged import drop_unchanged, vanished

log = logging.getLogger("acctsync.pull")
PAGE_SIZE = 5000
#: A ``modifiedDate`` second that ended this long before a pull can gain no more records.
SETTLE = dt.timedelta(minutes=10)
#: Pull order: what push validation and matching depend on first.
DATA_TYPES = health.PULLED_DATA_TYPES


def _is_deleted(record: Any) -> bool:
    return bool(record.metadata and record.metadata.is_deleted)


def _minor(amount: Decimal | None, currency: str | None) -> int | None:
    if amount is None:
        return None
    try:
        exponent = get_currency_precision(currency) if currency else 2
    except Exception:  # unknown currency code from a platform: assume cents
        exponent = 2
    return int((amount * (10**exponent)).quantize(Decimal(1), ROUND_HALF_UP))


def _rate(value: Decimal | None) -> int | None:
    """Percent -> percent x 100 (12.5 -> 1250), as Monite's tax rates."""
    if value is None:
        return None
    return int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))


def account_name(a: Any) -> str:
    """The account's name; platforms without one (Dynamics sends ``""`` with a fully
    qualified name of ``".."``) fall back to the qualified name, the nominal code, the id."""
    for value in (a.name, (a.fully_qualified_name or "").strip(". "), a.nominal_code, a.id):
        if value and value.strip():
            return value.strip()[:300]
    return a.id


def account_row(connection_id: uuid.UUID, a: Any) -> dict[str, Any]:
    """A Codat account as a ``ledger_accounts`` row (balance in minor units of its currency,
    two decimals when the platform sends no currency)."""
    return {
        "connection_id": connection_id,
        "provider_id": a.id,
        "name": account_name(a),
        "nominal_code": a.nominal_code,
        "description": a.description,
        "type": a.type,
        "subtype": a.fully_qualified_category,
        "status": a.status or "Unknown",
        "currency": (a.currency or None) and a.currency[:3],
        "current_balance": _minor(a.current_balance, a.currency),
        "is_bank_account": bool(a.is_bank_account),
        "is_deleted": _is_deleted(a),
        "provider_modified_at": a.modified_date,
    }


def tax_rate_row(connection_id: uuid.UUID, t: Any) -> dict[str, Any]:
    """A Codat tax rate as an ``accounting_tax_rates`` row (rates in percent x 100)."""
    return {
        "connection_id": connection_id,
        "provider_id": t.id,
        "name": t.name,
        "code": t.code,
        "status": t.status,
        "effective_tax_rate": _rate(t.effective_tax_rate),
        "total_tax_rate": _rate(t.total_tax_rate),
        "components": [
            {"name": c.name, "rate": _rate(c.rate), "is_compound": bool(c.is_compound)}
            for c in t.components
        ],
        "is_deleted": _is_deleted(t),
        "provider_modified_at": t.modified_date,
    }


def _record_name(data_type: str, r: Any) -> str | None:
    name = {
        "customers": lambda: r.customer_name,
        "suppliers": lambda: r.supplier_name,
        "items": lambda: r.name,
        "invoices": lambda: r.invoice_number,
        "bills": lambda: r.reference,
    }.get(data_type, lambda: None)()
    return name[:300] if name else None


def pulled_row(connection_id: uuid.UUID, data_type: str, r: Any, raw: Any) -> dict[str, Any]:
    """Any other record as a ``pulled_records`` row, its JSON kept as sent."""
    return {
        "connection_id": connection_id,
        "data_type": data_type,
        "provider_id": r.id,
        "name": _record_name(data_type, r),
        "raw": bytes(raw),
        "is_deleted": _is_deleted(r),
        "provider_modified_at": r.modified_date,
    }


#: Called with each page inside the page's transaction, before its commit:
#: ``(session, data_type, records)`` (the matching step, `app.sync.matching.PullMatcher`).
AfterPage = Callable[[AsyncSession, str, Sequence[Any]], Awaitable[None]]


async def _store_page(
    session: AsyncSession,
    connection_id: uuid.UUID,
    data_type: str,
    records: Sequence[Any],
    raws: Sequence[Any],
) -> None:
    if data_type == "accounts":
        await queries.upsert_ledger_accounts(
            session, [account_row(connection_id, a) for a in records]
        )
    elif data_type == "taxRates":
        await queries.upsert_tax_rates(session, [tax_rate_row(connection_id, t) for t in records])
    else:
        await queries.upsert_pulled(
            session,
            [
                pulled_row(connection_id, data_type, r, raw)
                for r, raw in zip(records, raws, strict=True)
            ],
        )


@dataclass
class PullStats:
    """What one pull of a data type read: ``changed`` counts the records new or modified
    since the previous pull's cursor (every record on a first pull); the records of the
    cursor's own second, read again on every pull, are not counted as changed."""

    changed: int = 0


async def pull_data_type(
    ctx: JobContext,
    connection: AccountingConnection,
    provider: Any,
    data_type: str,
    after_page: AfterPage | None = None,
    stats: PullStats | None = None,
) -> int:
    """Pull one data type; returns how many records were stored (``stats``, when given,
    receives how many of them changed).

    Raises:
        ProviderError: the provider failed; the cursor stays where the last committed page left it.
    """
    started = dt.datetime.now(dt.UTC)
    async with ctx.sessionmaker() as session:
        since = (await queries.cursor(session, connection.id, data_type)).modified_since
        await session.commit()
    previous_cursor = since

    def fetch(page_no: int, modified_since: dt.datetime | None) -> asyncio.Task[Any]:
        return asyncio.ensure_future(
            provider.get_page(
                connection.provider_company_id,
                data_type,
                page=page_no,
                page_size=PAGE_SIZE,
                modified_since=modified_since,
                order_by="modifiedDate" if modified_since is not None else None,
            )
        )

    count, newest_seen = 0, None
    # a provider that reports no deletions: what a complete read did not list is gone
    seen: set[str] | None = (
        set() if not provider_flag(provider, "supports_modified_since") else None
    )
    listed = 0
    # The next page is read while this one is stored and matched (two pages in memory at
    # most); its failure surfaces only after this page and its cursor are committed.
    pending: asyncio.Task[Any] | None = fetch(1, since)
    page_no = 1
    try:
        while pending is not None:
            page = await pending
            pending = None
            records = page.records
            newest = max((r.modified_date for r in records if r.modified_date), default=None)
            # Incremental pulls move the cursor with each committed page and restart at page 1.
            restart = since is not None and newest is not None and newest > since
            if page.has_next and records:
                since, page_no = (newest, 1) if restart else (since, page_no + 1)
                pending = fetch(page_no, since)
            if seen is not None:
                seen.update(r.id for r in records)
                listed = page.total_results
            # One transaction per page: its records, their matching and the cursor.
            async with ctx.sessionmaker() as session:
                read, raws = records, page.raw
                if records and not provider_flag(provider, "supports_modified_since"):
                    # every page is read again: unchanged records cost no write (`unchanged`)
                    row_of = {"accounts": account_row, "taxRates": tax_rate_row}.get(data_type)
                    records, raws = await drop_unchanged(
                        session, connection.id, data_type, records, raws, row_of
                    )
                if records:
                    await _store_page(session, connection.id, data_type, records, raws)
                    if after_page is not None:
                        await after_page(session, data_type, records)
                if restart:
                    row = await queries.cursor(session, connection.id, data_type)
                    row.modified_since = newest
                await session.commit()
            count += len(read)
            if stats is not None:
                stats.changed += sum(
                    1
                    for r in records
                    if previous_cursor is None
                    or r.modified_date is None
                    or r.modified_date > previous_cursor
                )
            if newest is not None and (newest_seen is None or newest > newest_seen):
                newest_seen = newest
            del page, read, records, raws  # this page's objects go in the collection now
            ingest_memory.page_done()
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
    # (only when the listing held still: a deletion during the read shifts the pages)
    if seen is not None and len(seen) == listed:
        async with ctx.sessionmaker() as session:
            gone, gone_raws = await vanished(session, connection.id, data_type, seen)
            if gone:
                await _store_page(session, connection.id, data_type, gone, gone_raws)
                if after_page is not None:
                    await after_page(session, data_type, gone)
            await session.commit()
    # The first, full pull sets the cursor once every page is stored; the newest record seen
    # moves the cursor past its second once that second is settled (see `settled_cursor`).
    # A pull that reads nothing leaves the cursor alone.
    async with ctx.sessionmaker() as session:
        row = await queries.cursor(session, connection.id, data_type)
        current = row.modified_since
        if newest_seen is not None and (current is None or newest_seen >= current):
            current = settled_cursor(newest_seen, started)
        if current != row.modified_since:
            row.modified_since = current
        await session.commit()
    return count


def settled_cursor(cursor: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """The cursor to store after a complete pull of a data type whose newest record read has
    ``modifiedDate`` ``cursor``.

    The query is ``modifiedDate>={cursor}`` in whole seconds (``format_cursor``), so the
    records of the cursor's own second come back on every pull. Once that second ended more
    than `SETTLE` before the pull started, no record can still arrive in it (the provider
    stamps ``modifiedDate`` when it stores a change), so the cursor moves to the next whole
    second and an unchanged company returns nothing. A recent cursor stays exact: a record
    written later in that same second is read next time, never skipped.
    """
    if cursor is None:
        return None
    second = cursor.replace(microsecond=0)
    if second + dt.timedelta(seconds=1) + SETTLE <= now:
        return second + dt.timedelta(seconds=1)
    return cursor


async def pull(
    ctx: JobContext, connection_id: uuid.UUID, data_types: Sequence[str] | None = None
) -> dict[str, int | str]:
    """Pull a connected connection: every data type (or the given ones), in dependency order.

    Returns per data type the number of records stored, or the error text. ``last_pull`` on
    the connection moves only when every requested data type completed.
    """
    async with ctx.sessionmaker() as session:
        connection = await connection_queries.by_id(session, connection_id)
        if connection is None or connection.status != "connected":
            return {}
        entity = await connection_queries.entity_of(session, connection)
    async with queries.lease(ctx.jobs.engine, connection_id) as leased:
        if not leased:
            # Another pull of this connection is running: run this one after it.
            await ctx.jobs.retry_later(
                "pull_connection",
                5.0,
                connection_id=str(connection_id),
                data_types=list(data_types) if data_types else None,
            )
            return {}
        # Fewer, larger garbage collections while pages are stored; memory handed back after.
        with ingest_memory.pull_gc():
            results = await _pull(ctx, connection, entity.partner_id, data_types)
    ingest_memory.release_memory(sum(v for v in results.values() if isinstance(v, int)))
    return results


async def _pull(
    ctx: JobContext,
    connection: AccountingConnection,
    partner_id: uuid.UUID,
    data_types: Sequence[str] | None,
) -> dict[str, int | str]:
    from app.sync.matching import PullMatcher

    connection_id = connection.id
    logs.bind(partner_id=partner_id, entity_id=connection.entity_id, connection_id=connection_id)
    try:
        provider = await provider_for_connection(ctx, partner_id, connection)
    except NoProviderKey:
        await _note(
            ctx,
            connection_id,
            "provider_key_missing",
            "The partner has no accounting provider API key configured (PATCH /v1/settings)",
            None,
        )
        raise
    wanted = [d for d in DATA_TYPES if data_types is None or d in data_types]
    started = dt.datetime.now(dt.UTC)
    if "items" in wanted:
        await read_base_currency(ctx, connection, provider)
    matcher = PullMatcher(connection)
    results: dict[str, int | str] = {}
    for data_type in wanted:
        stats = PullStats()
        clock = metrics.clock()
        failure: ProviderError | None = None
        try:
            results[data_type] = await pull_data_type(
                ctx, connection, provider, data_type, matcher, stats
            )
        except ProviderError as exc:
            log.warning("pull %s %s failed: %s", connection_id, data_type, exc)
            results[data_type] = f"{type(exc).__name__}: {exc}"
            failure = exc
        except Exception:
            # Ours, not the provider's (logged and retried by the job): the partner sees that
            # this data type is not being pulled, without the internals.
            await _note(
                ctx,
                connection_id,
                "internal_error",
                f"An internal error stopped the pull of {data_type}; it is retried",
                data_type,
            )
            raise
        company_missing = False
        if isinstance(failure, ProviderNotFound):
            company_missing = await _company_missing(provider, connection.provider_company_id)
        finished = dt.datetime.now(dt.UTC)
        read = int(results[data_type]) if failure is None else 0
        metrics.pull_done(data_type, failure is None, clock, read, stats.changed)
        async with ctx.sessionmaker() as session:
            row = await queries.cursor(session, connection.id, data_type)
            row.last_run_at = finished
            row.last_error = None if failure is None else str(results[data_type])[:2000]
            if failure is None:
                row.last_count = int(results[data_type])
                row.last_changed = stats.changed
                row.last_success_at = finished
            # locked: a webhook changing the same ``errors`` at this moment waits, loses nothing
            fresh = await connection_queries.locked(session, connection_id)
            if fresh is not None:
                if failure is None:
                    health.resolve_pulled(fresh, data_type)
                else:
                    code, wide = health.classify(failure, company_missing)
                    message = (
                        f"The accounting company {connection.provider_company_id} was not found"
                        " at the provider (deleted, or the provider lost it); reconnect"
                        if code == "company_not_found"
                        else health.describe(failure)
                    )
                    health.record(fresh, code, message, None if wide else data_type, finished)
            await session.commit()
        if company_missing:
            break  # every other data type would fail the same way
    if data_types is None and all(isinstance(v, int) for v in results.values()):
        async with ctx.sessionmaker() as session:
            fresh = await connection_queries.by_id(session, connection_id)
            if fresh is not None:
                fresh.last_pull = started
                await session.commit()
    return results


async def read_base_currency(
    ctx: JobContext, connection: AccountingConnection, provider: Any
) -> None:
    """The accounting company's base currency (``CompanyInfo.base_currency``) onto the
    connection (row and ``connection``), before items are pulled: the products a pull creates
    keep their items' prices in it (`app.sync.matching`). A failed read keeps the currency last
    read (logged; the pull goes on)."""
    try:
        info = await provider.get_company_info(connection.provider_company_id)
    except ProviderError as exc:
        log.warning("pull %s: company info not read: %s", connection.id, exc)
        return
    if info.base_currency is None or info.base_currency == connection.base_currency:
        return
    async with ctx.sessionmaker() as session:
        fresh = await connection_queries.by_id(session, connection.id)
        if fresh is not None:
            fresh.base_currency = info.base_currency
            await session.commit()
    connection.base_currency = info.base_currency


async def _note(
    ctx: JobContext, connection_id: uuid.UUID, code: str, message: str, data_type: str | None
) -> None:
    """Record a problem on the connection in a transaction of its own."""
    async with ctx.sessionmaker() as session:
        fresh = await connection_queries.locked(session, connection_id)
        if fresh is not None:
            health.record(fresh, code, message, data_type)
            await session.commit()


async def _company_missing(provider: Any, company_id: str) -> bool:
    """Whether a 404 of a read meant the company itself is gone (not an unsynced data type)."""
    try:
        await provider.get_company(company_id)
    except ProviderNotFound:
        return True
    except ProviderError:
        return False
    return False
