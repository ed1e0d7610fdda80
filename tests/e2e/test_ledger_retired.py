"""Ledger accounts and tax rates deleted or archived in the accounting system (issue 15): the
next pull marks them unusable, and coding a line or a product with them is refused (422 that
names the field), not at push."""

from __future__ import annotations

import base64
import uuid

from sqlalchemy import select

from app.db.models import AccountingConnection, AccountingTaxRate, LedgerAccount
from tests.e2e.conftest import World

KEY = {"Authorization": f"Basic {base64.b64encode(b'sandbox').decode()}"}


async def test_deleted_and_archived_rows_are_marked_and_refused_when_coded(
    world: World, sessionmaker
) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    accounts = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    rates = (await world.client.get("/v1/accounting_tax_rates", headers=h)).json()["data"]
    usable_account = next(a for a in accounts if a["status"] == "Active")
    assert usable_account["is_usable"] is True
    gone_account = next(a for a in accounts if a["status"] == "Active" and a != usable_account)
    archived_rate = next(r for r in rates if r["status"] == "Active")
    async with sessionmaker() as session:
        company = await session.scalar(select(AccountingConnection.provider_company_id))
        account_pid = (await session.get(LedgerAccount, uuid.UUID(gone_account["id"]))).provider_id
        rate_pid = (
            await session.get(AccountingTaxRate, uuid.UUID(archived_rate["id"]))
        ).provider_id

    # in the accounting system: one account deleted, one tax rate archived
    r = await world.sandbox_http.delete(
        f"/_admin/companies/{company}/data/accounts/{account_pid}", headers=KEY
    )
    assert r.status_code == 200, r.text
    r = await world.sandbox_http.put(
        f"/_admin/companies/{company}/data/taxRates",
        json={"id": rate_pid, "status": "Archived"},
        headers=KEY,
    )
    assert r.status_code == 200, r.text
    assert (
        await world.client.post(f"/v1/accounting_connections/{conn['id']}/sync", headers=h)
    ).status_code == 202

    async def pulled() -> dict | None:
        r = await world.client.get(f"/v1/ledger_accounts/{gone_account['id']}", headers=h)
        return r.json() if r.json()["status"] == "Deleted" else None

    deleted = await world.wait_for(pulled, what="the deletion pulled")
    assert deleted["is_usable"] is False
    listed = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    assert gone_account["id"] not in {a["id"] for a in listed}

    async def archived() -> dict | None:
        r = await world.client.get(f"/v1/accounting_tax_rates/{archived_rate['id']}", headers=h)
        return r.json() if r.json()["status"] == "Archived" else None

    rate = await world.wait_for(archived, what="the archive pulled")
    assert rate["is_usable"] is False

    # coding with them is refused, naming the field; the usable ones still pass
    vendor = await world.client.post(
        "/v1/counterparts",
        headers=h,
        json={
            "type": "organization",
            "organization": {
                "legal_name": "Globex Ltd",
                "is_vendor": True,
                "is_customer": False,
                "address": {"country": "GB", "city": "Leeds", "line1": "2 Mill Rd"},
            },
        },
    )
    payable = (
        await world.client.post(
            "/v1/payables",
            headers=h,
            json={"currency": "GBP", "counterpart_id": vendor.json()["id"]},
        )
    ).json()
    url = f"/v1/payables/{payable['id']}/line_items"
    line = {"name": "Paper", "quantity": 1, "unit_price": 1000, "tax": 2000}
    refused = await world.client.post(
        url, headers=h, json={**line, "ledger_account_id": gone_account["id"]}
    )
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"][0]
    assert detail["loc"][-1] == "ledger_account_id"
    assert "deleted in the accounting system" in detail["msg"]
    refused = await world.client.post(
        url,
        headers=h,
        json={
            **line,
            "ledger_account_id": usable_account["id"],
            "accounting_tax_rate_id": archived_rate["id"],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "accounting_tax_rate_id"
    assert "Archived in the accounting system" in refused.json()["detail"][0]["msg"]
    ok = await world.client.post(
        url, headers=h, json={**line, "ledger_account_id": usable_account["id"]}
    )
    assert ok.status_code == 201, ok.text
    product = await world.client.post(
        "/v1/products",
        headers=h,
        json={
            "name": "Widget",
            "price": {"currency": "GBP", "value": 500},
            "ledger_account_id": gone_account["id"],
        },
    )
    assert product.status_code == 422
    assert product.json()["detail"][0]["loc"] == ["body", "ledger_account_id"]


async def test_a_disconnected_connections_rows_cannot_code_a_line(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    account = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"][0]
    await world.client.post(f"/v1/accounting_connections/{conn['id']}/disconnect", headers=h)
    product = await world.client.post(
        "/v1/products",
        headers=h,
        json={"name": "Widget", "ledger_account_id": account["id"]},
    )
    assert product.status_code == 422
    assert "disconnected" in product.json()["detail"][0]["msg"]
