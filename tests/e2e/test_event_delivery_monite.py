"""Events and webhooks through Monite's official client (``monite`` 0.5.4): subscribe, read
and change the subscription, receive a delivery, list events and deliveries; every call
succeeds and parses into the client's own models (issue 18)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from monite import AsyncMonite
from monite.types import (
    CounterpartAddress,
    CounterpartCreatePayload_Organization,
    CounterpartOrganizationCreatePayload,
    EventResource,
    WebhookDeliveryResource,
    WebhookSubscriptionResource,
    WebhookSubscriptionResourceWithSecret,
)

from bench.event_receiver import Receiver
from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def test_the_official_client_subscribes_and_reads_events_and_deliveries(
    world: World, receiver: Receiver
) -> None:
    world.service.state.jobs.context.extras.update({"webhook_retry_base": 0.05})
    entity_id = await world.partner.create_entity()
    monite = AsyncMonite(
        base_url="http://service.test/v1",
        token=world.partner.token,
        monite_version="2024-05-25",
        monite_entity_id=entity_id,
        httpx_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=world.service)),
    )
    created = await monite.webhook_subscriptions.create(
        object_type="counterpart", url=receiver.url, event_types=["created"]
    )
    assert isinstance(created, WebhookSubscriptionResourceWithSecret)
    assert created.secret.startswith("whsec_") and created.status == "enabled"
    receiver.secret = created.secret
    page = await monite.webhook_subscriptions.get()
    assert [s.id for s in page.data] == [created.id]
    one = await monite.webhook_subscriptions.get_by_id(created.id)
    assert isinstance(one, WebhookSubscriptionResource) and one.url == receiver.url
    changed = await monite.webhook_subscriptions.update_by_id(
        created.id, event_types=["created", "linked"]
    )
    assert list(changed.event_types) == ["created", "linked"]
    assert (await monite.webhook_subscriptions.disable_by_id(created.id)).status == "disabled"
    assert (await monite.webhook_subscriptions.enable_by_id(created.id)).status == "enabled"
    again = await monite.webhook_subscriptions.regenerate_secret_by_id(created.id)
    assert again.secret != created.secret
    receiver.secret = again.secret

    counterpart = await monite.counterparts.create(
        request=CounterpartCreatePayload_Organization(
            organization=CounterpartOrganizationCreatePayload(
                legal_name="Client Supplies Ltd",
                is_customer=False,
                is_vendor=True,
                address=CounterpartAddress(
                    country="GB", city="Leeds", postal_code="LS1 4AP", line1="2 Park Row"
                ),
            )
        )
    )

    async def delivered() -> list[WebhookDeliveryResource] | None:
        found = (await monite.webhook_deliveries.get()).data
        return list(found) if found and found[0].was_successful else None

    [delivery] = await world.wait_for(delivered, what="the delivery")
    assert delivery.requests_made_count == 1 and delivery.response_status_code == 204
    assert receiver.bad_signatures == 0 and len(receiver.processed) == 1

    events = (await monite.events.get(object_type="counterpart")).data
    assert [e.action for e in events] == ["counterpart.created"]
    event = await monite.events.get_by_id(events[0].id)
    assert isinstance(event, EventResource) and event.entity_id == entity_id
    assert event.object["id"] == counterpart.id and delivery.event_id == event.id
    await monite.webhook_subscriptions.delete_by_id(created.id)
    assert (await monite.webhook_subscriptions.get()).data == []
