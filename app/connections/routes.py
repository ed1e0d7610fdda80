"""``/v1/accounting_connections``."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.connections import queries, service
from app.connections.schemas import ConnectionCreate, ConnectionOut, Message, SyncStatusOut
from app.db.models import AccountingConnection, Entity
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate


class ConnectionController(Controller):
    path = "/v1/accounting_connections"
    tags = ["accounting connections"]

    @post("/", operation_id="post_accounting_connections")
    async def connect(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        data: ConnectionCreate | None = None,
    ) -> ConnectionOut:
        """Connect the entity to an accounting system; answer ``pending_auth`` with the URL
        where the user authorises it."""
        platform = data.platform if data is not None else None
        return service.to_out(await service.connect(db_session, state.providers, entity, platform))

    @get("/", operation_id="get_accounting_connections")
    async def list_connections(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
    ) -> Page[ConnectionOut]:
        """The entity's connections, including disconnected ones."""
        return await paginate(
            db_session,
            state.paginator,
            queries.list_stmt(entity.id),
            list_name="accounting_connections",
            scope=entity.id,
            model=AccountingConnection,
            query={"order": order},
            limit=limit,
            token=pagination_token,
            out=service.to_out,
        )

    @get("/{connection_id:uuid}", operation_id="get_accounting_connections_id")
    async def get_one(
        self, connection_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ConnectionOut:
        """One connection."""
        return service.to_out(await service.get(db_session, entity.id, connection_id))

    @get(
        "/{connection_id:uuid}/sync_status",
        operation_id="get_accounting_connections_id_sync_status",
    )
    async def sync_status(
        self, connection_id: uuid.UUID, db_session: AsyncSession, entity: Entity, state: State
    ) -> SyncStatusOut:
        """Health at a glance: per data type the last attempt, last success, records read and
        changed by it, and the current error; the connection's current problems; whether its
        last complete pull is too old (``stale``)."""
        return await service.sync_status(
            db_session, entity.id, connection_id, state.settings.pull_interval_seconds
        )

    @post(
        "/{connection_id:uuid}/disconnect",
        operation_id="post_accounting_connections_id_disconnect",
        status_code=200,
    )
    async def disconnect(
        self, connection_id: uuid.UUID, db_session: AsyncSession, entity: Entity, state: State
    ) -> ConnectionOut:
        """Unlink at the provider and stop pulling."""
        c = await service.disconnect(db_session, state.providers, entity, connection_id)
        jobs = state.get("jobs")
        if jobs is not None and jobs.running:
            await jobs.remove_pull_schedule(c.id)
        return service.to_out(c)

    @post(
        "/{connection_id:uuid}/sync",
        operation_id="post_accounting_connections_id_sync",
        status_code=202,
    )
    async def sync(
        self, connection_id: uuid.UUID, db_session: AsyncSession, entity: Entity, state: State
    ) -> Response[Any]:
        """Queue a pull of everything now.

        Limited per connection per UTC day (``ACCTSYNC_MANUAL_SYNC_DAILY_LIMIT``): every
        answer carries ``X-Sync-Quota-Limit`` and ``X-Sync-Quota-Remaining``; past the limit,
        429 with ``Retry-After`` (seconds until the quota resets at midnight UTC).
        """
        quota = await service.take_manual_sync(
            db_session, entity.id, connection_id, state.settings.manual_sync_daily_limit
        )
        headers = {
            "X-Sync-Quota-Limit": str(quota.limit),
            "X-Sync-Quota-Remaining": str(quota.remaining),
        }
        if not quota.allowed:
            return Response(
                {
                    "error": {
                        "message": f"The daily limit of {quota.limit} manual syncs of this "
                        "connection is reached; it resets at midnight UTC (scheduled pulls "
                        "continue)"
                    }
                },
                status_code=429,
                headers={**headers, "Retry-After": str(quota.retry_after)},
            )
        await db_session.commit()
        jobs = state.get("jobs")
        if jobs is not None:
            await jobs.enqueue("pull_connection", connection_id=str(connection_id))
        return Response(Message(message="Sync queued"), status_code=202, headers=headers)
