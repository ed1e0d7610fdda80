"""Push operations: async settlement, validation, idempotency, updates, webhooks."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from sandbox import SandboxConfig, create_sandbox_app

from .conftest import Sandbox, basic


async def _setup(sb: Sandbox) -> dict[str, Any]:
    """A linked Xero company plus the ids a valid invoice needs."""
    company, connection = await sb.linked_company("gbol")
    base = f"/companies/{company['id']}"

    async def first(data_type: str) -> dict[str, Any]:
        return (await sb.client.get(f"{base}/data/{data_type}", headers=basic())).json()["results"][
            0
        ]

    return {
        "company": company["id"],
        "push": f"{base}/connections/{connection['id']}/push",
        "base": base,
        "customer": await first("customers"),
        "supplier": await first("suppliers"),
        "account": await first("accounts"),
        "tax": await first("taxRates"),
        "item": await first("items"),
    }


def _invoice(ctx: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    invoice = {
        "invoiceNumber": "ACME-1",
        "customerRef": {"id": ctx["customer"]["id"]},
        "issueDate": "2024-05-01T00:00:00",
        "dueDate": "2024-05-31T00:00:00",
        "currency": "GBP",
        "status": "Submitted",
        "subTotal": 100.0,
        "totalTaxAmount": 20.0,
        "totalAmount": 120.0,
        "amountDue": 120.0,
        "lineItems": [
            {
                "description": "Work",
                "unitAmount": 100.0,
                "quantity": 1,
                "accountRef": {"id": ctx["account"]["id"]},
                "taxRateRef": {"id": ctx["tax"]["id"]},
                "itemRef": {"id": ctx["item"]["id"]},
            }
        ],
    }
    invoice.update(overrides)
    return invoice


async def _wait(sb: Sandbox, ctx: dict[str, Any], key: str) -> dict[str, Any]:
    for _ in range(100):
        operation = (await sb.client.get(f"{ctx['base']}/push/{key}", headers=basic())).json()
        if operation["status"] != "Pending":
            return operation
        await asyncio.sleep(0.01)
    raise AssertionError("push never settled")


async def test_push_create_is_pending_then_success_with_new_record(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    response = await sb.client.post(f"{ctx['push']}/invoices", json=_invoice(ctx), headers=basic())
    assert response.status_code == 200
    pending = response.json()
    assert pending["status"] == "Pending" and pending["statusCode"] == 202
    assert pending["completedOnUtc"] is None and pending["changes"] is None
    assert pending["companyId"] == ctx["company"] and pending["dataType"] == "invoices"
    done = await _wait(sb, ctx, pending["pushOperationKey"])
    assert done["status"] == "Success" and done["statusCode"] == 200
    record_id = done["changes"][0]["recordRef"]["id"]
    assert done["changes"][0] == {
        "type": "Created",
        "recordRef": {"id": record_id, "dataType": "invoices"},
        "attachmentId": None,
    }
    stored = await sb.client.get(f"{ctx['base']}/data/invoices/{record_id}", headers=basic())
    assert stored.json()["invoiceNumber"] == "ACME-1"
    listed = (await sb.client.get(f"{ctx['base']}/push", headers=basic())).json()
    assert [o["pushOperationKey"] for o in listed["results"]] == [pending["pushOperationKey"]]
    await sb.settle()
    body = sb.receiver.bodies()[-1]
    assert body["eventType"] == "invoices.write.successful"
    assert body["payload"]["id"] == pending["pushOperationKey"]
    assert body["payload"]["status"] == "Success"
    assert body["payload"]["record"]["id"] == record_id


async def test_settles_without_any_request_arriving(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    response = await sb.client.post(
        f"{ctx['push']}/customers", json={"customerName": "New"}, headers=basic()
    )
    key = response.json()["pushOperationKey"]
    await asyncio.sleep(0.1)
    operation = sb.state.companies[ctx["company"]].push_operations[key]
    assert operation.status == "Success"


async def test_unknown_refs_and_missing_fields_fail_with_validation_errors(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    invoice = _invoice(ctx, customerRef={"id": "no-such-customer"})
    invoice["lineItems"][0]["taxRateRef"] = {"id": "NOPE"}
    invoice["lineItems"][0]["accountRef"] = {"id": "missing-account"}
    invoice["lineItems"][0]["itemRef"] = {"id": "missing-item"}
    del invoice["issueDate"]
    response = await sb.client.post(f"{ctx['push']}/invoices", json=invoice, headers=basic())
    done = await _wait(sb, ctx, response.json()["pushOperationKey"])
    assert done["status"] == "Failed" and done["statusCode"] == 400
    errors = done["validation"]["errors"]
    assert all(set(e) == {"itemId", "message", "validatorName"} for e in errors)
    item_ids = {e["itemId"] for e in errors}
    assert {"no-such-customer", "NOPE", "missing-account", "missing-item"} <= item_ids
    assert any("issueDate" in e["message"] for e in errors)
    assert done["changes"] is None
    line = {"unitAmount": 1, "quantity": 1, "accountRef": {"id": ctx["account"]["id"]}}
    bill = {
        "supplierRef": {"id": "ghost"},
        "issueDate": "2024-01-01",
        "status": "Open",
        "subTotal": 1,
        "taxAmount": 0,
        "totalAmount": 1,
        "lineItems": [line],
    }
    failed_bill = await _wait(
        sb,
        ctx,
        (await sb.client.post(f"{ctx['push']}/bills", json=bill, headers=basic())).json()[
            "pushOperationKey"
        ],
    )
    assert [e["itemId"] for e in failed_bill["validation"]["errors"]] == ["ghost"]
    no_name = await sb.client.post(
        f"{ctx['push']}/suppliers", json={"status": "Active"}, headers=basic()
    )
    assert (await _wait(sb, ctx, no_name.json()["pushOperationKey"]))["status"] == "Failed"
    await sb.settle()
    assert sb.receiver.events()[-1] == "suppliers.write.unsuccessful"
    total = (await sb.client.get(f"{ctx['base']}/data/invoices", headers=basic())).json()[
        "totalResults"
    ]
    assert total == 2  # nothing was written


async def test_idempotency_key_replays_and_rejects_a_different_body(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    headers = {**basic(), "Idempotency-Key": "synced-record-1-attempt-1"}
    first = await sb.client.post(f"{ctx['push']}/invoices", json=_invoice(ctx), headers=headers)
    again = await sb.client.post(f"{ctx['push']}/invoices", json=_invoice(ctx), headers=headers)
    assert again.status_code == 200
    assert again.json()["pushOperationKey"] == first.json()["pushOperationKey"]
    assert again.json() == first.json()
    other = await sb.client.post(
        f"{ctx['push']}/invoices", json=_invoice(ctx, invoiceNumber="OTHER"), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["statusCode"] == 422
    await _wait(sb, ctx, first.json()["pushOperationKey"])
    listed = (await sb.client.get(f"{ctx['base']}/push", headers=basic())).json()
    assert listed["totalResults"] == 1
    company = await sb.client.post(
        "/companies", json={"name": "X"}, headers={**basic(), "Idempotency-Key": "c1"}
    )
    company_again = await sb.client.post(
        "/companies", json={"name": "X"}, headers={**basic(), "Idempotency-Key": "c1"}
    )
    assert company.json()["id"] == company_again.json()["id"]


async def test_put_void_and_modified_date_bump_seen_by_incremental_query(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    created = await sb.client.post(f"{ctx['push']}/invoices", json=_invoice(ctx), headers=basic())
    done = await _wait(sb, ctx, created.json()["pushOperationKey"])
    invoice_id = done["changes"][0]["recordRef"]["id"]
    before = (
        await sb.client.get(f"{ctx['base']}/data/invoices/{invoice_id}", headers=basic())
    ).json()
    cursor = before["modifiedDate"]
    unchanged = await sb.client.get(
        f"{ctx['base']}/data/invoices", params={"query": f"modifiedDate>{cursor}"}, headers=basic()
    )
    assert unchanged.json()["totalResults"] == 0
    voided = await sb.client.put(
        f"{ctx['push']}/invoices/{invoice_id}", json={**before, "status": "Void"}, headers=basic()
    )
    result = await _wait(sb, ctx, voided.json()["pushOperationKey"])
    assert result["status"] == "Success"
    assert result["changes"][0]["type"] == "Modified"
    changed = await sb.client.get(
        f"{ctx['base']}/data/invoices", params={"query": f"modifiedDate>{cursor}"}, headers=basic()
    )
    records = changed.json()["results"]
    assert [r["id"] for r in records] == [invoice_id]
    assert records[0]["status"] == "Void" and records[0]["amountDue"] == 0
    assert records[0]["sourceModifiedDate"] == records[0]["modifiedDate"] > cursor
    missing = await sb.client.put(
        f"{ctx['push']}/invoices/nope", json={"status": "Void"}, headers=basic()
    )
    failed = await _wait(sb, ctx, missing.json()["pushOperationKey"])
    assert failed["status"] == "Failed"
    assert failed["validation"]["errors"][0]["validatorName"] == "RecordExists"


async def test_push_to_unlinked_connection_fails(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    connection_id = ctx["push"].split("/")[4]
    await sb.client.patch(
        f"{ctx['base']}/connections/{connection_id}", json={"status": "Unlinked"}, headers=basic()
    )
    response = await sb.client.post(
        f"{ctx['push']}/customers", json={"customerName": "A"}, headers=basic()
    )
    done = await _wait(sb, ctx, response.json()["pushOperationKey"])
    assert done["status"] == "Failed" and done["statusCode"] == 401


async def test_zero_delay_settles_in_the_request(sandbox_factory) -> None:
    async with sandbox_factory(push_delay_s=0) as sb:
        ctx = await _setup(sb)
        response = await sb.client.post(
            f"{ctx['push']}/items", json={"name": "Widget", "type": "NonInventory"}, headers=basic()
        )
        assert response.json()["status"] == "Success"


async def test_queue_refresh_completes_and_sends_read_completed(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    await sb.settle()
    sent = len(sb.receiver.requests)
    queued = await sb.client.post(f"{ctx['base']}/data/queue/chartOfAccounts", headers=basic())
    assert queued.status_code == 200
    assert queued.json()["status"] == "Queued" and queued.json()["dataType"] == "chartOfAccounts"
    await sb.settle()
    new = sb.receiver.bodies()[sent:]
    assert [b["eventType"] for b in new] == ["read.completed"]
    assert new[0]["payload"]["dataTypes"][0]["dataType"] == "chartOfAccounts"
    dataset = await sb.client.get(
        f"{ctx['base']}/data/history/{queued.json()['id']}", headers=basic()
    )
    assert dataset.json()["status"] == "Complete"
    status = (await sb.client.get(f"{ctx['base']}/dataStatus", headers=basic())).json()
    assert status["chartOfAccounts"]["latestSyncId"] == queued.json()["id"]


async def test_legacy_envelope_with_authorization_header(sandbox_factory) -> None:
    async with sandbox_factory(webhook_envelope="legacy", webhook_authorization="Bearer shh") as sb:
        ctx = await _setup(sb)
        response = await sb.client.post(
            f"{ctx['push']}/customers", json={"customerName": "Z"}, headers=basic()
        )
        await _wait(sb, ctx, response.json()["pushOperationKey"])
        await sb.settle()
        bodies = sb.receiver.bodies()
        assert all(r.headers["authorization"] == "Bearer shh" for r in sb.receiver.requests)
        assert bodies[0]["RuleType"] == "DataConnectionStatusChanged"
        assert bodies[0]["Data"] == {
            "dataConnectionId": ctx["push"].split("/")[4],
            "newStatus": "Linked",
            "oldStatus": "PendingAuth",
            "platformKey": "gbol",
        }
        assert set(bodies[0]) == {
            "ClientId", "ClientName", "CompanyId", "DataConnectionId", "RuleId", "RuleType",
            "AlertId", "Message", "Data",
        }  # fmt: skip
        assert [b["RuleType"] for b in bodies[1:8]] == ["Data sync completed"] * 7
        assert bodies[-1]["RuleType"] == "Push Operation Status Changed()"
        assert bodies[-1]["Data"]["status"] == "Success"
        assert bodies[-1]["Data"]["pushOperationKey"] == response.json()["pushOperationKey"]


async def test_stale_update_fails_unless_force_update(sb: Sandbox) -> None:
    ctx = await _setup(sb)
    created = await sb.client.post(
        f"{ctx['push']}/customers", json={"customerName": "Old"}, headers=basic()
    )
    customer_id = (await _wait(sb, ctx, created.json()["pushOperationKey"]))["changes"][0][
        "recordRef"
    ]["id"]
    read = (
        await sb.client.get(f"{ctx['base']}/data/customers/{customer_id}", headers=basic())
    ).json()
    await sb.client.put(
        f"/_admin/companies/{ctx['company']}/data/customers",
        json={"id": customer_id, "customerName": "Edited in Xero"},
        headers=basic(),
    )
    stale = {**read, "customerName": "From the service"}
    rejected = await sb.client.put(
        f"{ctx['push']}/customers/{customer_id}", json=stale, headers=basic()
    )
    failed = await _wait(sb, ctx, rejected.json()["pushOperationKey"])
    assert failed["status"] == "Failed"
    assert failed["validation"]["errors"][0]["validatorName"] == "SourceModifiedDate"
    forced = await sb.client.put(
        f"{ctx['push']}/customers/{customer_id}",
        params={"forceUpdate": "true"},
        json=stale,
        headers=basic(),
    )
    assert (await _wait(sb, ctx, forced.json()["pushOperationKey"]))["status"] == "Success"
    final = (
        await sb.client.get(f"{ctx['base']}/data/customers/{customer_id}", headers=basic())
    ).json()
    assert final["customerName"] == "From the service"


async def _plain_client_push(app) -> tuple[httpx.AsyncClient, str, str]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb")
    seeded = await client.post("/_admin/companies/seed", json={"platform": "xero"}, headers=basic())
    company = seeded.json()
    url = f"/companies/{company['id']}/connections/{company['dataConnections'][0]['id']}"
    pushed = await client.post(f"{url}/push/customers", json={"customerName": "Q"}, headers=basic())
    return client, company["id"], pushed.json()["pushOperationKey"]


async def test_mounted_without_lifespan_still_settles_in_the_background() -> None:
    app = create_sandbox_app(SandboxConfig(push_delay_s=0.02))  # no lifespan runs here
    client, company_id, key = await _plain_client_push(app)
    await asyncio.sleep(0.1)
    assert app.state.sandbox.companies[company_id].push_operations[key].status == "Success"
    await app.state.sandbox_runtime.stop()
    await client.aclose()


async def test_reads_settle_due_work_even_when_the_loop_is_gone(monkeypatch) -> None:
    app = create_sandbox_app(SandboxConfig(push_delay_s=0.02))
    monkeypatch.setattr(app.state.sandbox_runtime, "ensure_started", lambda: None)
    client, company_id, key = await _plain_client_push(app)
    await asyncio.sleep(0.05)
    assert app.state.sandbox.companies[company_id].push_operations[key].status == "Pending"
    read = await client.get(f"/companies/{company_id}/push/{key}", headers=basic())
    assert read.json()["status"] == "Success"
    await client.aclose()
