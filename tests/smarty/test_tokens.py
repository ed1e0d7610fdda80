"""Smarty tokens: kept encrypted (never in an answer), refreshed before they expire, renewed
when Smarty refuses one early, and a refused refresh token makes the connection
``deauthorized`` until the user connects again. Connecting: refused credentials change
nothing; a user in several organisations chooses one; a partner's refresh token works."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.db.models import AccountingConnection, ProviderCredential
from tests.smarty.conftest import DEMO_PASSWORD, DEMO_USER, OWNER_PASSWORD, SmartyWorld


async def _credential(sessionmaker) -> ProviderCredential | None:
    async with sessionmaker() as session:
        return await session.scalar(select(ProviderCredential))


async def _sync(world: SmartyWorld, entity: str, conn: dict) -> dict:
    h = world.partner.entity_headers(entity)
    before = (await world.client.get(f"/v1/accounting_connections/{conn['id']}", headers=h)).json()
    r = await world.client.post(f"/v1/accounting_connections/{conn['id']}/sync", headers=h)
    assert r.status_code == 202, r.text

    async def moved() -> dict | None:
        now = (await world.client.get(f"/v1/accounting_connections/{conn['id']}",
                                      headers=h)).json()  # fmt: skip
        changed = (
            now["last_pull"] != before["last_pull"]
            or now["errors"]
            or (now["status"] != before["status"])
        )
        return now if changed else None

    return await world.wait_for(moved, what="a pull")


async def test_tokens_refresh_and_deauthorisation(smarty_world: SmartyWorld, sessionmaker) -> None:
    world = smarty_world
    entity = await world.partner.create_entity("Harbour Coffee Roasters Ltd")
    conn = await world.connect(entity)
    stored = await _credential(sessionmaker)
    assert stored is not None
    store = world.emulator.store
    # encrypted at rest: no token in the clear, none in the API's answers
    for token in list(store.access_tokens) + list(store.refresh_tokens):
        assert token.encode() not in stored.secret_encrypted
    h = world.partner.entity_headers(entity)
    shown = (await world.client.get(f"/v1/accounting_connections/{conn['id']}", headers=h)).text
    assert not any(t in shown for t in store.refresh_tokens)

    # Smarty expires the access token early: the next call renews it once and goes on
    store.expire_access_tokens()
    refreshes = len(store.access_tokens)
    after = await _sync(world, entity, conn)
    assert after["status"] == "connected" and after["errors"] is None
    assert len(store.access_tokens) == refreshes + 1

    # close to its expiry (within REFRESH_MARGIN): renewed before a call, none refused
    from app.providers.smarty import load_tokens, store_tokens

    box = world.service.state.secret_box
    async with sessionmaker() as session:
        row = await session.scalar(select(ProviderCredential))
        assert row.expires_at.timestamp() > time.time() + 3000
        tokens = await load_tokens(session, box, row.connection_id)
        assert tokens is not None
        tokens.expires_at = time.time() + 60
        await store_tokens(session, box, row.connection_id, tokens)
        await session.commit()
    world.service.state.providers.forget_smarty(row.connection_id)  # as a fresh process
    issued = len(store.access_tokens)
    after = await _sync(world, entity, conn)
    assert after["status"] == "connected" and after["errors"] is None
    assert len(store.access_tokens) == issued + 1
    assert store.access_tokens[tokens.access_token].expires_at > time.time()  # still valid

    # the user removes the app's access: the refresh token is refused -> deauthorized
    store.revoke()
    after = await _sync(world, entity, conn)
    assert after["status"] == "deauthorized", after

    async def told() -> set[str]:
        shown = (await world.client.get(f"/v1/accounting_connections/{conn['id']}",
                                        headers=h)).json()  # fmt: skip
        return {e["code"] for e in shown["errors"] or []} & {"provider_auth_failed"}

    await world.wait_for(told, what="the partner told why")
    assert await _credential(sessionmaker) is None  # the dead tokens are dropped
    async with sessionmaker() as session:
        row = await session.scalar(select(AccountingConnection))
        assert row.status == "deauthorized"

    # connecting again on the same link: connected, the first pull runs
    done = await world.client.post(
        conn["connection_url"],
        json={"username": "owner@harbour.example", "password": OWNER_PASSWORD},
    )
    assert done.status_code == 200, done.text

    async def back() -> dict | None:
        now = (await world.client.get(f"/v1/accounting_connections/{conn['id']}",
                                      headers=h)).json()  # fmt: skip
        return now if now["status"] == "connected" else None

    await world.wait_for(back, what="re-authorised")


async def test_connect_page_refusals_and_choices(smarty_world: SmartyWorld, sessionmaker) -> None:
    world = smarty_world
    entity = await world.partner.create_entity("Northwind Studio Ltd")
    h = world.partner.entity_headers(entity)
    created = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "smarty_accounting"}
    )
    assert created.status_code == 201, created.text
    url = created.json()["connection_url"]
    page = await world.client.get(url)
    assert page.status_code == 200 and "type='password'" in page.text
    assert (await world.client.get(url[:-3] + "xyz")).status_code == 404
    refused = await world.client.post(url, json={"username": DEMO_USER, "password": "wrong"})
    assert refused.status_code == 400
    assert await _credential(sessionmaker) is None
    # the demo user is in two organisations: asked to choose
    choose = await world.client.post(url, json={"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert choose.status_code == 409
    orgs = choose.json()["organisations"]
    assert [o["name"] for o in orgs] == ["Harbour Coffee Roasters Ltd", "Northwind Studio Ltd"]
    form = await world.client.post(url, data={"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert form.status_code == 200 and "<select name='organisation_id'>" in form.text
    # a partner holding a refresh token connects with it
    tokens = await world.smarty_http.post("/oauth/authenticate/accesstoken", json={
        "client_id": "smarty-sandbox-client", "client_secret": "smarty-sandbox-secret",
        "username": DEMO_USER, "password": DEMO_PASSWORD})  # fmt: skip
    done = await world.client.post(url, json={
        "refresh_token": tokens.json()["refresh_token"],
        "organisation_id": orgs[1]["organisation_id"]})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["organisation_id"] == orgs[1]["organisation_id"]
    again = await world.client.post(url, json={"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert again.status_code == 409  # already connected
    assert await _credential(sessionmaker) is not None
