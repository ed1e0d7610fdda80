"""Smarty Accounting through the service's normal flow: connect with the user's credentials,
the first pull (ledger accounts, VAT rates, contacts matched to counterparts, items,
documents), validation before any call, a payable and a receivable pushed as a Smarty bill
and invoice (marked sent, the marker in the reference), their synced records with attempts,
an unchanged pull costing no writes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from app.db.models import PulledRecord
from tests.smarty.conftest import SmartyWorld


async def _get(world: SmartyWorld, entity: str, path: str) -> Any:
    r = await world.client.get(path, headers=world.partner.entity_headers(entity))
    assert r.status_code == 200, r.text
    return r.json()


async def _counterpart(
    world: SmartyWorld, h: dict[str, str], name: str, city: str, line1: str, postcode: str
) -> str:
    r = await world.client.post("/v1/counterparts", headers=h, json={
        "type": "organization",
        "organization": {"legal_name": name, "is_vendor": True, "is_customer": True,
                         "address": {"country": "GB", "city": city, "line1": line1,
                                     "postal_code": postcode}},
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _settled(world: SmartyWorld, h: dict[str, str], object_type: str, object_id: str) -> Any:
    async def done() -> Any:
        r = await world.client.get(
            f"/v1/accounting_synced_records?object_type={object_type}&object_id={object_id}",
            headers=h,
        )
        data = r.json()["data"]
        return data[0] if data and data[0]["sync_status"] in ("done", "error") else None

    return await world.wait_for(done, what=f"{object_type} settled")


def _org(world: SmartyWorld, organisation_id: str) -> Any:
    return world.emulator.store.organisations[int(organisation_id)]


async def test_connect_pull_match_validate_push(smarty_world: SmartyWorld, sessionmaker) -> None:
    world = smarty_world
    entity = await world.partner.create_entity("Harbour Coffee Roasters Ltd")
    h = world.partner.entity_headers(entity)
    # in the books already (seeded): matched at the pull
    known = await _counterpart(world, h, "Brightwater Cafe Ltd", "Bristol", "12 Quay St", "BS1 4DJ")
    conn = await world.connect(entity)
    assert conn["platform"] == "smarty_accounting" and conn["errors"] is None
    org_id = (await _get(world, entity, f"/v1/accounting_connections/{conn['id']}"))["id"]
    assert org_id
    accounts = (await _get(world, entity, "/v1/ledger_accounts?limit=100"))["data"]
    assert {a["name"] for a in accounts} >= {"Sales", "Cost of Goods Sold", "Rent"}
    rates = (await _get(world, entity, "/v1/accounting_tax_rates?limit=100"))["data"]
    assert {r["effective_tax_rate"] for r in rates} >= {2000, 500, 0}
    matched = await _get(
        world, entity, f"/v1/accounting_synced_records?object_type=customer&object_id={known}"
    )
    assert matched["data"] and matched["data"][0]["sync_status"] == "done"
    status = await _get(world, entity, f"/v1/accounting_connections/{conn['id']}/sync_status")
    reads = {d["data_type"]: d["records_read"] for d in status["data"]}
    assert reads["customers"] == 4 and reads["suppliers"] == 3 and reads["invoices"] == 3
    assert status["healthy"] is True

    sales = next(a["id"] for a in accounts if a["name"] == "Sales")
    costs = next(a["id"] for a in accounts if a["name"] == "Cost of Goods Sold")
    vat20 = next(r["id"] for r in rates if r["name"] == "20% (VAT on Expenses)")
    vat20_sales = next(r["id"] for r in rates if r["name"] == "20% (VAT on Income)")

    # validation before any call: a line without a ledger account
    r = await world.client.patch(
        "/v1/accounting_sync_rules",
        headers=h,
        json={"push_statuses": {"payable": ["approve_in_progress", "waiting_to_be_paid"]}},
    )
    assert r.status_code == 200, r.text
    vendor = await _counterpart(world, h, "Millstone Paper Co", "Leeds", "3 Park Row", "LS1 4AP")
    r = await world.client.post("/v1/payables", headers=h, json={
        "currency": "GBP", "counterpart_id": vendor, "document_id": "MP-1",
        "issued_at": "2026-11-01", "due_date": "2026-12-01",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    payable = r.json()["id"]
    r = await world.client.post(f"/v1/payables/{payable}/line_items", headers=h, json={
        "name": "Paper", "quantity": 3, "unit_price": 1250, "tax": 2000,
        "accounting_tax_rate_id": vat20})  # fmt: skip
    assert r.status_code == 201, r.text
    line = r.json()["id"]
    writes_before = world.emulator.stats["write"]
    assert (
        await world.client.post(f"/v1/payables/{payable}/submit_for_approval", headers=h)
    ).status_code == 200
    refused = await world.client.post(
        f"/v1/payables/{payable}/approve_payment_operation", headers=h
    )
    assert refused.status_code == 422
    failed = await _settled(world, h, "bill", payable)
    assert failed["sync_status"] == "error"
    detail = await _get(world, entity, f"/v1/accounting_synced_records/{failed['id']}")
    assert [a["kind"] for a in detail["attempts"]] == ["validate"]
    assert world.emulator.stats["write"] == writes_before  # nothing reached Smarty
    # the fix (as tests/e2e/test_push.py makes it), then a retry: pushed
    from sqlalchemy import update

    from app.db.models import PayableLineItem

    async with sessionmaker() as session:
        await session.execute(
            update(PayableLineItem)
            .where(PayableLineItem.id == uuid.UUID(line))
            .values(ledger_account_id=uuid.UUID(costs))
        )
        await session.commit()
    r = await world.client.post(f"/v1/accounting_synced_records/{failed['id']}/push", headers=h)
    assert r.status_code == 200, r.text

    async def bill_done() -> Any:
        got = await _settled(world, h, "bill", payable)
        return got if got["sync_status"] == "done" else None

    bill = await world.wait_for(bill_done, what="bill pushed")
    org = _org(world, conn_org := await _organisation(sessionmaker))
    pushed = org.records["bills"][int(bill["provider_object_id"])]
    assert pushed["state"] == "Draft" and pushed["bill_number"] == "MP-1"  # approve_in_progress
    assert pushed["reference"] == f"acctsync:{bill['id']}"
    assert pushed["subtotal"] == "37.50" and pushed["tax"] == "7.50"
    supplier = org.records["contacts"][pushed["contact_id"]]
    assert supplier["display_name"] == "Millstone Paper Co"
    assert supplier["contact_type"] == "Supplier" and supplier["contact_city"] == "Leeds"
    detail = await _get(world, entity, f"/v1/accounting_synced_records/{bill['id']}")
    assert [a["kind"] for a in detail["attempts"]] == ["validate", "create"]
    assert detail["attempts"][1]["outcome"] == "done"
    # approved now: the bill is updated (PUT) and marked sent, not created again
    bills_before = len(org.records["bills"])
    r = await world.client.post(f"/v1/payables/{payable}/approve_payment_operation", headers=h)
    assert r.status_code == 200, r.text

    async def sent() -> bool:
        return org.records["bills"][int(bill["provider_object_id"])]["state"] == "Sent"

    await world.wait_for(sent, what="bill marked sent")
    assert len(org.records["bills"]) == bills_before
    await world.wait_for(bill_done, what="update settled")

    # a receivable to the matched customer: no new contact, the invoice is sent
    contacts_before = len(org.records["contacts"])
    r = await world.client.post("/v1/products", headers=h, json={
        "name": "Cupping workshop", "type": "service",
        "price": {"currency": "GBP", "value": 9000}, "ledger_account_id": sales,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    r = await world.client.post("/v1/receivables", headers=h, json={
        "type": "invoice", "currency": "GBP", "counterpart_id": known, "document_id": "INV-77",
        "issue_date": "2026-11-02", "due_date": "2026-12-02",
        "line_items": [{"product_id": r.json()["id"], "quantity": 2, "tax_rate_value": 2000,
                        "accounting_tax_rate_id": vat20_sales}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (await world.client.post(f"/v1/receivables/{rid}/issue", headers=h)).is_success
    invoice = await _settled(world, h, "receivable", rid)
    assert invoice["sync_status"] == "done", invoice
    made = org.records["invoices"][int(invoice["provider_object_id"])]
    assert made["state"] == "Sent" and made["invoice_number"] == "INV-77"
    assert made["total"] == "216.00"
    customer = next(
        c for c in org.records["contacts"].values() if c["display_name"] == "Brightwater Cafe Ltd"
    )
    assert made["contact_id"] == customer["contact_id"]
    assert len(org.records["contacts"]) == contacts_before  # the item is new, the contact not
    assert any(i["item_name"] == "Cupping workshop" for i in org.records["items"].values())
    assert conn_org


async def _organisation(sessionmaker) -> str:
    from app.db.models import AccountingConnection

    async with sessionmaker() as session:
        return await session.scalar(
            select(AccountingConnection.provider_company_id).where(
                AccountingConnection.status == "connected"
            )
        )


async def test_unchanged_pull_writes_nothing(smarty_world: SmartyWorld, sessionmaker) -> None:
    """Smarty cannot filter by modified date: a pull reads every page; a content hash per
    record (the raw JSON compared) makes an unchanged record cost no write."""
    world = smarty_world
    entity = await world.partner.create_entity("Harbour Coffee Roasters Ltd")
    conn = await world.connect(entity)
    async with sessionmaker() as session:
        stamps = dict((await session.execute(
            select(PulledRecord.provider_id, PulledRecord.updated_at)
        )).all())  # fmt: skip
        count = await session.scalar(select(func.count()).select_from(PulledRecord))
    assert count == 17  # 4 customers, 3 suppliers, 4 items, 3 invoices, 3 bills
    reads = world.emulator.stats["read"]
    h = world.partner.entity_headers(entity)
    r = await world.client.post(f"/v1/accounting_connections/{conn['id']}/sync", headers=h)
    assert r.status_code == 202, r.text

    async def pulled_again() -> bool:
        s = await _get(world, entity, f"/v1/accounting_connections/{conn['id']}")
        return s["last_pull"] != conn["last_pull"]

    await world.wait_for(pulled_again, what="second pull")
    status = await _get(world, entity, f"/v1/accounting_connections/{conn['id']}/sync_status")
    assert all(d["records_changed"] == 0 for d in status["data"]), status["data"]
    async with sessionmaker() as session:
        after = dict((await session.execute(
            select(PulledRecord.provider_id, PulledRecord.updated_at)
        )).all())  # fmt: skip
    assert after == stamps
    # an unchanged organisation: one page per data type and one organisation read, 0 writes
    assert world.emulator.stats["read"] - reads == 8, world.emulator.stats["read"] - reads


async def test_a_contact_deleted_in_the_books_is_marked(smarty_world: SmartyWorld) -> None:
    """Smarty reports no deletions: a linked contact that a complete read no longer lists
    is marked deleted and its synced record says ``deleted_upstream``, as on Codat."""
    world = smarty_world
    entity = await world.partner.create_entity("Harbour Coffee Roasters Ltd")
    h = world.partner.entity_headers(entity)
    known = await _counterpart(world, h, "Northside Bakery", "Leeds", "7 Church Ln", "LS2 7EY")
    conn = await world.connect(entity)
    path = f"/v1/accounting_synced_records?object_type=customer&object_id={known}"
    linked = (await _get(world, entity, path))["data"][0]
    assert linked["sync_status"] == "done"
    org = world.emulator.store.organisations[int(await _organisation_of(world, conn))]
    del org.records["contacts"][int(linked["provider_object_id"])]  # deleted in the books
    r = await world.client.post(f"/v1/accounting_connections/{conn['id']}/sync", headers=h)
    assert r.status_code == 202, r.text

    async def marked() -> Any:
        record = (await _get(world, entity, path))["data"][0]
        return record if (record.get("errors") or {}).get("code") == "deleted_upstream" else None

    record = await world.wait_for(marked, what="deleted_upstream")
    assert record["sync_status"] == "error"


async def _organisation_of(world: SmartyWorld, conn: dict[str, Any]) -> str:
    return str(world.emulator.store.users["owner@harbour.example"].organisation_ids[0])
