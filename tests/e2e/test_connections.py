"""Accounting connections: connect, authorise, sync, disconnect and reconnect; bad input and
tenant isolation (issue 3)."""

from __future__ import annotations

import base64

from tests.conftest import make_partner
from tests.e2e.conftest import World


async def _sandbox_connection(world: World, url: str) -> dict:
    """The sandbox's view of the connection behind a link URL."""
    parts = url.split("/")
    company, connection = parts[parts.index("companies") + 1], parts[parts.index("connections") + 1]
    key = base64.b64encode(b"sandbox").decode()
    response = await world.sandbox_http.get(
        f"/companies/{company}/connections/{connection}", headers={"Authorization": f"Basic {key}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_connect_sync_disconnect_and_reconnect(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    first = await world.connect(entity, "xero")
    assert first["status"] == "connected" and first["platform"] == "xero"
    again = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "xero"}
    )
    assert again.status_code == 409
    sync = await world.client.post(f"/v1/accounting_connections/{first['id']}/sync", headers=h)
    assert sync.status_code == 202 and sync.json() == {"message": "Sync queued"}
    gone = await world.client.post(
        f"/v1/accounting_connections/{first['id']}/disconnect", headers=h
    )
    assert gone.status_code == 200 and gone.json()["status"] == "disconnected"
    assert (await _sandbox_connection(world, first["connection_url"]))["status"] == "Unlinked"
    refused = await world.client.post(f"/v1/accounting_connections/{first['id']}/sync", headers=h)
    assert refused.status_code == 409
    second = await world.connect(entity, "xero")  # reconnecting makes a new connection
    assert second["id"] != first["id"] and second["status"] == "connected"
    listed = (await world.client.get("/v1/accounting_connections", headers=h)).json()["data"]
    assert {c["id"]: c["status"] for c in listed} == {
        first["id"]: "disconnected",
        second["id"]: "connected",
    }


async def test_without_a_platform_the_url_is_the_company_link_page(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    created = await world.client.post("/v1/accounting_connections", headers=h)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending_auth" and body["platform"] is None
    assert (
        "/link/companies/" in body["connection_url"]
        and "/connections/" not in body["connection_url"]
    )
    page = await world.sandbox_http.get(body["connection_url"])
    assert page.status_code == 200 and "Xero" in page.text


async def test_bad_input_and_isolation(world: World, sessionmaker) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    unknown = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "abacus"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "platform"]
    extra = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "xero", "colour": "red"}
    )
    assert extra.status_code == 422
    assert (await world.client.get("/v1/accounting_connections", headers=h)).json()["data"] == []
    # a partner without a provider key gets a 409 that says so
    keyless = await make_partner(world.client, sessionmaker, "Keyless partner")
    their_entity = await keyless.create_entity("Keyless Ltd")
    no_key = await world.client.post(
        "/v1/accounting_connections",
        headers=keyless.entity_headers(their_entity),
        json={"platform": "xero"},
    )
    assert no_key.status_code == 409 and "API key" in no_key.json()["error"]["message"]
    # another entity of the same partner, and another partner, see nothing
    created = (
        await world.client.post("/v1/accounting_connections", headers=h, json={"platform": "xero"})
    ).json()
    sibling = world.partner.entity_headers(await world.partner.create_entity("Sibling Ltd"))
    for headers in (sibling, keyless.entity_headers(their_entity)):
        assert (
            await world.client.get(f"/v1/accounting_connections/{created['id']}", headers=headers)
        ).status_code == 404
        assert (
            await world.client.post(
                f"/v1/accounting_connections/{created['id']}/disconnect", headers=headers
            )
        ).status_code == 404
    assert (
        await world.client.get(
            f"/v1/accounting_connections/{created['id']}", headers=keyless.entity_headers(entity)
        )
    ).status_code == 404


async def test_provider_failures_are_502_and_503_and_change_nothing(world: World) -> None:
    entity = await world.partner.create_entity("Outage Ltd")
    h = world.partner.entity_headers(entity)
    admin = {"Authorization": f"Basic {base64.b64encode(b'sandbox').decode()}"}

    # A key the provider refuses: 502 that says so, no connection written.
    r = await world.client.patch(
        "/v1/settings",
        headers=world.partner.headers,
        json={"accounting": {"provider": "codat", "token": "not-the-key"}},
    )
    assert r.status_code == 200, r.text
    refused = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "xero"}
    )
    assert refused.status_code == 502, refused.text
    assert "key" in refused.json()["error"]["message"]

    # The provider is down (it asks to come back in a minute): 503 with Retry-After.
    r = await world.client.patch(
        "/v1/settings",
        headers=world.partner.headers,
        json={"accounting": {"provider": "codat", "token": "sandbox"}},
    )
    assert r.status_code == 200, r.text
    put = await world.sandbox_http.put(
        "/_admin/faults", json={"rate_429": 1, "retry_after": 60}, headers=admin
    )
    assert put.status_code == 200, put.text
    try:
        down = await world.client.post(
            "/v1/accounting_connections", headers=h, json={"platform": "xero"}
        )
    finally:
        await world.sandbox_http.put("/_admin/faults", json={}, headers=admin)
    assert down.status_code == 503, down.text
    assert int(down.headers["retry-after"]) >= 1
    assert "unavailable" in down.json()["error"]["message"]
    listed = (await world.client.get("/v1/accounting_connections", headers=h)).json()["data"]
    assert listed == []
    # Back up: the same call works.
    ok = await world.client.post("/v1/accounting_connections", headers=h, json={"platform": "xero"})
    assert ok.status_code == 201, ok.text
