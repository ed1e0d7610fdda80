"""Shapes of events, webhook subscriptions and deliveries (Monite's ``EventResource``,
``WebhookSubscriptionResource(WithSecret)``, ``WebhookDeliveryResource``), plus our
``sequence`` where an order matters."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

#: Monite's ``WebhookObjectType``, plus ours: ``accounting_synced_record`` (Monite has no
#: webhook object for synced records) and ``webhook_subscription`` (its own disabling).
MONITE_OBJECT_TYPES = (
    "account", "accounting_connection", "approval", "approval_request", "approval_policy",
    "approval_policy_process", "batch_payment", "comment", "counterpart", "counterpart_address",
    "counterpart_bank_account", "counterpart_contact_person", "counterpart_partner_metadata",
    "counterpart_tax_id", "entity", "entity_bank_account", "entity_settings", "entity_user",
    "export", "overdue_reminder", "partner_settings", "payable", "payables_credit_note",
    "payables_purchase_order", "payable.line_item", "payment", "payment_intent", "payment_link",
    "payment_reminder", "product", "project", "receivable", "recurrence", "role", "tag",
    "todo_task", "workflow", "workflow_pipeline", "ocr_task", "delivery_note", "receipt",
    "transaction",
)  # fmt: skip
OUR_OBJECT_TYPES = ("accounting_synced_record", "webhook_subscription")
OBJECT_TYPES = MONITE_OBJECT_TYPES + OUR_OBJECT_TYPES

#: The events this service writes, by object type (``{object_type}.{event_type}``).
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "accounting_connection": ("status_changed", "errors_changed", "pull_completed"),
    "accounting_synced_record": ("done", "error", "waiting_for_person"),
    "counterpart": ("created", "linked"),
    "product": ("created", "linked"),
    "payable": ("status_changed",),
    "receivable": ("status_changed",),
    "webhook_subscription": ("disabled",),
}

ObjectType = Literal[OBJECT_TYPES]  # type: ignore[valid-type]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2083)]
EventTypes = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=80)]], msgspec.Meta(max_length=50)
]


class EventOut(msgspec.Struct):
    """An event (Monite's ``EventResource``); ``sequence`` orders a partner's events.
    ``entity_id`` is null for partner-wide events (a subscription disabled)."""

    id: uuid.UUID
    sequence: int
    created_at: dt.datetime
    action: str
    description: str
    entity_id: uuid.UUID | None
    object_type: str
    object: Any
    api_version: str | None = None


class WebhookEventOut(EventOut):
    """An event as a webhook delivers it (Monite's ``EventResourceForWebhookClient``)."""

    webhook_subscription_id: uuid.UUID | None = None


class WebhookSubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Monite's ``CreateWebhookSubscriptionRequest``: an empty ``event_types`` is every event
    of the object type; each is ``status_changed`` or ``payable.status_changed``."""

    object_type: ObjectType
    url: Url
    event_types: EventTypes | None = None


class WebhookSubscriptionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Monite's ``UpdateWebhookSubscriptionRequest`` (every field optional)."""

    object_type: ObjectType | None = None
    url: Url | None = None
    event_types: EventTypes | None = None


class WebhookSubscriptionOut(msgspec.Struct):
    """Monite's ``WebhookSubscriptionResource``, plus the delivery state: ``cursor`` (the
    sequence of the last event dealt with), ``failing_since`` and ``next_attempt_at`` while the
    endpoint fails, ``disabled_reason`` when we disabled it."""

    id: uuid.UUID
    object_type: str
    event_types: list[str]
    status: Literal["enabled", "disabled"]
    url: str
    created_at: dt.datetime
    updated_at: dt.datetime
    cursor: int
    failing_since: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    disabled_reason: str | None = None


class WebhookSubscriptionWithSecretOut(WebhookSubscriptionOut):
    """The subscription with its signing secret (``whsec_...``): only on create and on
    regenerate, never stored in the clear."""

    secret: str = ""


class WebhookDeliveryOut(msgspec.Struct):
    """Monite's ``WebhookDeliveryResource`` (one event to one subscription: how many requests,
    what the last one got), plus where and when."""

    id: uuid.UUID
    event_id: uuid.UUID
    requests_made_count: int
    url: str
    response: str | None
    response_status_code: int | None
    was_successful: bool | None
    webhook_subscription_id: uuid.UUID
    event_action: str
    sequence: int
    created_at: dt.datetime
    updated_at: dt.datetime
    last_attempt_at: dt.datetime | None = None
