"""Events and webhook subscriptions: the use cases behind the routes."""

from __future__ import annotations

import base64
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.crypto import SecretBox
from app.db.models import Event, WebhookDelivery, WebhookSubscription
from app.errors import NotFound, Unprocessable
from app.events import delivery, queries, urls
from app.events.present import delivery_out, event_out, subscription_out, with_secret
from app.events.schemas import WebhookSubscriptionCreate, WebhookSubscriptionUpdate

__all__ = ["delivery_out", "event_out", "subscription_out", "with_secret"]


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def _checked_url(url: str, settings: Settings) -> str:
    try:
        await urls.check(url, settings)
    except urls.UnsafeUrl as exc:
        raise Unprocessable.field(["body", "url"], str(exc)) from None
    return url


async def get_event(session: AsyncSession, partner_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    """Raises: NotFound: no such event of the partner."""
    found = await queries.event(session, partner_id, event_id)
    if found is None:
        raise NotFound(f"Event {event_id} was not found")
    return found


async def get_subscription(
    session: AsyncSession, partner_id: uuid.UUID, subscription_id: uuid.UUID
) -> WebhookSubscription:
    """Raises: NotFound: no such subscription of the partner."""
    found = await queries.subscription(session, subscription_id, partner_id)
    if found is None:
        raise NotFound(f"Webhook subscription {subscription_id} was not found")
    return found


async def create_subscription(
    session: AsyncSession,
    partner_id: uuid.UUID,
    data: WebhookSubscriptionCreate,
    settings: Settings,
    box: SecretBox,
) -> tuple[WebhookSubscription, str]:
    """A new enabled subscription and its secret (returned once, stored encrypted). It gets
    the events written after it was created.

    Raises:
        Unprocessable: the URL may not receive webhooks (``app.events.urls``).
    """
    url = await _checked_url(data.url, settings)
    secret = new_secret()
    sub = WebhookSubscription(
        partner_id=partner_id,
        object_type=data.object_type,
        event_types=list(data.event_types or []),
        url=url,
        status="enabled",
        secret_encrypted=box.encrypt(secret),
        cursor=await queries.last_sequence(session, partner_id),
        failures=0,
    )
    session.add(sub)
    await session.flush()
    return sub, secret


async def update_subscription(
    session: AsyncSession,
    partner_id: uuid.UUID,
    subscription_id: uuid.UUID,
    data: WebhookSubscriptionUpdate,
    settings: Settings,
) -> WebhookSubscription:
    """Change the URL, object type or event types (fields left out or null stay).

    Raises:
        NotFound: no such subscription. Unprocessable: the URL may not receive webhooks.
    """
    sub = await get_subscription(session, partner_id, subscription_id)
    if data.url is not None:
        sub.url = await _checked_url(data.url, settings)
    if data.object_type is not None:
        sub.object_type = data.object_type
    if data.event_types is not None:
        sub.event_types = list(data.event_types)
    await session.flush()
    return sub


async def set_status(
    session: AsyncSession, partner_id: uuid.UUID, subscription_id: uuid.UUID, enabled: bool
) -> WebhookSubscription:
    """Enable (deliveries resume from the cursor: nothing written meanwhile is skipped, the
    failure count starts over) or disable a subscription.

    Raises:
        NotFound: no such subscription.
    """
    sub = await get_subscription(session, partner_id, subscription_id)
    if enabled and sub.status != "enabled":
        sub.status = "enabled"
        sub.failures, sub.failing_since, sub.next_attempt_at = 0, None, None
        sub.disabled_reason = None
    elif not enabled:
        sub.status = "disabled"
        sub.next_attempt_at = None
    await session.flush()
    return sub


async def regenerate_secret(
    session: AsyncSession, partner_id: uuid.UUID, subscription_id: uuid.UUID, box: SecretBox
) -> tuple[WebhookSubscription, str]:
    """A new signing secret (the old one stops at once). Raises: NotFound."""
    sub = await get_subscription(session, partner_id, subscription_id)
    secret = new_secret()
    sub.secret_encrypted = box.encrypt(secret)
    await session.flush()
    return sub, secret


async def delete_subscription(
    session: AsyncSession, partner_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    """Delete a subscription and its delivery history. Raises: NotFound."""
    await session.delete(await get_subscription(session, partner_id, subscription_id))
    await session.flush()


async def redeliver(
    session: AsyncSession,
    partner_id: uuid.UUID,
    delivery_id: uuid.UUID,
    settings: Settings,
    box: SecretBox,
) -> WebhookDelivery:
    """Send a delivery's event again now, to its subscription's current URL, whatever its
    status, and record the attempt (the subscription's cursor and retries are left alone).

    Raises:
        NotFound: no such delivery of the partner.
    """
    found = await queries.delivery(session, partner_id, delivery_id)
    if found is None:
        raise NotFound(f"Webhook delivery {delivery_id} was not found")
    sub = await get_subscription(session, partner_id, found.subscription_id)
    event = await get_event(session, partner_id, found.event_id)
    body = delivery.webhook_body(event, sub.id)
    secret = box.decrypt(sub.secret_encrypted)
    outcome = await delivery.send(sub.url, secret, event.id, body, delivery.Policy(), settings)
    return await delivery.note_attempt(session, sub, event, outcome)
