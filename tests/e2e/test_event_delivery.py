"""Webhook delivery end to end (issue 18): the service with its job runner, a receiver on
loopback (bench/event_receiver.py) that verifies every signature with ``standardwebhooks``
(and Svix's library), retries, ``Retry-After``, disabling, manual redelivery, and delivery
under faults with the job runner stopped and restarted mid-run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import Event
from bench.event_receiver import Faults, Receiver
from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio

FAST = {"webhook_timeout": 0.3, "webhook_retry_base": 0.05, "webhook_retry_cap": 0.4}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def _subscribe(world: World, receiver: Receiver, object_type: str = "counterpart") -> str:
    r = await world.client.post(
        "/v1/webhook_subscriptions",
        headers=world.partner.headers,
        json={"object_type": object_type, "url": receiver.url},
    )
    assert r.status_code == 201, r.text
    receiver.secret = r.json()["secret"]
    return r.json()["id"]


async def _counterparts(world: World, entity_id: str, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        r = await world.client.post(
            "/v1/counterparts",
            headers=world.partner.entity_headers(entity_id),
            json={
                "type": "organization",
                "organization": {
                    "legal_name": f"Supplier {i} Ltd",
                    "is_vendor": True,
                    "is_customer": False,
                },
            },
        )
        assert r.status_code == 201, r.text


async def _expected(world: World, object_type: str = "counterpart") -> dict[str, tuple[int, float]]:
    async with world.service.state.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(Event).where(
                    Event.partner_id == world.partner.partner_id,
                    Event.object_type == object_type,
                )
            )
        ).all()
    return {str(e.id): (e.sequence, e.created_at.timestamp()) for e in rows}


async def _deliveries(world: World, **params: Any) -> list[dict[str, Any]]:
    r = await world.client.get(
        "/v1/webhook_deliveries", headers=world.partner.headers, params=params
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_events_arrive_signed_in_order_and_are_listed(world: World, receiver) -> None:
    receiver.svix_check = True
    world.service.state.jobs.context.extras.update(FAST)
    entity_id = await world.partner.create_entity()
    sid = await _subscribe(world, receiver)
    await _counterparts(world, entity_id, 5)
    await world.wait_for(lambda: _done(receiver, 5), what="5 deliveries")
    assert receiver.bad_signatures == 0
    assert [p[2] for p in receiver.processed] == sorted(p[2] for p in receiver.processed)
    assert {p[3] for p in receiver.processed} == {sid}

    async def settled() -> list[dict[str, Any]] | None:  # the outcome is stored after the 2xx
        found = await _deliveries(world, webhook_subscription_id=sid)
        return found if len(found) == 5 and all(d["was_successful"] for d in found) else None

    listed = await world.wait_for(settled, what="5 deliveries recorded")
    assert all(d["was_successful"] and d["requests_made_count"] == 1 for d in listed)
    assert {d["response_status_code"] for d in listed} == {204}
    # the entity's view, as Monite's client asks for it
    r = await world.client.get(
        "/v1/webhook_deliveries",
        headers=world.partner.entity_headers(entity_id),
        params={"event_action": "created"},
    )
    assert len(r.json()["data"]) == 5


async def _done(receiver: Receiver, count: int) -> bool:
    return len({p[1] for p in receiver.processed}) >= count


async def test_retry_after_is_honoured_and_a_refusal_moves_on(world: World, receiver) -> None:
    world.service.state.jobs.context.extras.update(FAST)
    receiver.faults.retry_after = "1"
    receiver.script = [429, 204, 400]
    entity_id = await world.partner.create_entity()
    await _subscribe(world, receiver)
    started = time.time()
    await _counterparts(world, entity_id, 3)
    await world.wait_for(lambda: _done(receiver, 2), what="2 deliveries")
    first, second = receiver.processed[:2]
    assert first[2] < second[2]
    assert first[0] - started >= 1.0  # answered 429 with Retry-After: 1, so not sooner

    async def settled() -> list[dict[str, Any]] | None:
        found = await _deliveries(world)
        return (
            found
            if len(found) == 3 and all(d["was_successful"] is not None for d in found)
            else None
        )

    listed = {d["sequence"]: d for d in await world.wait_for(settled, what="3 deliveries")}
    assert listed[first[2]]["requests_made_count"] == 2  # 429, then 204 after Retry-After
    # the second event was refused with a 400: recorded, not retried, the third went on
    refused = [d for d in listed.values() if d["response_status_code"] == 400]
    assert len(refused) == 1 and refused[0]["was_successful"] is False
    assert refused[0]["requests_made_count"] == 1
    assert receiver.answers.get("429") == 1
    # a manual redelivery of the refused one sends it again and records the attempt
    r = await world.client.post(
        f"/v1/webhook_deliveries/{refused[0]['id']}/redeliver", headers=world.partner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["requests_made_count"] == 2 and r.json()["was_successful"] is True


async def test_a_subscription_failing_too_long_is_disabled_and_resumes_when_enabled(
    world: World, receiver
) -> None:
    world.service.state.jobs.context.extras.update(FAST | {"webhook_disable_after": 0.6})
    receiver.script = [503] * 1000
    entity_id = await world.partner.create_entity()
    sid = await _subscribe(world, receiver)
    await _counterparts(world, entity_id, 2)
    h = world.partner.headers

    async def disabled() -> dict[str, Any] | None:
        r = await world.client.get(f"/v1/webhook_subscriptions/{sid}", headers=h)
        return r.json() if r.json()["status"] == "disabled" else None

    sub = await world.wait_for(disabled, what="the subscription disabled")
    assert "503" in (sub["disabled_reason"] or "") or sub["disabled_reason"]
    r = await world.client.get(
        "/v1/events", headers=h, params={"object_type": "webhook_subscription"}
    )
    [event] = r.json()["data"]
    assert event["action"] == "webhook_subscription.disabled"
    assert event["object"]["id"] == sid and event["entity_id"] is None
    [delivery] = await _deliveries(world, webhook_subscription_id=sid)
    assert delivery["requests_made_count"] >= 2 and delivery["was_successful"] is False
    assert delivery["response_status_code"] == 503
    receiver.script = []
    r = await world.client.post(f"/v1/webhook_subscriptions/{sid}/enable", headers=h)
    assert r.status_code == 200
    await world.wait_for(lambda: _done(receiver, 2), what="both events after enabling")


async def test_every_event_arrives_under_faults_and_a_restarted_runner(
    world: World, receiver
) -> None:
    """The issue's reliability figures at a small size (bench/event_delivery.py: 1,000)."""
    world.service.state.jobs.context.extras.update(FAST)
    receiver.faults = Faults(
        fail_5xx=0.3, fail_429=0.1, fail_timeout=0.1, retry_after="0.05", timeout_sleep=0.4
    )
    entity_id = await world.partner.create_entity()
    await _subscribe(world, receiver)
    await _counterparts(world, entity_id, 10)
    jobs = world.service.state.jobs
    await asyncio.sleep(0.3)
    await jobs.stop()  # a worker killed mid-run: deliveries in flight cancelled, retries lost
    await _counterparts(world, entity_id, 10, start=10)
    await jobs.start()
    expected = await _expected(world)
    assert len(expected) == 20
    await world.wait_for(lambda: _done(receiver, 20), limit=60, what="every event")
    figures = receiver.figures(expected)
    assert figures["missing"] == 0 and figures["unexpected"] == 0, figures
    assert figures["order_kept"], figures
    assert figures["bad_signatures"] == 0
    assert figures["answers"].get("503", 0) > 0 and figures["answers"].get("429", 0) > 0
    # duplicates only where the sender could not know the outcome: a timeout, or the one
    # delivery in flight when the runner stopped
    assert figures["duplicated"] <= receiver.slow + 1, figures


async def test_a_connection_and_its_first_pull_are_events(world: World) -> None:
    entity_id = await world.partner.create_entity()
    connection = await world.connect(entity_id)
    r = await world.client.get(
        "/v1/events", headers=world.partner.entity_headers(entity_id), params={"limit": 250}
    )
    events = r.json()["data"]
    actions = [e["action"] for e in events]
    assert "accounting_connection.status_changed" in actions
    assert "accounting_connection.pull_completed" in actions
    connected = next(e for e in events if e["action"] == "accounting_connection.status_changed")
    assert connected["object"]["id"] == connection["id"]
    # items that matched no product: created by the pull, then linked to their item
    created = [e["object"]["id"] for e in events if e["action"] == "product.created"]
    linked = [e["object"]["id"] for e in events if e["action"] == "product.linked"]
    assert created and set(created) <= set(linked)
    first = {e["object"]["id"]: e["sequence"] for e in reversed(events)}
    for product_id in created:
        made = next(
            e
            for e in events
            if e["action"] == "product.created" and e["object"]["id"] == product_id
        )
        assert made["sequence"] == first[product_id]  # created before it is linked
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)
