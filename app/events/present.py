"""The API shapes of events, subscriptions and deliveries, from their rows."""

from __future__ import annotations

from app.db.models import Event, WebhookDelivery, WebhookSubscription
from app.events.schemas import (
    EventOut,
    WebhookDeliveryOut,
    WebhookSubscriptionOut,
    WebhookSubscriptionWithSecretOut,
)


def event_out(e: Event) -> EventOut:
    return EventOut(
        id=e.id,
        sequence=e.sequence,
        created_at=e.created_at,
        action=e.action,
        description=e.description,
        entity_id=e.entity_id,
        object_type=e.object_type,
        object=e.object,
    )


def subscription_out(s: WebhookSubscription) -> WebhookSubscriptionOut:
    return WebhookSubscriptionOut(
        id=s.id,
        object_type=s.object_type,
        event_types=list(s.event_types or []),
        status=s.status,  # type: ignore[arg-type]
        url=s.url,
        created_at=s.created_at,
        updated_at=s.updated_at,
        cursor=s.cursor,
        failing_since=s.failing_since,
        next_attempt_at=s.next_attempt_at,
        disabled_reason=s.disabled_reason,
    )


def with_secret(s: WebhookSubscription, secret: str) -> WebhookSubscriptionWithSecretOut:
    out = subscription_out(s)
    return WebhookSubscriptionWithSecretOut(
        **{f: getattr(out, f) for f in out.__struct_fields__}, secret=secret
    )


def delivery_out(d: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=d.id,
        event_id=d.event_id,
        requests_made_count=d.requests_made_count,
        url=d.url,
        response=d.response,
        response_status_code=d.response_status_code,
        was_successful=d.was_successful,
        webhook_subscription_id=d.subscription_id,
        event_action=d.action,
        sequence=d.sequence,
        created_at=d.created_at,
        updated_at=d.updated_at,
        last_attempt_at=d.last_attempt_at,
    )
