"""Incremental pulls against the sandbox: a record changed in the platform shows up after the
next pull and unchanged ones are not fetched again; a record deleted in the platform is marked,
not dropped; a pull that fails (5xx until the client's retries are spent) leaves cursors and
data as they were, and the next good pull catches up. Also a pull that fails after its first
page keeps that page and moves the cursor no further."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from app.db.models import (
    AccountingConnection,
    AccountingTaxRate,
    LedgerAccount,
    PullCursor,
    PulledRecord,
)
from app.providers import ProviderUnavailable
from app.sync import pull as pull_module
from app.sync.pull import pull, pull_data_type

BANK = "bd9e85e0-0478-433d-ae9f-0b3c4f04bfe4"  # Xero "Business Bank Account", 924.25 GBP
SAVINGS = "a8d6fb1a-8c5d-4683-90ce-bf9d28fc62ba"  # Xero "Business Savings Account"
INVOICE = "4b6d0c8f-10fa-42cd-a6e5-53b175e90005"  # Xero INV-0001, 500.00 GBP
SALES = "c563b607-fb0e-4d06-9ddb-76fdeef20ae3"  # its line's account, not in the example chart


async def connected(world, sessionmaker) -> tuple[str, AccountingConnection]:
    """An entity connected to the Xero example company, once the pulls that the connection's
    webhooks queue (``read.completed`` per data type) have run: the tests then control every
    pull that follows."""
    entity = await world.partner.create_entity("Demo Ltd", currency="GBP")
    conn = await world.connect(entity, "xero")
    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, uuid.UUID(conn["id"]))
    assert row is not None

    async def delivered() -> bool:
        log = await admin(world, "GET", f"/_admin/webhooks?companyId={row.provider_company_id}")
        return bool(log) and all(d["status"] == "delivered" for d in log)

    await world.wait_for(delivered, what="webhooks delivered")
    last, quiet_since = None, asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - quiet_since < 0.6:
        async with sessionmaker() as session:
            runs = await session.scalar(
                select(func.max(PullCursor.last_run_at)).where(PullCursor.connection_id == row.id)
            )
        if runs != last:
            last, quiet_since = runs, asyncio.get_running_loop().time()
        await asyncio.sleep(0.1)
    return entity, row


async def pull_now(world, connection_id: uuid.UUID) -> dict[str, int | str]:
    """Run a pull here, waiting for the connection's lease if another pull holds it."""
    for _ in range(200):
        result = await pull(context(world), connection_id)
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("the pull lease never came free")


async def admin(world, method: str, path: str, body: Any = None) -> Any:
    r = await world.sandbox_http.request(
        method, path, json=body, headers={"Authorization": "Basic c2FuZGJveA=="}
    )
    assert r.status_code in (200, 204), r.text
    return r.json() if r.content else None


async def state(sessionmaker, connection_id: uuid.UUID) -> dict[str, Any]:
    """Everything a pull may change, in comparable form."""
    async with sessionmaker() as session:
        accounts = {
            a.provider_id: (a.name, a.current_balance, a.is_deleted, a.updated_at)
            for a in await session.scalars(
                select(LedgerAccount).where(LedgerAccount.connection_id == connection_id)
            )
        }
        rates = {
            t.provider_id: (t.name, t.effective_tax_rate, t.updated_at)
            for t in await session.scalars(
                select(AccountingTaxRate).where(AccountingTaxRate.connection_id == connection_id)
            )
        }
        pulled = {
            (p.data_type, p.provider_id): (p.raw, p.is_deleted, p.updated_at)
            for p in await session.scalars(
                select(PulledRecord).where(PulledRecord.connection_id == connection_id)
            )
        }
        cursors = {
            c.data_type: c.modified_since
            for c in await session.scalars(
                select(PullCursor).where(PullCursor.connection_id == connection_id)
            )
        }
        conn = await session.get(AccountingConnection, connection_id)
        assert conn is not None
    return {
        "accounts": accounts,
        "rates": rates,
        "pulled": pulled,
        "cursors": cursors,
        "last_pull": conn.last_pull,
    }


def context(world):
    return world.service.state.jobs.context


async def test_changed_record_arrives_and_unchanged_ones_are_not_fetched(
    world, sessionmaker
) -> None:
    entity, conn = await connected(world, sessionmaker)
    before = await state(sessionmaker, conn.id)
    await admin(
        world,
        "PUT",
        f"/_admin/companies/{conn.provider_company_id}/data/accounts",
        {"id": BANK, "name": "Business Bank Account (Barclays)", "currentBalance": 1000.5},
    )
    result = await pull_now(world, conn.id)
    # Only the changed account is fetched: the unchanged one is neither read nor written.
    assert result["accounts"] == 1
    after = await state(sessionmaker, conn.id)
    assert after["accounts"][BANK][:2] == ("Business Bank Account (Barclays)", 100050)
    assert after["accounts"][SAVINGS] == before["accounts"][SAVINGS]  # not fetched, not written
    assert after["cursors"]["accounts"] > before["cursors"]["accounts"]
    assert after["last_pull"] > before["last_pull"]
    listed = await world.client.get(
        "/v1/ledger_accounts", headers=world.partner.entity_headers(entity)
    )
    by_name = {a["name"]: a for a in listed.json()["data"]}
    assert by_name["Business Bank Account (Barclays)"]["current_balance"] == 100050

    # An unchanged company: one request per data type, and the changed account only once more.
    again = await pull_now(world, conn.id)
    assert again["accounts"] <= 1
    final = await state(sessionmaker, conn.id)
    assert final["accounts"][SAVINGS] == before["accounts"][SAVINGS]


async def test_an_edited_invoice_and_tax_rate_show_in_the_views(world, sessionmaker) -> None:
    entity, conn = await connected(world, sessionmaker)
    company = conn.provider_company_id
    await admin(
        world,
        "PUT",
        f"/_admin/companies/{company}/data/invoices",
        {"id": INVOICE, "status": "PartiallyPaid", "amountDue": 123.45},
    )
    await admin(
        world,
        "PUT",
        f"/_admin/companies/{company}/data/taxRates",
        {"id": "ECACQUISITIONS", "effectiveTaxRate": 12.5, "totalTaxRate": 12.5},
    )
    # The invoice line's ledger account ("Sales", not in the example chart) appears too.
    await admin(
        world,
        "PUT",
        f"/_admin/companies/{company}/data/accounts",
        {"id": SALES, "name": "Sales", "nominalCode": "200", "currency": "GBP", "status": "Active"},
    )
    result = await pull_now(world, conn.id)
    assert (result["invoices"], result["taxRates"], result["accounts"]) == (1, 1, 1)
    h = world.partner.entity_headers(entity)
    inv = (await world.client.get(f"/v1/accounting/receivables/{INVOICE}", headers=h)).json()
    assert (inv["status"], inv["amount_due"], inv["total_amount"]) == (
        "partially_paid",
        12345,
        50000,
    )
    async with sessionmaker() as session:
        sales = await session.scalar(
            select(LedgerAccount).where(LedgerAccount.provider_id == SALES)
        )
    assert [line["ledger_account_id"] for line in inv["lines"]] == [str(sales.id)]
    assert [line["unit_amount"] for line in inv["lines"]] == [41667]
    rates = (await world.client.get("/v1/accounting_tax_rates", headers=h)).json()["data"]
    assert {t["name"]: t["effective_tax_rate"] for t in rates}["EC Acquisitions (20%)"] == 1250


async def test_deleted_records_are_marked_not_dropped(world, sessionmaker) -> None:
    entity, conn = await connected(world, sessionmaker)
    company = conn.provider_company_id
    await admin(world, "DELETE", f"/_admin/companies/{company}/data/accounts/{SAVINGS}")
    await admin(world, "DELETE", f"/_admin/companies/{company}/data/invoices/{INVOICE}")
    await pull_now(world, conn.id)
    after = await state(sessionmaker, conn.id)
    assert after["accounts"][SAVINGS][2] is True  # kept, marked deleted
    assert after["accounts"][BANK][2] is False
    assert after["pulled"][("invoices", INVOICE)][1] is True
    h = world.partner.entity_headers(entity)
    names = [
        a["name"] for a in (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    ]
    # Xero's published bank account listed, the deleted savings account not (the rest of the
    # list is the sandbox's generated chart of accounts)
    assert "Business Bank Account" in names and "Business Savings Account" not in names
    inv = (await world.client.get(f"/v1/accounting/receivables/{INVOICE}", headers=h)).json()
    assert inv["is_deleted"] is True


async def test_a_failed_pull_changes_nothing_and_the_next_one_catches_up(
    world, sessionmaker
) -> None:
    entity, conn = await connected(world, sessionmaker)
    company = conn.provider_company_id
    await admin(
        world,
        "PUT",
        f"/_admin/companies/{company}/data/accounts",
        {"id": BANK, "name": "Renamed while failing"},
    )
    await admin(world, "DELETE", f"/_admin/companies/{company}/data/invoices/{INVOICE}")
    before = await state(sessionmaker, conn.id)
    await admin(world, "PUT", f"/_admin/companies/{company}/faults", {"rate_5xx": 1.0})
    result = await pull_now(world, conn.id)
    assert all(isinstance(v, str) and "ProviderUnavailable" in v for v in result.values())
    assert await state(sessionmaker, conn.id) == before  # cursors, data, last_pull
    async with sessionmaker() as session:
        errors = {
            c.data_type: c.last_error
            for c in await session.scalars(
                select(PullCursor).where(PullCursor.connection_id == conn.id)
            )
        }
    assert all(errors[d] for d in pull_module.DATA_TYPES)
    got = await world.client.get(
        f"/v1/accounting_connections/{conn.id}", headers=world.partner.entity_headers(entity)
    )
    assert got.json()["last_pull"] == before["last_pull"].isoformat().replace("+00:00", "Z")

    await admin(world, "DELETE", f"/_admin/companies/{company}/faults")
    result = await pull_now(world, conn.id)
    assert all(isinstance(v, int) for v in result.values())
    after = await state(sessionmaker, conn.id)
    assert after["accounts"][BANK][0] == "Renamed while failing"
    assert after["pulled"][("invoices", INVOICE)][1] is True
    assert after["last_pull"] > before["last_pull"]


class FailsAfter:
    """The real provider client in pages of ``size``, failing (as after spent retries) on the
    first call after a page that held one of the ``trigger`` ids."""

    def __init__(self, real: Any, size: int, trigger: set[str] = frozenset()) -> None:
        self.real, self.size, self.trigger, self.armed = real, size, trigger, False

    async def get_page(self, company_id: str, data_type: str, **kw: Any) -> Any:
        if self.armed:
            raise ProviderUnavailable("injected: 503 after retries")
        kw["page_size"] = self.size
        page = await self.real.get_page(company_id, data_type, **kw)
        self.armed = any(r.id in self.trigger for r in page.records)
        return page


async def test_a_pull_failing_after_a_page_keeps_it_and_moves_the_cursor_no_further(
    world, sessionmaker
) -> None:
    _, conn = await connected(world, sessionmaker)
    company = conn.provider_company_id
    ctx = context(world)
    real = await ctx.provider_for(world.partner.partner_id)
    start = (await state(sessionmaker, conn.id))["cursors"]["customers"]
    # Three customers changed in the platform, in this order.
    changed = []
    for name in ("First Co", "Second Co", "Third Co"):
        changed += await admin(
            world,
            "PUT",
            f"/_admin/companies/{company}/data/customers",
            {"customerName": name, "addresses": [], "status": "Active"},
        )
    provider = FailsAfter(real, size=1, trigger={changed[0]["id"]})
    try:
        await pull_data_type(ctx, conn, provider, "customers")
        raise AssertionError("the pull should have failed")
    except ProviderUnavailable:
        pass
    after = await state(sessionmaker, conn.id)
    stored = {k[1] for k in after["pulled"] if k[0] == "customers"}
    # The first page (one record: the oldest change) is kept; the cursor moved to it, no further.
    first = changed[0]
    assert first["id"] in stored and changed[2]["id"] not in stored
    assert after["cursors"]["customers"] == dt.datetime.fromisoformat(
        first["modifiedDate"].replace("Z", "+00:00")
    )
    assert after["cursors"]["customers"] > start
    # The next pull reads on from there and gets the rest.
    await pull_data_type(ctx, conn, FailsAfter(real, size=5000), "customers")
    final = await state(sessionmaker, conn.id)
    assert {c["id"] for c in changed} <= {k[1] for k in final["pulled"] if k[0] == "customers"}


class Counting:
    """The real provider client, counting the pages it is asked for."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    async def get_page(self, company_id: str, data_type: str, **kw: Any) -> Any:
        self.calls += 1
        return await self.real.get_page(company_id, data_type, **kw)


async def test_an_unchanged_company_costs_one_request_per_data_type_and_fetches_nothing(
    world, sessionmaker
) -> None:
    _, conn = await connected(world, sessionmaker)
    ctx = context(world)
    real = await ctx.provider_for(world.partner.partner_id)
    before = (await state(sessionmaker, conn.id))["cursors"]
    for _ in range(2):
        for data_type in pull_module.DATA_TYPES:
            provider = Counting(real)
            assert await pull_data_type(ctx, conn, provider, data_type) == 0, data_type
            assert provider.calls == 1, data_type
    # and the cursors stay where they were (a pull that reads nothing never moves one)
    assert (await state(sessionmaker, conn.id))["cursors"] == before


def test_a_cursor_moves_past_its_second_only_once_that_second_is_long_past() -> None:
    now = dt.datetime(2026, 11, 22, 3, 0, 0, tzinfo=dt.UTC)
    old = dt.datetime(2023, 3, 15, 20, 35, 8, 250_000, tzinfo=dt.UTC)
    assert pull_module.settled_cursor(old, now) == dt.datetime(
        2023, 3, 15, 20, 35, 9, tzinfo=dt.UTC
    )
    recent = now - dt.timedelta(seconds=30)
    assert pull_module.settled_cursor(recent, now) == recent  # may still gain records
    assert pull_module.settled_cursor(None, now) is None
