"""The first pull of every example platform company (Codat's published examples, 18 folders)
fills ledger accounts, tax rates and the accounting views with the right VALUES.

Expected values are computed here from the fixture files with the rules of API.md (money in
integer minor units, rates in percent x 100), independently of the pull code. The sandbox's
example companies also serve a generated layer (chart of accounts, tax rates, contacts; ids
``gen-...``): comparisons with Codat's files leave it out by one predicate,
``sandbox.supplement.is_generated``, and check only that it was pulled too.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import AccountingTaxRate, LedgerAccount, PullCursor
from sandbox.examples import load_examples
from sandbox.supplement import is_generated

FIXTURES = Path(__file__).parents[1] / "fixtures" / "codat"
FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def fixture(folder: str, data_type: str) -> list[dict[str, Any]]:
    path = FIXTURES / folder / f"{data_type}.json"
    return json.loads(path.read_text())["results"] if path.exists() else []


def minor(value: Any) -> int | None:
    """Major units -> minor units (every currency of the examples has two decimals)."""
    if value is None:
        return None
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def rate(value: Any) -> int | None:
    return None if value is None else int(Decimal(str(value)) * 100)


def generated(folder: str, data_type: str) -> list[dict[str, Any]]:
    """The generated records the sandbox serves beside Codat's for ``data_type``."""
    return [r for r in load_examples(folder)[data_type] if is_generated(r)]


def live(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if not (r.get("metadata") or {}).get("isDeleted")]


async def get_all(world, entity: str, path: str) -> list[dict[str, Any]]:
    r = await world.client.get(
        path, headers=world.partner.entity_headers(entity), params={"limit": 250}
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_every_example_folder_is_covered() -> None:
    assert len(FOLDERS) == 18


@pytest.mark.parametrize("folder", FOLDERS)
async def test_first_pull_of_each_example_company(world, sessionmaker, folder: str) -> None:
    entity = await world.partner.create_entity(f"{folder} Ltd", currency="GBP")
    conn = await world.connect(entity, folder.replace("-", "_"))
    assert conn["last_pull"]

    # Ledger accounts: every live account, by provider id, with its values.
    async with sessionmaker() as session:
        ours = {
            a.provider_id: a
            for a in await session.scalars(
                select(LedgerAccount).where(LedgerAccount.connection_id == conn["id"])
            )
        }
        cursors = {
            c.data_type: c
            for c in await session.scalars(
                select(PullCursor).where(PullCursor.connection_id == conn["id"])
            )
        }
    listed = {a["id"]: a for a in await get_all(world, entity, "/v1/ledger_accounts")}
    accounts = fixture(folder, "accounts")
    made_up = {str(a.id) for provider_id, a in ours.items() if is_generated(provider_id)}
    assert {p for p in ours if is_generated(p)} == {a["id"] for a in generated(folder, "accounts")}
    assert made_up <= set(listed)
    assert {p for p in ours if not is_generated(p)} == {a["id"] for a in accounts}
    assert {str(ours[a["id"]].id) for a in live(accounts)} == set(listed) - made_up
    for a in accounts:
        row = ours[a["id"]]
        assert row.is_deleted == bool((a.get("metadata") or {}).get("isDeleted"))
        if row.is_deleted:
            continue
        out = listed[str(row.id)]
        assert out["name"] == (a["name"] or a["nominalCode"]), a
        assert out["nominal_code"] == a.get("nominalCode"), a
        assert out["current_balance"] == minor(a.get("currentBalance")), a
        assert out["currency"] == a.get("currency"), a
        assert out["status"] == a["status"], a

    # Tax rates: percent x 100.
    async with sessionmaker() as session:
        our_rates = {
            t.provider_id: str(t.id)
            for t in await session.scalars(
                select(AccountingTaxRate).where(AccountingTaxRate.connection_id == conn["id"])
            )
        }
    rates = {t["id"]: t for t in await get_all(world, entity, "/v1/accounting_tax_rates")}
    made_up = {ours for provider_id, ours in our_rates.items() if is_generated(provider_id)}
    assert len(made_up) == len(generated(folder, "taxRates")) and made_up <= set(rates)
    expected_rates = live(fixture(folder, "taxRates"))
    assert set(rates) - made_up == {our_rates[t["id"]] for t in expected_rates}
    for t in expected_rates:
        got = rates[our_rates[t["id"]]]
        assert (got["name"], got["code"]) == (t.get("name"), t.get("code")), t
        assert got["effective_tax_rate"] == rate(t.get("effectiveTaxRate")), t
        assert got["total_tax_rate"] == rate(t.get("totalTaxRate")), t
        assert [c["rate"] for c in got["components"] or []] == [
            rate(c.get("rate")) for c in t.get("components") or []
        ], t

    # The accounting views: bills -> payables, invoices -> receivables, in minor units.
    for path, data_type, number, ref, ref_name in (
        ("/v1/accounting/payables", "bills", "reference", "supplierRef", "vendor_ref"),
        ("/v1/accounting/receivables", "invoices", "invoiceNumber", "customerRef", "customer_ref"),
    ):
        docs = {d["id"]: d for d in await get_all(world, entity, path)}
        expected = fixture(folder, data_type)
        assert set(docs) == {d["id"] for d in expected}, data_type
        for d in expected:
            got = docs[d["id"]]
            assert got["total_amount"] == minor(d["totalAmount"]), d["id"]
            tax = d.get("taxAmount") if data_type == "bills" else d.get("totalTaxAmount")
            assert got["tax_amount"] == minor(tax), d["id"]
            assert got["amount_due"] == minor(d.get("amountDue")), d["id"]
            assert got["currency"] == d["currency"], d["id"]
            assert got["invoice_number"] == (d.get(number) or None), d["id"]
            assert (got[ref_name] or {}).get("id") == (d.get(ref) or {}).get("id"), d["id"]
            lines = d.get("lineItems") or []
            assert [line["unit_amount"] for line in got["lines"]] == [
                minor(line.get("unitAmount")) for line in lines
            ], d["id"]
            for line, src in zip(got["lines"], lines, strict=True):
                account = (src.get("accountRef") or {}).get("id")
                if account in ours:
                    assert line["ledger_account_id"] == str(ours[account].id)
                # one of us or from the document's currency: never a provider's id
                assert line["ledger_account_id"] in (None, *(str(a.id) for a in ours.values()))
            one = await world.client.get(
                f"{path}/{d['id']}", headers=world.partner.entity_headers(entity)
            )
            assert one.status_code == 200 and one.json() == got

    # pull_cursors: every data type ran, without error, with its count, and the cursor is
    # the second after the newest modifiedDate seen (long settled: see `settled_cursor`).
    for data_type in ("accounts", "taxRates", "customers", "suppliers", "invoices", "bills"):
        c = cursors[data_type]
        assert c.last_error is None
        served = fixture(folder, data_type) + generated(folder, data_type)
        # The first pull's count, or 0 from a later pull the connection's webhooks queued
        # (``read.completed``), which finds nothing new.
        assert c.last_count in (len(served), 0), data_type
        if served:
            newest = max(r["modifiedDate"] for r in served)
            assert c.modified_since is not None
            assert c.modified_since == dt.datetime.fromisoformat(newest[:19] + "+00:00") + (
                dt.timedelta(seconds=1)
            ), data_type


async def test_xero_values_by_hand(world) -> None:
    """A few values read off the Xero example files by a person, not computed."""
    entity = await world.partner.create_entity("Demo Ltd", currency="GBP")
    await world.connect(entity, "xero")
    accounts = {a["name"]: a for a in await get_all(world, entity, "/v1/ledger_accounts")}
    bank = accounts["Business Bank Account"]
    assert (bank["nominal_code"], bank["current_balance"], bank["currency"]) == (
        "A090",
        92425,
        "GBP",
    )
    rates = {t["name"]: t for t in await get_all(world, entity, "/v1/accounting_tax_rates")}
    assert rates["EC Acquisitions (20%)"]["effective_tax_rate"] == 0
    bills = {b["id"]: b for b in await get_all(world, entity, "/v1/accounting/payables")}
    bill = bills["3945273c-cc04-479f-a4b5-1e3dc7a55ed1"]
    assert (bill["total_amount"], bill["tax_amount"], bill["status"]) == (726720, 121120, "paid")
    invoices = {
        i["invoice_number"]: i for i in await get_all(world, entity, "/v1/accounting/receivables")
    }
    assert invoices["INV-0001"]["total_amount"] == 50000
    assert invoices["INV-0001"]["tax_amount"] == 8333


async def test_freshbooks_compound_tax_rate_and_dynamics_nameless_account(
    world, sessionmaker
) -> None:
    """Odd real input: a 131% two-component rate, an account whose name is empty."""
    fb = await world.partner.create_entity("FB Ltd", currency="GBP")
    await world.connect(fb, "freshbooks")
    rates = {t["name"]: t for t in await get_all(world, fb, "/v1/accounting_tax_rates")}
    both = rates["helloabdul and hello2"]
    assert both["effective_tax_rate"] == 13100
    assert [c["rate"] for c in both["components"]] == [3200, 9900]

    dyn = await world.partner.create_entity("Dyn Ltd", currency="GBP")
    conn = await world.connect(dyn, "dynamics_365_business_central")
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(LedgerAccount).where(LedgerAccount.connection_id == conn["id"])
        )
        published = {str(a.id) for a in rows if not is_generated(a.provider_id)}
    listed = await get_all(world, dyn, "/v1/ledger_accounts")
    names = sorted(a["name"] for a in listed if a["id"] in published)
    assert names == ["45422026-68CA-4EF2-9", "Account no cat Balance Sheet"]
