"""Pushing payables and receivables to the sandbox's Xero example company."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.e2e.conftest import World, rate_of


async def _setup(world: World) -> tuple[str, dict[str, str], list[dict], list[dict]]:
    entity = await world.partner.create_entity("Demo Ltd", currency="GBP")
    await world.connect(entity, "xero")
    h = world.partner.entity_headers(entity)
    accounts = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    rates = (await world.client.get("/v1/accounting_tax_rates?limit=100", headers=h)).json()["data"]
    assert accounts and rates
    return entity, h, accounts, rates


async def _vendor(world: World, h: dict[str, str], name: str = "Globex Supplies Ltd") -> str:
    r = await world.client.post(
        "/v1/counterparts",
        headers=h,
        json={
            "type": "organization",
            "organization": {
                "legal_name": name,
                "is_vendor": True,
                "is_customer": True,
                "address": {
                    "country": "GB",
                    "city": "Leeds",
                    "line1": "2 Mill Rd",
                    "postal_code": "LS1 1AA",
                },
            },
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _sandbox_record(
    world: World, company_id: str, data_type: str, record_id: str
) -> dict[str, Any]:
    key = base64.b64encode(b"sandbox").decode()  # Codat's Basic scheme
    r = await world.sandbox_http.get(
        f"/companies/{company_id}/data/{data_type}/{record_id}",
        headers={"Authorization": f"Basic {key}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def _synced(
    world: World, h: dict[str, str], object_type: str, object_id: str
) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        r = await world.client.get(
            f"/v1/accounting_synced_records?object_type={object_type}&object_id={object_id}",
            headers=h,
        )
        data = r.json()["data"]
        return data[0] if data and data[0]["sync_status"] in ("done", "error") else None

    return await world.wait_for(done, what=f"{object_type} settled")


async def _company_id(world: World, sessionmaker, entity: str) -> str:
    from sqlalchemy import select

    from app.db.models import AccountingConnection

    async with sessionmaker() as session:
        return await session.scalar(select(AccountingConnection.provider_company_id))


async def _provider_account_id(sessionmaker, ledger_account_id: str) -> str:
    from app.db.models import LedgerAccount

    async with sessionmaker() as session:
        account = await session.get(LedgerAccount, uuid.UUID(ledger_account_id))
        return account.provider_id


async def test_approved_payable_is_pushed_as_an_open_bill(world, sessionmaker) -> None:
    entity, h, accounts, rates = await _setup(world)
    vendor = await _vendor(world, h)
    payable = (
        await world.client.post(
            "/v1/payables",
            headers=h,
            json={
                "currency": "GBP",
                "counterpart_id": vendor,
                "document_id": "INV-1001",
                "issued_at": "2026-11-01",
                "due_date": "2026-12-01",
            },
        )
    ).json()
    line = await world.client.post(
        f"/v1/payables/{payable['id']}/line_items",
        headers=h,
        json={
            "name": "Paper",
            "quantity": 3,
            "unit_price": 1250,
            "tax": 2000,
            "ledger_account_id": accounts[0]["id"],
            "accounting_tax_rate_id": rate_of(rates, 2000)["id"],
        },
    )
    assert line.status_code == 201, line.text
    for action in ("submit_for_approval", "approve_payment_operation"):
        r = await world.client.post(f"/v1/payables/{payable['id']}/{action}", headers=h)
        assert r.status_code == 200, r.text
    record = await _synced(world, h, "bill", payable["id"])
    assert record["sync_status"] == "done", record
    company = await _company_id(world, sessionmaker, entity)
    bill = await _sandbox_record(world, company, "bills", record["provider_object_id"])
    assert bill["status"] == "Open"
    assert bill["reference"] == "INV-1001"
    assert float(bill["subTotal"]) == 37.50
    assert float(bill["totalAmount"]) == 45.00
    assert bill["lineItems"][0]["accountRef"]["id"] == await _provider_account_id(
        sessionmaker, accounts[0]["id"]
    )
    vendor_record = await _synced(world, h, "vendor", vendor)
    assert bill["supplierRef"]["id"] == vendor_record["provider_object_id"]
    # the history shows one push attempt with what was sent
    detail = (
        await world.client.get(f"/v1/accounting_synced_records/{record['id']}", headers=h)
    ).json()
    assert [a["kind"] for a in detail["attempts"]] == ["create"]
    assert detail["attempts"][0]["outcome"] == "done"
    # a manual retry of an unchanged, done record is refused
    again = await world.client.post(f"/v1/accounting_synced_records/{record['id']}/push", headers=h)
    assert again.status_code == 409


async def test_validation_failure_then_fix_and_retry(world, sessionmaker) -> None:
    _entity, h, accounts, rates = await _setup(world)
    vendor = await _vendor(world, h)
    # Approval runs the push's validation and would refuse this payable outright; an entity
    # whose rules push at approve_in_progress meets the failure at push instead.
    rules = await world.client.patch(
        "/v1/accounting_sync_rules",
        headers=h,
        json={"push_statuses": {"payable": ["approve_in_progress", "waiting_to_be_paid"]}},
    )
    assert rules.status_code == 200, rules.text
    payable = (
        await world.client.post(
            "/v1/payables",
            headers=h,
            json={"currency": "GBP", "counterpart_id": vendor, "issued_at": "2026-11-01"},
        )
    ).json()
    line = (
        await world.client.post(
            f"/v1/payables/{payable['id']}/line_items",
            headers=h,
            json={
                "name": "Desk",
                "quantity": 1,
                "unit_price": 20000,
                "tax": 2000,
                "accounting_tax_rate_id": rate_of(rates, 2000)["id"],
            },
        )
    ).json()
    refused = await world.client.post(
        f"/v1/payables/{payable['id']}/approve_payment_operation", headers=h
    )
    assert refused.status_code == 409  # not submitted yet
    assert (
        await world.client.post(f"/v1/payables/{payable['id']}/submit_for_approval", headers=h)
    ).status_code == 200
    refused = await world.client.post(
        f"/v1/payables/{payable['id']}/approve_payment_operation", headers=h
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["payable", "line_items", 0, "ledger_account_id"]
    record = await _synced(world, h, "bill", payable["id"])
    assert record["sync_status"] == "error"
    assert "line 1" in " ".join(record["errors"]["details"]).lower()
    detail = (
        await world.client.get(f"/v1/accounting_synced_records/{record['id']}", headers=h)
    ).json()
    assert [a["kind"] for a in detail["attempts"]] == ["validate"]
    assert detail["attempts"][0]["push_operation_key"] is None  # no provider call was made
    # The fix: support fixes the line's data the way a migration or a re-import would.
    from sqlalchemy import update

    from app.db.models import PayableLineItem

    async with sessionmaker() as session:
        await session.execute(
            update(PayableLineItem)
            .where(PayableLineItem.id == uuid.UUID(line["id"]))
            .values(ledger_account_id=uuid.UUID(accounts[0]["id"]))
        )
        await session.commit()
    retried = await world.client.post(
        f"/v1/accounting_synced_records/{record['id']}/push", headers=h
    )
    assert retried.status_code == 200, retried.text

    async def done() -> bool:
        r = (
            await world.client.get(f"/v1/accounting_synced_records/{record['id']}", headers=h)
        ).json()
        return r["sync_status"] == "done"

    await world.wait_for(done, what="retried push done")
