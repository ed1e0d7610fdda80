"""Exactly once on Smarty Accounting (issue 19): with the emulator answering 20% 5xx, 10% 429
and 10% timeouts whose write lands (504 after the write), and the job runner killed and
started again mid-run, every pushed payable and receivable exists exactly once in the books
(found by the ``acctsync:{synced record id}`` marker in its reference), marked sent, with the
right totals; suppliers, customers and items are not duplicated; every synced record is
``done``.

Smarty has no idempotency keys and no push operations: a create whose answer is lost is looked
up by its marker before it is repeated (the provider), a contact or item by its name (the
engine). ``run_smarty_scenario`` is what ``bench/smarty_reliability.py`` runs at 200.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.models import SyncedRecord
from app.jobs import Jobs
from app.runtime import settle_tasks
from app.sync.push import common as push_common
from smarty_sandbox import SmartyFaults
from tests.conftest import DATABASE_URL
from tests.smarty.conftest import SmartyWorld, smarty_world_cm

FAULTS = SmartyFaults(rate_5xx=0.2, rate_429=0.1, retry_after=0, timeout_rate=0.1, seed=7)


@dataclass
class Figures:
    documents: int = 0
    created: int = 0
    duplicates: int = 0
    missing: int = 0
    wrong: list[str] = field(default_factory=list)
    done: int = 0
    error: int = 0
    restarts: int = 0
    seconds: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"documents={self.documents} created={self.created} duplicates={self.duplicates} "
            f"missing={self.missing} wrong={len(self.wrong)} done={self.done} "
            f"error={self.error} restarts={self.restarts} time={self.seconds:.1f}s "
            f"emulator={self.requests}"
        )


async def _restart(world: SmartyWorld) -> None:
    """Kill the job runner (running jobs cancelled where they stand, queued ones lost) and
    start a fresh one, as a restarted worker: only the tables say what is left."""
    old: Jobs = world.service.state.jobs
    await old.stop()
    # as the process's shutdown does: the cancelled jobs' database connections finish closing
    # (on SQLite an abandoned one would keep its write lock; a killed process's dies with it)
    await settle_tasks()
    await asyncio.sleep(0.2)
    fresh = Jobs(old.settings, old.engine, old.context.sessionmaker, old.context.provider_for,
                 run_worker=True, sweep_interval=old.sweep_interval)  # fmt: skip
    fresh.context.extras.update(old.context.extras)
    world.service.state.jobs = fresh
    await fresh.start()


def _money(minor: int) -> str:
    return str((Decimal(minor) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP))


async def run_smarty_scenario(
    world: SmartyWorld,
    sessionmaker: Any,
    *,
    documents: int,
    faults: SmartyFaults | None = FAULTS,
    restart_at: float | None = None,
    limit: float = 60.0,
    concurrency: int = 8,
) -> Figures:
    """Push ``documents`` (half bills, half invoices) under ``faults``; with ``restart_at``
    (0..1) kill and restart the job runner once that share has been created."""
    entity = await world.partner.create_entity("Harbour Coffee Roasters Ltd")
    conn = await world.connect(entity)
    h = world.partner.entity_headers(entity)
    accounts = (await world.client.get("/v1/ledger_accounts?limit=100", headers=h)).json()["data"]
    rates = (await world.client.get("/v1/accounting_tax_rates?limit=100",
                                    headers=h)).json()["data"]  # fmt: skip
    costs = next(a["id"] for a in accounts if a["name"] == "Cost of Goods Sold")
    sales = next(a["id"] for a in accounts if a["name"] == "Sales")
    buy = next(r["id"] for r in rates if r["name"] == "20% (VAT on Expenses)")
    sell = next(r["id"] for r in rates if r["name"] == "20% (VAT on Income)")
    parties = max(2, documents // 50)
    vendors, customers, products = [], [], []
    for n in range(parties):
        for kind, bucket in (("vendor", vendors), ("customer", customers)):
            r = await world.client.post(
                "/v1/counterparts",
                headers=h,
                json={
                    "type": "organization",
                    "organization": {
                        "legal_name": f"Reliable {kind} {n:03d}",
                        "is_vendor": kind == "vendor",
                        "is_customer": kind == "customer",
                        "address": {"country": "GB", "city": "Leeds", "line1": f"{n} Mill Rd"},
                    },
                },
            )
            assert r.status_code == 201, r.text
            bucket.append(r.json()["id"])
    for n in range(2):
        r = await world.client.post(
            "/v1/products",
            headers=h,
            json={
                "name": f"Reliable product {n}",
                "type": "service",
                "price": {"currency": "GBP", "value": 1000 + 250 * n},
                "ledger_account_id": sales,
            },
        )
        assert r.status_code == 201, r.text
        products.append((r.json()["id"], 1000 + 250 * n))
    if faults is not None:
        world.emulator.set_faults(faults)
    expected: dict[str, tuple[str, str, str]] = {}  # object id -> (kind, subtotal, tax)
    started = time.monotonic()
    figures = Figures(documents=documents)
    restarted = asyncio.Event()
    gate = asyncio.Semaphore(concurrency)  # partner requests in flight at once

    async def one(n: int) -> None:
        async with gate:
            if n % 2 == 0:
                qty, price = 1 + n % 3, 199 + 37 * n
                r = await world.client.post("/v1/payables", headers=h, json={
                    "currency": "GBP", "counterpart_id": vendors[n % parties],
                    "document_id": f"REL-B-{n:05d}", "issued_at": "2026-11-01",
                    "due_date": "2026-12-01", "line_items": [{
                        "name": f"Item {n}", "quantity": qty, "unit_price": price,
                        "tax": 2000, "ledger_account_id": costs,
                        "accounting_tax_rate_id": buy}]})  # fmt: skip
                assert r.status_code == 201, r.text
                pid = r.json()["id"]
                for action in ("submit_for_approval", "approve_payment_operation"):
                    done = await world.client.post(f"/v1/payables/{pid}/{action}", headers=h)
                    assert done.status_code == 200, done.text
                net = qty * price
                expected[pid] = ("bills", _money(net), _money(round(net * 0.2)))
            else:
                product, price = products[n % 2]
                qty = 1 + n % 2
                r = await world.client.post("/v1/receivables", headers=h, json={
                    "type": "invoice", "currency": "GBP", "counterpart_id": customers[n % parties],
                    "document_id": f"REL-I-{n:05d}", "issue_date": "2026-11-02",
                    "due_date": "2026-12-02", "line_items": [{
                        "product_id": product, "quantity": qty, "tax_rate_value": 2000,
                        "accounting_tax_rate_id": sell}]})  # fmt: skip
                assert r.status_code == 201, r.text
                rid = r.json()["id"]
                done = await world.client.post(f"/v1/receivables/{rid}/issue", headers=h)
                assert done.status_code == 200, done.text
                net = qty * price
                expected[rid] = ("invoices", _money(net), _money(round(net * 0.2)))
            if restart_at is not None and len(expected) >= documents * restart_at:
                if not restarted.is_set():
                    restarted.set()
                    await _restart(world)
                    figures.restarts += 1

    await asyncio.gather(*(one(n) for n in range(documents)))

    async def settled() -> bool:
        async with sessionmaker() as session:
            counts = dict((await session.execute(
                select(SyncedRecord.sync_status, func.count())
                .where(SyncedRecord.object_type.in_(("bill", "receivable")))
                .group_by(SyncedRecord.sync_status))).all())  # fmt: skip
            waiting = await session.scalar(
                select(func.count()).where(
                    SyncedRecord.object_type.in_(("bill", "receivable")),
                    SyncedRecord.sync_status == "error",
                    SyncedRecord.next_attempt_at.is_(None),
                )
            )
        figures.done, figures.error = counts.get("done", 0), counts.get("error", 0)
        return figures.done + (waiting or 0) >= documents

    deadline = time.monotonic() + limit
    while not await settled() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.25)
    figures.seconds = time.monotonic() - started
    world.emulator.set_faults(SmartyFaults())
    figures.requests = dict(world.emulator.stats)
    # the books: each document once, by its marker, sent, with its totals
    async with sessionmaker() as session:
        records = {
            str(r.object_id): r
            for r in await session.scalars(
                select(SyncedRecord).where(SyncedRecord.object_type.in_(("bill", "receivable")))
            )
        }
    org = world.emulator.store.organisations[int(conn_org(world, conn))]
    for object_id, (kind, subtotal, tax) in expected.items():
        record = records.get(object_id)
        if record is None:
            figures.missing += 1
            continue
        copies = [
            d for d in org.records[kind].values() if d["reference"] == f"acctsync:{record.id}"
        ]
        if not copies:
            figures.missing += 1
            continue
        figures.created += 1
        figures.duplicates += len(copies) - 1
        doc = copies[0]
        if (doc["state"], doc["subtotal"], doc["tax"]) != ("Sent", subtotal, tax) or (
            str(doc[f"{kind[:-1]}_id"]) != record.provider_object_id
        ):
            figures.wrong.append(
                f"{kind} {object_id}: {doc['state']} {doc['subtotal']} "
                f"{doc['tax']} (want {subtotal} {tax})"
            )
    names = [c["display_name"] for c in org.records["contacts"].values()]
    figures.duplicates += sum(names.count(n) - 1 for n in set(names) if n.startswith("Reliable"))
    items = [i["item_name"] for i in org.records["items"].values()]
    figures.duplicates += sum(items.count(n) - 1 for n in set(items) if n.startswith("Reliable"))
    return figures


def conn_org(world: SmartyWorld, conn: dict[str, Any]) -> str:
    """The organisation the scenario's connection reached (the owner user has one)."""
    store = world.emulator.store
    return str(store.users["owner@harbour.example"].organisation_ids[0])


@pytest.fixture(autouse=True)
def quick_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_common, "backoff", lambda attempt: 0.05)
    monkeypatch.setattr(push_common, "POLL_AFTER", 1.0)


def _exactly_once(figures: Figures) -> None:
    assert figures.duplicates == 0, figures.line()
    assert figures.missing == 0 and not figures.wrong, (figures.line(), figures.wrong[:5])
    assert figures.created == figures.documents == figures.done, figures.line()


async def test_documents_under_faults_and_a_kill_land_exactly_once(clean_db, sessionmaker) -> None:
    async with smarty_world_cm(sessionmaker, database_url=DATABASE_URL) as world:
        figures = await run_smarty_scenario(world, sessionmaker, documents=24, restart_at=0.5,
                                            limit=40.0)  # fmt: skip
    assert figures.restarts == 1
    assert figures.requests.get("fault_5xx") and figures.requests.get("fault_timeout")
    _exactly_once(figures)
