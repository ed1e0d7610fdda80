"""Connection health as a partner reads it (issue 15): ``errors`` on the connection holds
the current problems only, and ``/sync_status`` shows each data type's pull state.

Faults come from the sandbox's admin API (a provider outage for one company) or from its
state (a company that is gone), and every check goes through the service's API."""

from __future__ import annotations

import base64
from typing import Any

from tests.e2e.conftest import World

KEY = {"Authorization": f"Basic {base64.b64encode(b'sandbox').decode()}"}


def _company_and_connection(url: str) -> tuple[str, str]:
    parts = url.split("/")
    return parts[parts.index("companies") + 1], parts[parts.index("connections") + 1]


async def _get(world: World, h: dict[str, str], conn_id: str) -> dict[str, Any]:
    r = await world.client.get(f"/v1/accounting_connections/{conn_id}", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def _status(world: World, h: dict[str, str], conn_id: str) -> dict[str, Any]:
    r = await world.client.get(f"/v1/accounting_connections/{conn_id}/sync_status", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def _sync(world: World, h: dict[str, str], conn_id: str) -> None:
    r = await world.client.post(f"/v1/accounting_connections/{conn_id}/sync", headers=h)
    assert r.status_code == 202, r.text


async def test_an_outage_shows_within_one_failed_pull_and_clears_after_recovery(
    world: World,
) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    assert conn["errors"] is None
    healthy = await _status(world, h, conn["id"])
    assert healthy["healthy"] is True and healthy["status"] == "connected"
    by_type = {d["data_type"]: d for d in healthy["data"]}
    assert list(by_type) == [
        "accounts",
        "taxRates",
        "customers",
        "suppliers",
        "items",
        "invoices",
        "bills",
    ]
    # the last pull's figures: the first pull read the chart of accounts; a second one (queued
    # by the connection's webhook after authorisation) may find nothing new and read 0
    accounts = by_type["accounts"]
    assert 0 <= accounts["records_changed"] <= accounts["records_read"]
    assert (await world.client.get("/v1/ledger_accounts?limit=1", headers=h)).json()["data"]
    assert all(d["last_success_at"] and d["error"] is None for d in by_type.values())
    first_success = by_type["accounts"]["last_success_at"]

    company, _ = _company_and_connection(conn["connection_url"])
    r = await world.sandbox_http.put(
        f"/_admin/companies/{company}/faults", json={"rate_5xx": 1}, headers=KEY
    )
    assert r.status_code == 200
    await _sync(world, h, conn["id"])

    async def failing() -> dict[str, Any] | None:
        # A pull already under way when the outage began fails only its remaining data
        # types; the next one fails them all.
        body = await _get(world, h, conn["id"])
        codes = {(e["code"], e["data_type"]) for e in body["errors"] or []}
        return body if codes >= {("provider_unavailable", t) for t in by_type} else None

    down = await world.wait_for(failing, what="the outage in errors")
    assert down["status"] == "connected"
    assert {e["data_type"] for e in down["errors"]} == set(by_type)
    for e in down["errors"]:
        assert e["code"] == "provider_unavailable" and e["message"]
        assert e["first_seen_at"] and e["last_seen_at"] >= e["first_seen_at"]
    status = await _status(world, h, conn["id"])
    assert status["healthy"] is False
    for d in status["data"]:
        assert d["error"]["code"] == "provider_unavailable"
        assert (
            d["last_attempt_at"]
            > d["last_success_at"]
            == by_type[d["data_type"]]["last_success_at"]
        )

    # the provider recovers: the next pull clears every problem it resolved
    assert (
        await world.sandbox_http.delete(f"/_admin/companies/{company}/faults", headers=KEY)
    ).status_code == 204
    await _sync(world, h, conn["id"])

    async def recovered() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["errors"] is None else None

    await world.wait_for(recovered, what="the errors to clear")
    status = await _status(world, h, conn["id"])
    assert status["healthy"] is True and status["errors"] == []
    for d in status["data"]:
        assert d["error"] is None and d["last_success_at"] > first_success
        assert d["records_changed"] == 0  # nothing changed in the books meanwhile


async def test_a_company_gone_at_the_provider_is_an_error_not_healthy(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    company, _ = _company_and_connection(conn["connection_url"])
    del world.sandbox.state.sandbox.companies[company]
    await _sync(world, h, conn["id"])

    async def gone() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["errors"] else None

    body = await world.wait_for(gone, what="company_not_found")
    assert [(e["code"], e["data_type"]) for e in body["errors"]] == [("company_not_found", None)]
    assert company in body["errors"][0]["message"]
    status = await _status(world, h, conn["id"])
    assert status["healthy"] is False
    assert {d["error"]["code"] for d in status["data"]} == {"company_not_found"}


async def test_user_cancelled_then_authorised_leaves_no_error(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    created = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "xero"}
    )
    conn = created.json()
    url = conn["connection_url"]
    denied = await world.sandbox_http.post(f"{url.removesuffix('/start')}/deny")
    assert denied.status_code in (200, 303), denied.text

    async def cancelled() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["errors"] else None

    body = await world.wait_for(cancelled, what="the cancellation in errors")
    assert body["status"] == "pending_auth"
    assert [(e["code"], e["message"]) for e in body["errors"]] == [
        ("connection_error", "User cancelled")
    ]
    await world.authorize(url)

    async def pulled() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["last_pull"] else None

    body = await world.wait_for(pulled, what="the first pull")
    assert body["status"] == "connected" and body["errors"] is None
    assert (await _status(world, h, conn["id"]))["healthy"] is True


async def test_deauthorised_then_reauthorised_clears_the_error(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    company, connection = _company_and_connection(conn["connection_url"])
    admin = f"/_admin/companies/{company}/connections/{connection}"
    assert (await world.sandbox_http.post(f"{admin}/deauthorize", headers=KEY)).status_code == 200

    async def deauthorized() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["status"] == "deauthorized" else None

    body = await world.wait_for(deauthorized, what="deauthorized")
    assert [e["code"] for e in body["errors"]] == ["connection_error"]
    assert "de-authorized" in body["errors"][0]["message"]
    assert (await _status(world, h, conn["id"]))["healthy"] is False
    assert (await world.sandbox_http.post(f"{admin}/authorize", headers=KEY)).status_code == 200

    async def back() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["status"] == "connected" and body["errors"] is None else None

    await world.wait_for(back, what="connected again without errors")


async def test_sync_status_is_scoped_to_the_entity(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    conn = await world.connect(entity, "xero")
    sibling = world.partner.entity_headers(await world.partner.create_entity("Sibling Ltd"))
    r = await world.client.get(
        f"/v1/accounting_connections/{conn['id']}/sync_status", headers=sibling
    )
    assert r.status_code == 404
    r = await world.client.get(
        "/v1/accounting_connections/not-a-uuid/sync_status",
        headers=world.partner.entity_headers(entity),
    )
    assert r.status_code in (404, 422)


async def test_a_connection_not_pulled_for_too_long_is_stale(world: World, sessionmaker) -> None:
    import datetime as dt
    import uuid

    from app.connections import service

    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    now = await _status(world, h, conn["id"])
    assert now["stale"] is False and now["healthy"] is True
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)  # two hourly pulls missed
    async with sessionmaker() as session:
        status = await service.sync_status(
            session, uuid.UUID(entity), uuid.UUID(conn["id"]), 3600, now=later
        )
    assert status.stale is True and status.healthy is False
    assert status.errors == []  # nothing failed: the pulls did not run at all


async def test_a_missing_provider_key_shows_and_clears_once_set_again(
    world: World, sessionmaker
) -> None:
    from sqlalchemy import update

    from app.db.models import PartnerSettings

    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    async with sessionmaker() as session, session.begin():
        await session.execute(update(PartnerSettings).values(provider_token_encrypted=None))
    await _sync(world, h, conn["id"])

    async def keyless() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["errors"] else None

    body = await world.wait_for(keyless, what="provider_key_missing")
    assert [(e["code"], e["data_type"]) for e in body["errors"]] == [("provider_key_missing", None)]
    assert "PATCH /v1/settings" in body["errors"][0]["message"]
    r = await world.client.patch(
        "/v1/settings",
        headers=world.partner.headers,
        json={"accounting": {"provider": "codat", "token": "sandbox"}},
    )
    assert r.status_code == 200
    await _sync(world, h, conn["id"])

    async def fixed() -> dict[str, Any] | None:
        body = await _get(world, h, conn["id"])
        return body if body["errors"] is None else None

    await world.wait_for(fixed, what="the problem cleared")
