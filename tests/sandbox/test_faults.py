"""Fault injection: 429, 5xx, latency, push time-outs, webhook drop/duplicate/reorder/retry."""

from __future__ import annotations

import time

import httpx

from sandbox import FaultConfig

from .conftest import Sandbox, basic


async def _seeded(sb: Sandbox, platform: str = "xero") -> dict:
    response = await sb.client.post(
        "/_admin/companies/seed", json={"platform": platform}, headers=basic()
    )
    return response.json()


async def test_global_429_with_retry_after(sb: Sandbox) -> None:
    put = await sb.client.put(
        "/_admin/faults", json={"rate_429": 1, "retry_after": 7}, headers=basic()
    )
    assert put.status_code == 200
    response = await sb.client.get("/companies", headers=basic())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert "x-rate-limit-remaining" in response.headers
    assert response.json()["canBeRetried"] == "True"
    await sb.client.put("/_admin/faults", json={}, headers=basic())
    assert (await sb.client.get("/companies", headers=basic())).status_code == 200


async def test_5xx_is_seeded_and_reproducible(sandbox_factory) -> None:
    runs = []
    for _ in range(2):
        async with sandbox_factory(faults=FaultConfig(rate_5xx=0.5, seed=5)) as sb:
            codes = [
                (await sb.client.get("/companies", headers=basic())).status_code for _ in range(12)
            ]
            runs.append(codes)
    assert runs[0] == runs[1]
    assert set(runs[0]) >= {200} and set(runs[0]) & {500, 503}


async def test_company_faults_override_global_and_can_be_cleared(sb: Sandbox) -> None:
    company = await _seeded(sb)
    other = await _seeded(sb, "wave")
    url = f"/_admin/companies/{company['id']}/faults"
    assert (await sb.client.put(url, json={"rate_5xx": 1}, headers=basic())).status_code == 200
    broken = await sb.client.get(f"/companies/{company['id']}/data/invoices", headers=basic())
    assert broken.status_code in (500, 503)
    assert broken.json()["statusCode"] == broken.status_code
    fine = await sb.client.get(f"/companies/{other['id']}/data/invoices", headers=basic())
    assert fine.status_code == 200
    assert (await sb.client.delete(url, headers=basic())).status_code == 204
    again = await sb.client.get(f"/companies/{company['id']}/data/invoices", headers=basic())
    assert again.status_code == 200


async def test_bad_fault_body_is_400(sb: Sandbox) -> None:
    for body in ({"rate_429": 2}, {"unknown": 1}, {"rate_5xx": "x"}):
        response = await sb.client.put("/_admin/faults", json=body, headers=basic())
        assert response.status_code == 400, body


async def test_added_latency(sb: Sandbox) -> None:
    await sb.client.put("/_admin/faults", json={"latency_ms": 80}, headers=basic())
    started = time.perf_counter()
    await sb.client.get("/companies", headers=basic())
    assert time.perf_counter() - started >= 0.08


async def _push_customer(sb: Sandbox, company: dict, name: str) -> dict:
    connection = company["dataConnections"][0]["id"]
    url = f"/companies/{company['id']}/connections/{connection}/push/customers"
    key = (await sb.client.post(url, json={"customerName": name}, headers=basic())).json()[
        "pushOperationKey"
    ]
    await sb.settle()
    return (await sb.client.get(f"/companies/{company['id']}/push/{key}", headers=basic())).json()


async def test_push_timeout_may_still_create_the_record(sb: Sandbox) -> None:
    company = await _seeded(sb)
    faults = f"/_admin/companies/{company['id']}/faults"
    await sb.client.put(
        faults, json={"push_timeout_rate": 1, "push_timeout_record_rate": 1}, headers=basic()
    )
    created = await _push_customer(sb, company, "Slow Platform Ltd")
    assert created["status"] == "TimedOut" and created["changes"] is None
    assert sb.receiver.events()[-1] == "customers.write.unsuccessful"
    found = await sb.client.get(
        f"/companies/{company['id']}/data/customers",
        params={"query": "customerName=Slow Platform Ltd"},
        headers=basic(),
    )
    assert found.json()["totalResults"] == 1
    await sb.client.put(
        faults, json={"push_timeout_rate": 1, "push_timeout_record_rate": 0}, headers=basic()
    )
    lost = await _push_customer(sb, company, "Never Written Ltd")
    assert lost["status"] == "TimedOut"
    absent = await sb.client.get(
        f"/companies/{company['id']}/data/customers",
        params={"query": "customerName=Never Written Ltd"},
        headers=basic(),
    )
    assert absent.json()["totalResults"] == 0


async def test_webhooks_dropped(sb: Sandbox) -> None:
    await sb.client.put("/_admin/faults", json={"webhook_drop_rate": 1}, headers=basic())
    await sb.linked_company()
    await sb.settle()
    assert sb.receiver.requests == []
    log = (await sb.client.get("/_admin/webhooks", headers=basic())).json()
    assert log and {entry["status"] for entry in log} == {"dropped"}


async def test_webhooks_duplicated_with_the_same_id(sb: Sandbox) -> None:
    await sb.client.put("/_admin/faults", json={"webhook_duplicate_rate": 1}, headers=basic())
    await sb.company_with_connection()
    await sb.settle()
    ids = [r.headers["webhook-id"] for r in sb.receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1]


async def test_webhooks_reordered(sb: Sandbox) -> None:
    await sb.client.put(
        "/_admin/faults", json={"webhook_reorder": True, "seed": 3}, headers=basic()
    )
    await sb.linked_company()
    await sb.settle()
    log_order = [
        entry["id"] for entry in (await sb.client.get("/_admin/webhooks", headers=basic())).json()
    ]
    sent_order = [r.headers["webhook-id"] for r in sb.receiver.requests]
    assert sorted(sent_order) == sorted(log_order)
    assert sent_order != log_order


async def test_failed_deliveries_are_retried_until_2xx(sb: Sandbox) -> None:
    sb.receiver.statuses = [500, 503]
    await sb.company_with_connection()
    await sb.settle()
    assert len(sb.receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in sb.receiver.requests}) == 1
    signatures = {r.headers["webhook-signature"] for r in sb.receiver.requests}
    assert all(s.startswith("v1,") for s in signatures)
    log = (await sb.client.get("/_admin/webhooks", headers=basic())).json()
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 3


async def test_connection_errors_are_retried_then_given_up(sandbox_factory) -> None:
    attempts = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("refused", request=request)

    async with sandbox_factory(webhook_transport=httpx.MockTransport(refuse)) as sb:
        await sb.company_with_connection()
        await sb.settle()
        log = (await sb.client.get("/_admin/webhooks", headers=basic())).json()
        assert len(attempts) == 3  # first try + the two configured retries
        assert log[0]["status"] == "failed"
        assert log[0]["responses"] == ["ConnectError"] * 3
