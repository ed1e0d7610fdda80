"""``/v1/events``, ``/v1/webhook_subscriptions``, ``/v1/webhook_deliveries`` (Monite's shapes).

Events and deliveries belong to an entity in Monite (``x-monite-entity-id``); here the header
is optional: without it a partner reads all its events, partner-wide ones included (a
subscription disabled). Subscriptions are the partner's, as in Monite.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import HeaderParameter, Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.db.models import Entity, Event, WebhookDelivery, WebhookSubscription
from app.errors import NotFound, Unprocessable
from app.events import notify, queries, service
from app.events.schemas import (
    EventOut,
    ObjectType,
    WebhookDeliveryOut,
    WebhookSubscriptionCreate,
    WebhookSubscriptionOut,
    WebhookSubscriptionUpdate,
    WebhookSubscriptionWithSecretOut,
)
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate

ENTITY_HEADER = "x-monite-entity-id"
Created = Annotated[dt.datetime | None, Parameter(description="ISO 8601 date-time")]
EntityHeader = Annotated[
    str | None,
    HeaderParameter(
        name=ENTITY_HEADER, description="Only this entity's (all the partner's without it)"
    ),
]


async def provide_entity_scope(
    db_session: AsyncSession, principal: Principal, entity_header: EntityHeader = None
) -> uuid.UUID | None:
    """The entity named by the optional header, if it is the partner's (None without it).

    Raises:
        Unprocessable: not a UUID. NotFound: not an entity of the partner.
    """
    if not entity_header:
        return None
    try:
        entity_id = uuid.UUID(entity_header)
    except ValueError:
        raise Unprocessable.field(["header", ENTITY_HEADER], "must be a UUID") from None
    found = await db_session.scalar(
        select(Entity.id).where(Entity.id == entity_id, Entity.partner_id == principal.partner_id)
    )
    if found is None:
        raise NotFound(f"Entity {entity_id} was not found")
    return entity_id


def provide_created_bounds(
    created_at__gt: Created = None,
    created_at__lt: Created = None,
    created_at__gte: Created = None,
    created_at__lte: Created = None,
) -> dict[str, str]:
    """The ``created_at__gt/lt/gte/lte`` filters given, as a token keeps them (ISO 8601)."""
    given = {
        "created_at__gt": created_at__gt,
        "created_at__lt": created_at__lt,
        "created_at__gte": created_at__gte,
        "created_at__lte": created_at__lte,
    }
    return {k: v.isoformat() for k, v in given.items() if v is not None}


#: The list routes' shared query and header parameters, each read by a dependency:
#: ``created_bounds`` (the ``created_at__*`` filters) and ``entity_scope`` (the optional
#: ``x-monite-entity-id``).
LIST_DEPENDENCIES = {
    "created_bounds": Provide(provide_created_bounds, sync_to_thread=False),
    "entity_scope": Provide(provide_entity_scope),
}


class EventController(Controller):
    path = "/v1/events"
    tags = ["events"]
    dependencies = LIST_DEPENDENCIES

    @get("/", operation_id="get_events")
    async def list_events(
        self,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
        entity_scope: uuid.UUID | None,
        created_bounds: dict[str, str],
        limit: Limit = 100,
        order: Order = "asc",
        sort: Literal["created_at", "updated_at"] | None = None,
        pagination_token: Token = None,
        object_type: ObjectType | None = None,
        after: Annotated[
            int | None,
            Parameter(ge=0, description="Only events with a higher sequence (resume a feed)"),
        ] = None,
    ) -> Page[EventOut]:
        """The partner's events, by ``sequence`` unless ``sort`` says otherwise. To follow the
        feed, pass the last sequence seen as ``after``: events commit in sequence order."""
        query = {
            "order": order,
            "sort": sort or "sequence",
            "object_type": object_type,
            "after": after,
            **created_bounds,
        }
        return await paginate(
            db_session,
            state.paginator,
            lambda q, _c: queries.events_stmt(principal.partner_id, entity_scope, q),
            list_name="events",
            scope=f"{principal.partner_id}:{entity_scope or '*'}",
            model=Event,
            query=query,
            limit=limit,
            token=pagination_token,
            out=service.event_out,
        )

    @get("/{event_id:uuid}", operation_id="get_events_id")
    async def get_event(
        self, event_id: uuid.UUID, db_session: AsyncSession, principal: Principal
    ) -> EventOut:
        """One event of the partner."""
        return service.event_out(
            await service.get_event(db_session, principal.partner_id, event_id)
        )


class WebhookSubscriptionController(Controller):
    path = "/v1/webhook_subscriptions"
    tags = ["webhook subscriptions"]
    dependencies = LIST_DEPENDENCIES

    @post("/", operation_id="post_webhook_subscriptions")
    async def create(
        self,
        data: WebhookSubscriptionCreate,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
    ) -> WebhookSubscriptionWithSecretOut:
        """Subscribe a URL to an object type's events (all of them, or ``event_types``). The
        response carries the signing secret, the only time it is shown."""
        sub, secret = await service.create_subscription(
            db_session, principal.partner_id, data, state.settings, state.secret_box
        )
        return service.with_secret(sub, secret)

    @get("/", operation_id="get_webhook_subscriptions")
    async def list_subscriptions(
        self,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
        created_bounds: dict[str, str],
        limit: Limit = 100,
        order: Order = "asc",
        sort: Literal["created_at", "updated_at"] = "created_at",
        pagination_token: Token = None,
        object_type: ObjectType | None = None,
    ) -> Page[WebhookSubscriptionOut]:
        """The partner's subscriptions (never their secrets)."""
        query = {"order": order, "sort": sort, "object_type": object_type, **created_bounds}
        return await paginate(
            db_session,
            state.paginator,
            lambda q, _c: queries.subscriptions_stmt(principal.partner_id, q),
            list_name="webhook_subscriptions",
            scope=principal.partner_id,
            model=WebhookSubscription,
            query=query,
            limit=limit,
            token=pagination_token,
            out=service.subscription_out,
        )

    @get("/{subscription_id:uuid}", operation_id="get_webhook_subscriptions_id")
    async def get_one(
        self, subscription_id: uuid.UUID, db_session: AsyncSession, principal: Principal
    ) -> WebhookSubscriptionOut:
        """One subscription (without its secret)."""
        sub = await service.get_subscription(db_session, principal.partner_id, subscription_id)
        return service.subscription_out(sub)

    @patch("/{subscription_id:uuid}", operation_id="patch_webhook_subscriptions_id")
    async def update(
        self,
        subscription_id: uuid.UUID,
        data: WebhookSubscriptionUpdate,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
    ) -> WebhookSubscriptionOut:
        """Change the URL, object type or event types."""
        sub = await service.update_subscription(
            db_session, principal.partner_id, subscription_id, data, state.settings
        )
        return service.subscription_out(sub)

    @delete("/{subscription_id:uuid}", operation_id="delete_webhook_subscriptions_id")
    async def remove(
        self, subscription_id: uuid.UUID, db_session: AsyncSession, principal: Principal
    ) -> None:
        """Delete a subscription (its delivery history goes with it)."""
        await service.delete_subscription(db_session, principal.partner_id, subscription_id)

    @post(
        "/{subscription_id:uuid}/enable",
        operation_id="post_webhook_subscriptions_id_enable",
        status_code=200,
    )
    async def enable(
        self, subscription_id: uuid.UUID, db_session: AsyncSession, principal: Principal
    ) -> WebhookSubscriptionOut:
        """Enable: deliveries resume where they stopped (nothing written meanwhile is lost)."""
        sub = await service.set_status(db_session, principal.partner_id, subscription_id, True)
        out = service.subscription_out(sub)
        await db_session.commit()
        notify.publish({principal.partner_id})  # deliver what waited while it was disabled
        return out

    @post(
        "/{subscription_id:uuid}/disable",
        operation_id="post_webhook_subscriptions_id_disable",
        status_code=200,
    )
    async def disable(
        self, subscription_id: uuid.UUID, db_session: AsyncSession, principal: Principal
    ) -> WebhookSubscriptionOut:
        """Disable: nothing is sent until it is enabled again."""
        sub = await service.set_status(db_session, principal.partner_id, subscription_id, False)
        return service.subscription_out(sub)

    @post(
        "/{subscription_id:uuid}/regenerate_secret",
        operation_id="post_webhook_subscriptions_id_regenerate_secret",
        status_code=200,
    )
    async def regenerate_secret(
        self,
        subscription_id: uuid.UUID,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
    ) -> WebhookSubscriptionWithSecretOut:
        """A new signing secret, shown this once; the old one stops at once."""
        sub, secret = await service.regenerate_secret(
            db_session, principal.partner_id, subscription_id, state.secret_box
        )
        return service.with_secret(sub, secret)


class WebhookDeliveryController(Controller):
    path = "/v1/webhook_deliveries"
    tags = ["webhook subscriptions"]
    dependencies = LIST_DEPENDENCIES

    @get("/", operation_id="get_webhook_deliveries")
    async def list_deliveries(
        self,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
        entity_scope: uuid.UUID | None,
        created_bounds: dict[str, str],
        limit: Limit = 100,
        order: Order = "asc",
        sort: Literal["created_at", "updated_at"] = "created_at",
        pagination_token: Token = None,
        event_id: uuid.UUID | None = None,
        object_type: ObjectType | None = None,
        event_action: str | None = None,
        webhook_subscription_id: uuid.UUID | None = None,
    ) -> Page[WebhookDeliveryOut]:
        """Every delivery: its event, how many requests were made, the last status code and
        response excerpt, and whether it succeeded."""
        query = {
            "order": order,
            "sort": sort,
            "event_id": str(event_id) if event_id else None,
            "object_type": object_type,
            "event_action": event_action,
            "subscription_id": str(webhook_subscription_id) if webhook_subscription_id else None,
            **created_bounds,
        }
        return await paginate(
            db_session,
            state.paginator,
            lambda q, _c: queries.deliveries_stmt(principal.partner_id, entity_scope, q),
            list_name="webhook_deliveries",
            scope=f"{principal.partner_id}:{entity_scope or '*'}",
            model=WebhookDelivery,
            query=query,
            limit=limit,
            token=pagination_token,
            out=service.delivery_out,
        )

    @post(
        "/{delivery_id:uuid}/redeliver",
        operation_id="post_webhook_deliveries_id_redeliver",
        status_code=200,
    )
    async def redeliver(
        self,
        delivery_id: uuid.UUID,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
    ) -> WebhookDeliveryOut:
        """Send the delivery's event again now (a manual retry) and answer with the attempt."""
        found = await service.redeliver(
            db_session, principal.partner_id, delivery_id, state.settings, state.secret_box
        )
        await db_session.flush()
        return service.delivery_out(found)
