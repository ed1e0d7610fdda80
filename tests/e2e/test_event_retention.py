"""Event retention (issue 18): the daily ``prune_events`` job deletes events older than
``ACCTSYNC_EVENT_RETENTION_DAYS`` (90 by default, as Monite keeps its events about three
months) with their delivery records; younger events stay, and sequences go on unbroken."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from app.db.models import Event
from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio


async def _counterpart(world: World, entity: str, name: str) -> None:
    r = await world.client.post(
        "/v1/counterparts",
        headers=world.partner.entity_headers(entity),
        json={
            "type": "organization",
            "organization": {"legal_name": name, "is_vendor": True, "is_customer": False},
        },
    )
    assert r.status_code == 201, r.text


async def _feed(world: World) -> list[int]:
    r = await world.client.get("/v1/events?after=0&limit=100", headers=world.partner.headers)
    assert r.status_code == 200, r.text
    return [e["sequence"] for e in r.json()["data"]]


async def test_events_past_retention_are_pruned_and_the_rest_kept(world: World) -> None:
    entity = await world.partner.create_entity()
    for i in range(4):
        await _counterpart(world, entity, f"Supplier {i}")
    before = await _feed(world)
    assert len(before) >= 4
    old = before[:2]
    sessionmaker = world.service.state.sessionmaker
    async with sessionmaker() as session:
        await session.execute(
            update(Event)
            .where(Event.partner_id == world.partner.partner_id, Event.sequence.in_(old))
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=91))
        )
        await session.commit()

    await world.service.state.jobs.enqueue("prune_events")

    async def pruned() -> bool:
        async with sessionmaker() as session:
            left = await session.scalars(
                select(Event.sequence).where(Event.partner_id == world.partner.partner_id)
            )
            return not set(old) & set(left)

    await world.wait_for(pruned, what="old events pruned")
    assert await _feed(world) == before[2:]  # the younger ones stay, in order
    await _counterpart(world, entity, "After pruning")
    assert (await _feed(world))[-1] == before[-1] + 1  # no sequence reused
