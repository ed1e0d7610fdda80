"""Manual syncs are limited per connection per UTC day (issue 15): 429 with Retry-After and
the remaining count in headers; scheduled pulls are not counted."""

from __future__ import annotations

import datetime as dt
import uuid

from app.connections import service
from tests.e2e.conftest import World


async def test_manual_syncs_past_the_daily_limit_are_refused(world: World, sessionmaker) -> None:
    limit = world.service.state.settings.manual_sync_daily_limit
    assert limit == 20  # the default
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    url = f"/v1/accounting_connections/{conn['id']}/sync"
    for n in range(limit):
        r = await world.client.post(url, headers=h)
        assert r.status_code == 202, r.text
        assert r.headers["x-sync-quota-limit"] == str(limit)
        assert r.headers["x-sync-quota-remaining"] == str(limit - n - 1)
    refused = await world.client.post(url, headers=h)
    assert refused.status_code == 429
    assert "daily limit of 20 manual syncs" in refused.json()["error"]["message"]
    assert refused.headers["x-sync-quota-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 86400
    # another entity's connection has its own quota
    other = await world.partner.create_entity("Other Ltd")
    oh = world.partner.entity_headers(other)
    other_conn = await world.connect(other, "wave")
    r = await world.client.post(f"/v1/accounting_connections/{other_conn['id']}/sync", headers=oh)
    assert r.status_code == 202 and r.headers["x-sync-quota-remaining"] == str(limit - 1)
    # the quota resets the next day (UTC)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    async with sessionmaker() as session:
        quota = await service.take_manual_sync(
            session, uuid.UUID(entity), uuid.UUID(conn["id"]), limit, now=tomorrow
        )
        await session.commit()
    assert quota.allowed and quota.remaining == limit - 1


async def test_a_connection_that_cannot_sync_is_409_and_not_counted(world: World) -> None:
    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    created = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "xero"}
    )
    url = f"/v1/accounting_connections/{created.json()['id']}/sync"
    for _ in range(3):
        assert (await world.client.post(url, headers=h)).status_code == 409
    await world.authorize(created.json()["connection_url"])

    async def connected() -> bool:
        r = await world.client.get(f"/v1/accounting_connections/{created.json()['id']}", headers=h)
        return r.json()["status"] == "connected"

    await world.wait_for(connected, what="connected")
    r = await world.client.post(url, headers=h)
    assert r.status_code == 202 and r.headers["x-sync-quota-remaining"] == "19"
    missing = await world.client.post(f"/v1/accounting_connections/{uuid.uuid4()}/sync", headers=h)
    assert missing.status_code == 404


def test_the_limit_is_configured_and_checked() -> None:
    import pytest

    from app.config import ConfigError, load_settings

    assert load_settings({"ACCTSYNC_MANUAL_SYNC_DAILY_LIMIT": "5"}).manual_sync_daily_limit == 5
    for bad in ("many", "-1"):
        with pytest.raises(ConfigError, match="ACCTSYNC_MANUAL_SYNC_DAILY_LIMIT"):
            load_settings({"ACCTSYNC_MANUAL_SYNC_DAILY_LIMIT": bad})
