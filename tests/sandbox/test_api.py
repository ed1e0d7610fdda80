"""Companies, connections, link pages, auth, reads with paging and query."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from standardwebhooks import Webhook

from sandbox import DEFAULT_WEBHOOK_SECRET

from .conftest import PUBLIC_URL, Sandbox, basic


async def test_missing_or_wrong_key_is_401_with_codat_error_body(sb: Sandbox) -> None:
    for headers in ({}, basic("wrong"), {"Authorization": "Bearer sandbox"}):
        response = await sb.client.get("/companies", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert set(body) >= {"statusCode", "service", "error", "correlationId", "canBeRetried"}
        assert body["statusCode"] == 401


async def test_keys_see_only_their_own_companies(sandbox_factory) -> None:
    async with sandbox_factory(api_keys=("key-a", "key-b")) as sb:
        created = await sb.client.post("/companies", json={"name": "A Ltd"}, headers=basic("key-a"))
        company_id = created.json()["id"]
        assert (
            await sb.client.get(f"/companies/{company_id}", headers=basic("key-a"))
        ).status_code == 200
        other = await sb.client.get(f"/companies/{company_id}", headers=basic("key-b"))
        assert other.status_code == 404
        assert other.json()["statusCode"] == 404
        listed = await sb.client.get("/companies", headers=basic("key-b"))
        assert listed.json()["totalResults"] == 0
        pushed = await sb.client.get(
            f"/companies/{company_id}/data/invoices", headers=basic("key-b")
        )
        assert pushed.status_code == 404


async def test_every_response_carries_rate_limit_headers(sb: Sandbox) -> None:
    ok = await sb.client.get("/companies", headers=basic())
    missing = await sb.client.get("/companies/unknown", headers=basic())
    for response in (ok, missing):
        assert int(response.headers["x-rate-limit-limit"]) == 10_000
        assert "x-rate-limit-remaining" in response.headers
        assert "x-rate-limit-reset" in response.headers
    assert int(missing.headers["x-rate-limit-remaining"]) < int(
        ok.headers["x-rate-limit-remaining"]
    )


async def test_rate_limit_exhausted_is_429_with_retry_after(sandbox_factory) -> None:
    async with sandbox_factory(rate_limit=2) as sb:
        codes = [(await sb.client.get("/companies", headers=basic())).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        last = await sb.client.get("/companies", headers=basic())
        assert int(last.headers["retry-after"]) >= 1
        assert last.headers["x-rate-limit-remaining"] == "0"


async def test_create_company_needs_a_name(sb: Sandbox) -> None:
    response = await sb.client.post("/companies", json={"description": "x"}, headers=basic())
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "name"


async def test_company_redirect_page_lets_the_user_pick_a_platform(sb: Sandbox) -> None:
    company = (await sb.client.post("/companies", json={"name": "Acme"}, headers=basic())).json()
    assert company["redirect"].startswith(f"{PUBLIC_URL}/link/companies/{company['id']}")
    page = await sb.client.get(company["redirect"].removeprefix(PUBLIC_URL))
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert f"{PUBLIC_URL}/link/companies/{company['id']}/platforms/gbol" in page.text
    chosen = await sb.client.post(
        f"/link/companies/{company['id']}/platforms/gbol", follow_redirects=False
    )
    assert chosen.status_code == 303
    connections = (
        await sb.client.get(f"/companies/{company['id']}/connections", headers=basic())
    ).json()["results"]
    assert [c["integrationKey"] for c in connections] == ["gbol"]
    assert chosen.headers["location"] == connections[0]["linkUrl"]


async def test_connection_link_page_has_authorize_and_deny_forms(sb: Sandbox) -> None:
    company, connection = await sb.company_with_connection("qhyg")
    assert connection["status"] == "PendingAuth"
    assert connection["platformName"] == "QuickBooks Online"
    assert set(connection) >= {
        "id", "integrationId", "sourceId", "platformName", "linkUrl", "status",
        "sourceType", "created", "dataConnectionErrors",
    }  # fmt: skip
    assert connection["linkUrl"].startswith(PUBLIC_URL)
    page = await sb.client.get(connection["linkUrl"].removeprefix(PUBLIC_URL))
    forms = re.findall(r"<form method='post' action='([^']+)'>", page.text)
    base = f"{PUBLIC_URL}/link/companies/{company['id']}/connections/{connection['id']}"
    assert forms == [f"{base}/authorize", f"{base}/deny"]
    assert ">Authorize</button>" in page.text


async def test_authorize_links_fills_data_and_sends_signed_webhooks(sb: Sandbox) -> None:
    company, connection = await sb.linked_company("gbol")
    got = (
        await sb.client.get(
            f"/companies/{company['id']}/connections/{connection['id']}", headers=basic()
        )
    ).json()
    assert got["status"] == "Linked"
    invoices = (
        await sb.client.get(f"/companies/{company['id']}/data/invoices", headers=basic())
    ).json()
    assert invoices["results"][0]["invoiceNumber"] == "INV-001-0"  # Xero's example invoice
    await sb.settle()
    events = sb.receiver.events()
    assert events[:2] == ["connection.created", "connection.connected"]
    assert events.count("read.completed") == 7
    connected = sb.receiver.requests[1]
    verified = Webhook(DEFAULT_WEBHOOK_SECRET).verify(connected.content, dict(connected.headers))
    assert verified["payload"]["connection"]["id"] == connection["id"]
    assert verified["payload"]["connection"]["status"] == "Linked"
    assert verified["payload"]["connection"]["integrationKey"] == "gbol"
    assert verified["payload"]["referenceCompany"]["id"] == company["id"]
    assert connected.headers["webhook-id"] == verified["id"]
    data_types = {b["payload"]["dataTypes"][0]["dataType"] for b in sb.receiver.bodies()[2:]}
    assert "chartOfAccounts" in data_types and "invoices" in data_types
    status = (await sb.client.get(f"/companies/{company['id']}/dataStatus", headers=basic())).json()
    assert status["invoices"]["currentStatus"] == "Complete"


async def test_deny_keeps_pending_auth_with_an_error(sb: Sandbox) -> None:
    company, connection = await sb.company_with_connection()
    path = connection["linkUrl"].removeprefix(PUBLIC_URL).replace("/start", "/deny")
    await sb.client.post(path)
    got = (
        await sb.client.get(
            f"/companies/{company['id']}/connections/{connection['id']}", headers=basic()
        )
    ).json()
    assert got["status"] == "PendingAuth"
    assert got["dataConnectionErrors"][0]["statusCode"] == "403"


async def test_unlink_with_patch(sb: Sandbox) -> None:
    company, connection = await sb.linked_company()
    url = f"/companies/{company['id']}/connections/{connection['id']}"
    bad = await sb.client.patch(url, json={"status": "Linked"}, headers=basic())
    assert bad.status_code == 400
    response = await sb.client.patch(url, json={"status": "Unlinked"}, headers=basic())
    assert response.status_code == 200
    assert response.json()["status"] == "Unlinked"
    await sb.settle()
    last = sb.receiver.bodies()[-1]
    assert last["eventType"] == "connection.disconnected"
    assert last["payload"]["connection"]["status"] == "Unlinked"


async def test_unknown_platform_key_is_400(sb: Sandbox) -> None:
    company = (await sb.client.post("/companies", json={"name": "Acme"}, headers=basic())).json()
    response = await sb.client.post(
        f"/companies/{company['id']}/connections", json={"platformKey": "zzzz"}, headers=basic()
    )
    assert response.status_code == 400


async def _generated(sb: Sandbox, **counts: int) -> str:
    body = {"customers": 30, "suppliers": 5, "items": 5, "invoices": 5, "bills": 5, "seed": 3}
    body.update(counts)
    response = await sb.client.post("/_admin/companies/generate", json=body, headers=basic())
    assert response.status_code == 200
    return response.json()["id"]


async def test_paging_links_and_totals(sb: Sandbox) -> None:
    company_id = await _generated(sb, customers=25)
    url = f"/companies/{company_id}/data/customers"
    first = (await sb.client.get(url, params={"pageSize": 10}, headers=basic())).json()
    assert (first["pageNumber"], first["pageSize"], first["totalResults"]) == (1, 10, 25)
    assert len(first["results"]) == 10
    assert first["_links"]["self"]["href"] == f"{PUBLIC_URL}{url}"
    assert first["_links"]["next"]["href"] == f"{PUBLIC_URL}{url}?page=2&pageSize=10"
    assert "previous" not in first["_links"]
    last = (await sb.client.get(url, params={"page": 3, "pageSize": 10}, headers=basic())).json()
    assert len(last["results"]) == 5
    assert "next" not in last["_links"] and "previous" in last["_links"]
    default = (await sb.client.get(url, headers=basic())).json()
    assert default["pageSize"] == 100
    ids = [r["id"] for r in first["results"]] + [r["id"] for r in last["results"]]
    assert len(set(ids)) == 15


async def test_page_size_over_5000_or_bad_page_is_400(sb: Sandbox) -> None:
    company_id = await _generated(sb)
    url = f"/companies/{company_id}/data/customers"
    for params in ({"pageSize": 5001}, {"pageSize": 0}, {"page": 0}, {"page": "x"}):
        response = await sb.client.get(url, params=params, headers=basic())
        assert response.status_code == 400, params
        assert response.json()["statusCode"] == 400
    ok = await sb.client.get(url, params={"pageSize": 5000}, headers=basic())
    assert ok.status_code == 200


async def test_query_and_order_by_on_reads(sb: Sandbox) -> None:
    company_id = await _generated(sb, customers=40)
    url = f"/companies/{company_id}/data/customers"
    everything = (await sb.client.get(url, params={"pageSize": 100}, headers=basic())).json()
    records = everything["results"]
    uk = [r for r in records if r["addresses"][0]["country"] == "United Kingdom"]
    response = await sb.client.get(
        url,
        params={"query": "addresses.country=United Kingdom&&metadata.isDeleted!=true"},
        headers=basic(),
    )
    assert [r["id"] for r in response.json()["results"]] == [r["id"] for r in uk]
    two = [records[0]["id"], records[1]["id"]]
    either = await sb.client.get(
        url, params={"query": f"{{id={two[0]}||id={two[1]}}}&&status!=Nope"}, headers=basic()
    )
    assert sorted(r["id"] for r in either.json()["results"]) == sorted(two)
    ordered = await sb.client.get(url, params={"orderBy": "-modifiedDate"}, headers=basic())
    dates = [r["modifiedDate"] for r in ordered.json()["results"]]
    assert dates == sorted(dates, reverse=True)
    by_name = await sb.client.get(url, params={"orderBy": "customerName"}, headers=basic())
    names = [r["customerName"] for r in by_name.json()["results"]]
    assert names == sorted(names, key=str.casefold)


async def test_malformed_query_is_400_with_codat_error_body(sb: Sandbox) -> None:
    company_id = await _generated(sb)
    url = f"/companies/{company_id}/data/invoices"
    for query in ("status=", "{status=Paid", "status=Paid&&", "status"):
        response = await sb.client.get(url, params={"query": query}, headers=basic())
        assert response.status_code == 400, query
        body = response.json()
        assert body["statusCode"] == 400 and body["service"] and body["correlationId"]
        assert "Malformed query" in body["error"]
    bad_order = await sb.client.get(url, params={"orderBy": "a b"}, headers=basic())
    assert bad_order.status_code == 400


async def test_modified_date_query_across_offsets(sb: Sandbox) -> None:
    company_id = (
        await sb.client.post("/_admin/companies/seed", json={"platform": "xero"}, headers=basic())
    ).json()["id"]
    url = f"/companies/{company_id}/data/customers"
    everything = (await sb.client.get(url, headers=basic())).json()["results"]
    newest = max(datetime.fromisoformat(r["modifiedDate"]) for r in everything)
    plus_two = timezone(timedelta(hours=2))
    naive_utc = newest.astimezone(UTC).replace(tzinfo=None).isoformat()
    for cutoff in (naive_utc, newest.astimezone(plus_two).isoformat()):
        response = await sb.client.get(
            url, params={"query": f"modifiedDate>={cutoff}"}, headers=basic()
        )
        found = [datetime.fromisoformat(r["modifiedDate"]) for r in response.json()["results"]]
        assert found and all(moment >= newest for moment in found)
    later = (newest + timedelta(seconds=1)).astimezone(plus_two).isoformat()
    response = await sb.client.get(url, params={"query": f"modifiedDate>{later}"}, headers=basic())
    assert response.json()["totalResults"] == 0


async def test_seeded_example_company_is_stable_and_keeps_original_fields(sb: Sandbox) -> None:
    first = await sb.client.post(
        "/_admin/companies/seed", json={"platform": "xero"}, headers=basic()
    )
    again = await sb.client.post(
        "/_admin/companies/seed", json={"platform": "gbol"}, headers=basic()
    )
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["name"] == "Example xero"
    assert first.json()["dataConnections"][0]["status"] == "Linked"
    company_id = first.json()["id"]
    items = (await sb.client.get(f"/companies/{company_id}/data/items", headers=basic())).json()
    assert {i["name"] for i in items["results"]} >= {"Project management - daily rate"}
    invoice = (
        await sb.client.get(f"/companies/{company_id}/data/invoices", headers=basic())
    ).json()["results"][0]
    assert (
        invoice["paymentAllocations"][0]["payment"]["id"] == "65b746c8-9a5d-4a95-8096-d2316fcff592"
    )
