"""Reconnecting (issue 15): the same accounting company keeps every id the partner holds and
duplicates nothing; a different one starts clean; documents that reached a push status while
no connection was active say so, and are pushed once a connection is back."""

from __future__ import annotations

import base64
from typing import Any

from tests.e2e.conftest import World, approved_payable, new_vendor, rate_of

KEY = {"Authorization": f"Basic {base64.b64encode(b'sandbox').decode()}"}
BASE = "/v1/accounting_synced_records"


async def _all(world: World, h: dict[str, str], path: str) -> list[dict[str, Any]]:
    out, token = [], None
    while True:
        url = path + (f"{'&' if '?' in path else '?'}pagination_token={token}" if token else "")
        r = await world.client.get(url, headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["data"]
        token = body.get("next_pagination_token")
        if not token:
            return out


async def _records(world: World, h: dict[str, str]) -> dict[tuple[str, str | None], str]:
    """Every synced record: (object type, object id) -> record id (fails on duplicates)."""
    found: dict[tuple[str, str | None], str] = {}
    for object_type in ("customer", "vendor", "product", "bill", "receivable"):
        for r in await _all(world, h, f"{BASE}?object_type={object_type}&limit=100"):
            key = (object_type, r["object_id"] or r["provider_object_id"])
            assert key not in found, f"duplicate synced record {key}"
            found[key] = r["id"]
    return found


async def _payable(
    world: World, h: dict[str, str], vendor: str, account: str, rate: str, ref: str
) -> str:
    """A submitted payable (approved later, when the test says)."""
    return await approved_payable(
        world.client, h, vendor, account, rate, approve=False, document_id=ref
    )


async def _record_of(world: World, h: dict[str, str], object_id: str) -> dict[str, Any]:
    r = await world.client.get(f"{BASE}?object_type=bill&object_id={object_id}", headers=h)
    data = r.json()["data"]
    assert len(data) == 1, data
    return data[0]


async def test_reconnecting_the_same_company_keeps_every_id(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    first = await world.connect(entity, "xero")
    accounts = {a["id"] for a in await _all(world, h, "/v1/ledger_accounts?limit=100")}
    rates = {t["id"] for t in await _all(world, h, "/v1/accounting_tax_rates?limit=100")}
    account = next(a["id"] for a in await _all(world, h, "/v1/ledger_accounts") if a["is_usable"])
    rate = rate_of(await _all(world, h, "/v1/accounting_tax_rates?limit=100"), 2000)["id"]
    vendor = await new_vendor(
        world.client, h, "Globex Supplies Ltd", country="GB", city="Leeds", line1="2 Mill Rd"
    )
    pushed = await _payable(world, h, vendor, account, rate, "BEFORE-1")
    waiting = await _payable(world, h, vendor, account, rate, "WHILE-DISCONNECTED-1")
    assert (
        await world.client.post(f"/v1/payables/{pushed}/approve_payment_operation", headers=h)
    ).status_code == 200

    async def done() -> dict[str, Any] | None:
        record = await _record_of(world, h, pushed)
        return record if record["sync_status"] == "done" else None

    pushed_record = await world.wait_for(done, what="the first bill pushed")
    before = await _records(world, h)

    gone = await world.client.post(
        f"/v1/accounting_connections/{first['id']}/disconnect", headers=h
    )
    assert gone.status_code == 200
    # approved while no connection is active: a synced record says it waits
    assert (
        await world.client.post(f"/v1/payables/{waiting}/approve_payment_operation", headers=h)
    ).status_code == 200
    held = await _record_of(world, h, waiting)
    assert held["sync_status"] == "error"
    assert "no active accounting connection" in held["errors"]["message"]

    second = await world.connect(entity, "xero")
    assert second["id"] != first["id"]
    assert {a["id"] for a in await _all(world, h, "/v1/ledger_accounts?limit=100")} == accounts
    assert {t["id"] for t in await _all(world, h, "/v1/accounting_tax_rates?limit=100")} == rates

    async def waiting_pushed() -> dict[str, Any] | None:
        record = await _record_of(world, h, waiting)
        return record if record["sync_status"] in ("done",) else None

    record = await world.wait_for(waiting_pushed, what="the waiting bill pushed")
    assert record["id"] == held["id"]
    after = await _records(world, h)
    assert after == before | {("bill", waiting): held["id"]}  # same records, same ids
    assert (await _record_of(world, h, pushed))["id"] == pushed_record["id"]
    company = first["connection_url"].split("/companies/")[1].split("/")[0]
    bill = await world.sandbox_http.get(
        f"/companies/{company}/data/bills/{record['provider_object_id']}", headers=KEY
    )
    assert bill.status_code == 200 and bill.json()["reference"] == "WHILE-DISCONNECTED-1"
    # lines coded with the old ids are still accepted
    again = await _payable(world, h, vendor, account, rate, "AFTER-1")
    assert again


async def test_a_different_company_starts_clean(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    first = await world.connect(entity, "xero")
    xero = {a["id"] for a in await _all(world, h, "/v1/ledger_accounts?limit=100")}
    await world.client.post(f"/v1/accounting_connections/{first['id']}/disconnect", headers=h)
    await world.connect(entity, "quickbooks_online")
    qbo = {a["id"] for a in await _all(world, h, "/v1/ledger_accounts?limit=100")}
    assert qbo and not (qbo & xero)


async def test_a_document_approved_while_deauthorised_is_pushed_after_reauthorisation(
    world: World,
) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    account = next(a["id"] for a in await _all(world, h, "/v1/ledger_accounts") if a["is_usable"])
    rate = rate_of(await _all(world, h, "/v1/accounting_tax_rates?limit=100"), 2000)["id"]
    vendor = await new_vendor(
        world.client, h, "Initech Supplies Ltd", country="GB", city="York", line1="3 Low St"
    )
    pid = await _payable(world, h, vendor, account, rate, "WHILE-DEAUTHORISED-1")
    parts = conn["connection_url"].split("/")
    company = parts[parts.index("companies") + 1]
    connection = parts[parts.index("connections") + 1]
    admin = f"/_admin/companies/{company}/connections/{connection}"
    assert (await world.sandbox_http.post(f"{admin}/deauthorize", headers=KEY)).status_code == 200

    async def deauthorised() -> bool:
        r = await world.client.get(f"/v1/accounting_connections/{conn['id']}", headers=h)
        return r.json()["status"] == "deauthorized"

    await world.wait_for(deauthorised, what="deauthorized")
    approved = await world.client.post(f"/v1/payables/{pid}/approve_payment_operation", headers=h)
    assert approved.status_code == 200, approved.text
    held = await _record_of(world, h, pid)
    assert held["sync_status"] == "error" and "no active" in held["errors"]["message"]
    assert (await world.sandbox_http.post(f"{admin}/authorize", headers=KEY)).status_code == 200

    async def pushed() -> dict[str, Any] | None:
        record = await _record_of(world, h, pid)
        return record if record["sync_status"] == "done" else None

    record = await world.wait_for(pushed, what="the bill pushed after re-authorisation")
    assert record["id"] == held["id"]
