"""Exactly once under faults (issue 7): with the sandbox injecting 5xx, 429, push timeouts and
duplicated and reordered webhooks, every pushed payable and receivable exists exactly once in
the sandbox with the right amounts, lines, tax and ledger refs, and every synced record is
``done``; the same when the job runner is killed mid-run and started again.

``run_scenario`` is also what ``bench/push_reliability.py`` runs at 1,000 + 1,000 documents.
"""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.models import AccountingTaxRate, LedgerAccount, SyncedRecord
from app.jobs import Jobs
from app.sync.push import common as push_common
from tests.conftest import DATABASE_URL
from tests.e2e.conftest import World, _world
from tests.e2e.test_push_engine import (
    Books,
    company_id,
    connect_books,
    counterpart,
    product,
    sandbox_records,
    set_faults,
)

#: The issue's fault mix: 20% 5xx, 10% 429, push timeouts (80% of them still write the
#: record), duplicated and reordered webhooks; seeded so a run is reproducible.
FAULTS: dict[str, Any] = {
    "rate_5xx": 0.2,
    "rate_429": 0.1,
    "retry_after": 0,
    "push_timeout_rate": 0.1,
    "push_timeout_record_rate": 0.8,
    "webhook_duplicate_rate": 0.2,
    "webhook_reorder": True,
    "seed": 7,
}
MARKER = re.compile(r"acctsync:([0-9a-f-]{36})")


@dataclass
class Figures:
    """What a run measured (counts of documents unless said otherwise)."""

    payables: int = 0
    receivables: int = 0
    created: int = 0  # expected documents found in the sandbox (once or more)
    duplicates: int = 0  # extra copies of a document, plus extra suppliers/customers/items
    missing: int = 0
    wrong: list[str] = field(default_factory=list)  # documents whose values differ
    done: int = 0
    error: int = 0
    pending: int = 0
    seconds: float = 0.0  # from the first document to the last record done
    push_operations: int = 0  # push operations the sandbox saw (all data types)
    restarts: int = 0

    def line(self) -> str:
        return (
            f"payables={self.payables} receivables={self.receivables} created={self.created} "
            f"duplicates={self.duplicates} missing={self.missing} wrong={len(self.wrong)} "
            f"done={self.done} error={self.error} pending={self.pending} "
            f"push_ops={self.push_operations} restarts={self.restarts} "
            f"time={self.seconds:.1f}s"
        )


def _minor(value: Any) -> int:
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _tax(amount: int, rate: int) -> int:
    return int((Decimal(amount) * rate / 10000).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class Expected:
    kind: str  # "bills" | "invoices"
    object_id: str
    party: str  # our counterpart id
    lines: list[tuple[int, int, str, str, str | None]]  # unit minor, qty, account, rate, product
    tax_rate: list[int]

    def totals(self) -> tuple[int, int]:
        sub = sum(u * q for u, q, *_ in self.lines)
        tax = sum(_tax(u * q, r) for (u, q, *_), r in zip(self.lines, self.tax_rate, strict=True))
        return sub, tax


#: How long the 40-document scenarios may take (seconds): typically 10-20 s on the 2-core
#: machine; the figures are read when all settle or at this limit.
LIMIT_S = 40.0


async def _restart(world: World) -> None:
    """Kill the job runner mid-run (running jobs are cancelled where they stand, queued jobs
    and retry schedules are lost with the memory store) and start a fresh one, as a new worker
    process would start: only the tables say what is left to do."""

    async def restart() -> None:
        old: Jobs = world.service.state.jobs
        await old.stop(grace=0)  # a kill: no grace for the running jobs
        await asyncio.sleep(0.3)
        fresh = Jobs(
            old.settings,
            old.engine,
            old.context.sessionmaker,
            old.context.provider_for,
            run_worker=True,
            sweep_interval=old.sweep_interval,
        )
        fresh.context.extras.update(old.context.extras)
        world.service.state.jobs = fresh
        await fresh.start()

    await restart()  # the service and its job runner run in this event loop


async def run_scenario(
    world: World,
    sessionmaker: Any,
    *,
    payables: int,
    receivables: int,
    faults: dict[str, Any] | None = FAULTS,
    restart_at: float | None = None,
    limit: float = 60.0,
    parties: int | None = None,
) -> Figures:
    """Push ``payables`` bills and ``receivables`` invoices under ``faults``; when
    ``restart_at`` (0..1) is set, kill and restart the job runner once that share of the
    documents has been created. Returns the figures (the checks are the caller's)."""
    books = await connect_books(world, "Reliability Ltd")
    company = await company_id(sessionmaker)
    h = books.h
    parties = parties or max(2, (payables + receivables) // 100)
    vendors = [
        await counterpart(world, h, f"Reliable Vendor {n:03d}", customer=False)
        for n in range(parties)
    ]
    customers = [
        await counterpart(world, h, f"Reliable Customer {n:03d}", vendor=False)
        for n in range(parties)
    ]
    accounts = [a["id"] for a in books.accounts[:3]]  # the Xero example has two
    rates = [books.rate_of(2000)["id"], books.rate_of(500)["id"]]  # the lines' taxes, in turn
    products = [
        (await product(world, h, f"Reliable product {n}", 1000 + 250 * n,
                       accounts[n % len(accounts)]), 1000 + 250 * n)
        for n in range(4)
    ]  # fmt: skip
    if faults:
        await set_faults(world, company, faults)
    expected: dict[str, Expected] = {}
    figures = Figures(payables=payables, receivables=receivables)
    started = time.monotonic()
    gate = asyncio.Semaphore(8)
    total = payables + receivables
    restarted = asyncio.Event()

    async def one(n: int) -> None:
        async with gate:
            if n < payables:
                await _payable(world, books, n, vendors[n % parties], accounts, rates, expected)
            else:
                m = n - payables
                await _receivable(world, books, m, customers[m % parties], products, rates,
                                  expected)  # fmt: skip
            if restart_at is not None and len(expected) >= total * restart_at:
                if not restarted.is_set():
                    restarted.set()
                    await _restart(world)
                    figures.restarts += 1

    order = [n for pair in zip(range(payables), range(payables, total), strict=False)
             for n in pair]  # fmt: skip
    order += [n for n in range(total) if n not in set(order)]
    await asyncio.gather(*(one(n) for n in order))

    async def all_settled() -> bool:
        async with sessionmaker() as session:
            rows = await session.execute(
                select(SyncedRecord.sync_status, func.count())
                .where(SyncedRecord.object_type.in_(("bill", "receivable")))
                .group_by(SyncedRecord.sync_status)
            )
            counts = dict(rows.all())
        figures.done = counts.get("done", 0)
        figures.error = counts.get("error", 0)
        figures.pending = counts.get("pending", 0)
        waiting = await _errors_waiting(sessionmaker)
        return figures.done + waiting >= total

    deadline = time.monotonic() + limit
    while not await all_settled() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.25)
    figures.seconds = time.monotonic() - started
    if faults:
        await set_faults(world, company, None)
    await _verify(world, sessionmaker, company, expected, vendors, customers, products, figures)
    return figures


async def _errors_waiting(sessionmaker: Any) -> int:
    """Records in ``error`` that wait for a person (no automatic retry left)."""
    async with sessionmaker() as session:
        return (
            await session.scalar(
                select(func.count()).where(
                    SyncedRecord.object_type.in_(("bill", "receivable")),
                    SyncedRecord.sync_status == "error",
                    SyncedRecord.next_attempt_at.is_(None),
                )
            )
            or 0
        )


async def _payable(
    world: World,
    books: Books,
    n: int,
    vendor: str,
    accounts: list[str],
    rates: list[str],
    expected: dict[str, Expected],
) -> None:
    lines = []
    for k in range(1 + n % 3):
        lines.append(
            {
                "name": f"Item {n}-{k}",
                "quantity": 1 + (n + k) % 4,
                "unit_price": 199 + 37 * n + 11 * k,
                "tax": 2000 if (n + k) % 2 == 0 else 500,
                "ledger_account_id": accounts[(n + k) % len(accounts)],
                "accounting_tax_rate_id": rates[(n + k) % len(rates)],
            }
        )
    r = await world.client.post(
        "/v1/payables",
        headers=books.h,
        json={
            "currency": "GBP",
            "counterpart_id": vendor,
            "document_id": f"REL-B-{n:05d}",
            "issued_at": "2026-11-01",
            "due_date": "2026-12-01",
            "line_items": lines,
        },
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    for action in ("submit_for_approval", "approve_payment_operation"):
        done = await world.client.post(f"/v1/payables/{pid}/{action}", headers=books.h)
        assert done.status_code == 200, done.text
    expected[pid] = Expected(
        "bills",
        pid,
        vendor,
        [(li["unit_price"], li["quantity"], li["ledger_account_id"], li["accounting_tax_rate_id"],
          None) for li in lines],
        [li["tax"] for li in lines],
    )  # fmt: skip


async def _receivable(
    world: World,
    books: Books,
    n: int,
    customer: str,
    products: list[tuple[str, int]],
    rates: list[str],
    expected: dict[str, Expected],
) -> None:
    lines = []
    for k in range(1 + n % 2):
        pid, _price = products[(n + k) % len(products)]
        lines.append(
            {
                "product_id": pid,
                "quantity": 1 + (n + k) % 3,
                "tax_rate_value": 2000 if (n + k) % 2 == 0 else 500,  # as its rate says
                "accounting_tax_rate_id": rates[(n + k) % len(rates)],
            }
        )
    r = await world.client.post(
        "/v1/receivables",
        headers=books.h,
        json={
            "type": "invoice",
            "currency": "GBP",
            "counterpart_id": customer,
            "document_id": f"REL-I-{n:05d}",
            "issue_date": "2026-11-02",
            "due_date": "2026-12-02",
            "line_items": lines,
        },
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    done = await world.client.post(f"/v1/receivables/{rid}/issue", headers=books.h)
    assert done.status_code == 200, done.text
    prices = dict(products)
    expected[rid] = Expected(
        "invoices",
        rid,
        customer,
        [(prices[li["product_id"]], li["quantity"], "", li["accounting_tax_rate_id"],
          li["product_id"]) for li in lines],
        [li["tax_rate_value"] for li in lines],
    )  # fmt: skip


async def _verify(
    world: World,
    sessionmaker: Any,
    company: str,
    expected: dict[str, Expected],
    vendors: list[str],
    customers: list[str],
    products: list[tuple[str, int]],
    figures: Figures,
) -> None:
    async with sessionmaker() as session:
        records = {
            str(r.object_id): r
            for r in await session.scalars(
                select(SyncedRecord).where(
                    SyncedRecord.object_type.in_(
                        ("bill", "receivable", "vendor", "customer", "product")
                    )
                )
            )
        }
        accounts = {str(a.id): a.provider_id for a in await session.scalars(select(LedgerAccount))}
        rates = {str(t.id): t.provider_id for t in await session.scalars(select(AccountingTaxRate))}
    by_marker: dict[str, list[dict]] = {}
    for data_type in ("bills", "invoices"):
        for doc in await sandbox_records(world, company, data_type, query="note~acctsync"):
            found = MARKER.search(doc.get("note") or "")
            if found:
                by_marker.setdefault(found.group(1), []).append(doc)
    for object_id, exp in expected.items():
        record = records.get(object_id)
        copies = by_marker.get(str(record.id), []) if record is not None else []
        if not copies:
            figures.missing += 1
            continue
        figures.created += 1
        figures.duplicates += len(copies) - 1
        problem = _compare(exp, copies[0], records, accounts, rates)
        if problem:
            figures.wrong.append(f"{exp.kind} {object_id}: {problem}")
    for data_type, field_name, ours in (
        ("suppliers", "supplierName", "Reliable Vendor"),
        ("customers", "customerName", "Reliable Customer"),
        ("items", "name", "Reliable product"),
    ):
        names: dict[str, int] = {}
        for row in await sandbox_records(world, company, data_type, query=f"{field_name}~{ours}"):
            names[row[field_name]] = names.get(row[field_name], 0) + 1
        figures.duplicates += sum(n - 1 for n in names.values())
    ops = await world.sandbox_http.get(
        f"/companies/{company}/push",
        headers={"Authorization": "Basic c2FuZGJveA=="},
        params={"pageSize": 1},
    )
    figures.push_operations = ops.json()["totalResults"]


def _compare(
    exp: Expected,
    doc: dict[str, Any],
    records: dict[str, SyncedRecord],
    accounts: dict[str, str],
    rates: dict[str, str],
) -> str | None:
    sub, tax = exp.totals()
    tax_field = "taxAmount" if exp.kind == "bills" else "totalTaxAmount"
    got = (_minor(doc["subTotal"]), _minor(doc[tax_field]), _minor(doc["totalAmount"]))
    if got != (sub, tax, sub + tax):
        return f"amounts {got} != {(sub, tax, sub + tax)}"
    party_field = "supplierRef" if exp.kind == "bills" else "customerRef"
    party = records.get(exp.party)
    if party is None or doc[party_field]["id"] != party.provider_object_id:
        return "counterpart ref"
    lines = doc["lineItems"]
    if len(lines) != len(exp.lines):
        return f"{len(lines)} lines != {len(exp.lines)}"
    for line, (unit, qty, account, rate, prod) in zip(lines, exp.lines, strict=True):
        if _minor(line["unitAmount"]) != unit or Decimal(str(line["quantity"])) != qty:
            return "line amounts"
        if line["taxRateRef"]["id"] != rates[rate]:
            return "tax rate ref"
        if prod is None and line["accountRef"]["id"] != accounts[account]:
            return "ledger account ref"
        if prod is not None and line["itemRef"]["id"] != records[prod].provider_object_id:
            return "item ref"
    return None


def _assert_exactly_once(figures: Figures) -> None:
    assert figures.wrong == [], figures.wrong[:5]
    assert (figures.missing, figures.duplicates) == (0, 0), figures.line()
    total = figures.payables + figures.receivables
    assert figures.created == total and figures.done == total, figures.line()


def one_loop_world(
    database_url: str, sessionmaker: Any, sweep_interval: float = 0.5, **sandbox: Any
) -> AbstractAsyncContextManager[World]:
    """The e2e world (``tests.e2e.conftest._world``: service + sandbox, the real client,
    webhooks, live job runner, both apps' lifespans in THIS event loop) on ``database_url``,
    with the sandbox's rate limit out of the way and ``sandbox`` config overrides. Test
    clients would run each app in a thread and loop of its own, and the sandbox's webhook
    deliveries would then run the service's receiver on the sandbox's loop, sharing the
    service's connection pool across loops: under the load of this scenario that stalls (see
    the report of issue 7)."""
    return _world(
        sessionmaker,
        {"rate_limit": 10_000_000, **sandbox},
        database_url=database_url,
        sweep_interval=sweep_interval,
        partner_name="Reliability partner",
    )


@pytest.fixture(autouse=True)
def quick_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_common, "backoff", lambda attempt: 0.05)
    monkeypatch.setattr(push_common, "POLL_AFTER", 1.0)


# The world is entered in the test itself, not a fixture: the apps' lifespans hold anyio
# cancel scopes, which must be left by the task that entered them.


async def test_forty_documents_under_faults_land_exactly_once(clean_db, sessionmaker) -> None:
    async with one_loop_world(DATABASE_URL, sessionmaker) as world:
        figures = await run_scenario(
            world, sessionmaker, payables=20, receivables=20, limit=LIMIT_S
        )
    _assert_exactly_once(figures)


async def test_killing_the_job_runner_mid_run_changes_nothing(clean_db, sessionmaker) -> None:
    async with one_loop_world(DATABASE_URL, sessionmaker) as world:
        figures = await run_scenario(
            world, sessionmaker, payables=20, receivables=20, restart_at=0.5, limit=LIMIT_S
        )
    assert figures.restarts == 1
    _assert_exactly_once(figures)
