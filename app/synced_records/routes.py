"""``/v1/accounting_synced_records``: what crossed the boundary, what failed and why, retries.

Support staff answer "did this invoice reach Xero, and if not, why?" here without logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity, SyncedRecord
from app.listing import Limit, Order, Token
from app.pagination import Cursor, Page, paginate
from app.synced_records import queries, service
from app.synced_records.schemas import (
    BulkPushBody,
    BulkPushOut,
    ListedObjectType,
    ResolveBody,
    SyncedRecordOut,
    SyncStatus,
)

DateFilter = Annotated[str | None, Parameter(description="ISO 8601 date-time")]
#: The push engine's ``run_push(context, record_id, manual=True)``, given to the retry route
#: by the wiring (``app.server``): the engine (``app.sync``) uses this package's queries, so
#: this package does not import it back.
RunPush = Callable[..., Awaitable[None]]


class SyncedRecordController(Controller):
    path = "/v1/accounting_synced_records"
    tags = ["synced records"]

    @get("/", operation_id="get_accounting_synced_records")
    async def list_records(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        object_type: ListedObjectType,
        limit: Limit = 100,
        order: Order = "asc",
        sort: Literal["created_at", "updated_at"] = "created_at",
        pagination_token: Token = None,
        object_id: str | None = None,
        object_id__in: list[str] | None = None,
        sync_status: SyncStatus | None = None,
        created_at__gt: DateFilter = None,
        created_at__lt: DateFilter = None,
        created_at__gte: DateFilter = None,
        created_at__lte: DateFilter = None,
        updated_at__gt: DateFilter = None,
        updated_at__lt: DateFilter = None,
        updated_at__gte: DateFilter = None,
        updated_at__lte: DateFilter = None,
    ) -> Page[SyncedRecordOut]:
        """Synced records of one object type, filtered; cursor-paginated. ``payment_record``
        (Monite's) is accepted and lists nothing: payment records are not synced yet."""
        query: dict[str, Any] = {}  # a token carries its own query
        if not pagination_token:
            query = {
                "object_type": object_type,
                "order": order,
                "sort": sort,
                **service.parse_filters(
                    {
                        "object_id": object_id,
                        "object_id__in": object_id__in,
                        "sync_status": sync_status,
                        "created_at__gt": created_at__gt,
                        "created_at__lt": created_at__lt,
                        "created_at__gte": created_at__gte,
                        "created_at__lte": created_at__lte,
                        "updated_at__gt": updated_at__gt,
                        "updated_at__lt": updated_at__lt,
                        "updated_at__gte": updated_at__gte,
                        "updated_at__lte": updated_at__lte,
                    }
                ),
            }

        def statement(query: dict[str, Any], cursor: Cursor | None) -> Select[Any]:
            seek = None
            if cursor is not None:
                seek = service.seek_bound(cursor.value, cursor.direction, query.get("order", "asc"))
            return queries.list_stmt(entity.id, query["object_type"], query, seek)

        return await paginate(
            db_session,
            state.paginator,
            statement,
            list_name="synced_records",
            scope=entity.id,
            model=SyncedRecord,
            query=query,
            limit=limit,
            token=pagination_token,
            out=service.list_item,
        )

    @get("/{synced_record_id:uuid}", operation_id="get_accounting_synced_records_id")
    async def get_one(
        self, synced_record_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> SyncedRecordOut:
        """One record with its errors and every attempt (what was sent, what came back)."""
        return await service.with_attempts(db_session, entity.id, synced_record_id)

    @patch("/{synced_record_id:uuid}", operation_id="patch_accounting_synced_records_id")
    async def resolve(
        self,
        synced_record_id: uuid.UUID,
        data: ResolveBody,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
    ) -> SyncedRecordOut:
        """Decide a record that waits for a person: link a pulled contact or item to
        ``object_id``; or link a counterpart being pushed to the existing contact
        ``provider_object_id``, or create it (``create_new``). Documents whose push waited for
        it are queued again."""
        record, waiting = await service.resolve(db_session, entity, synced_record_id, data)
        out = service.to_out(record)
        await db_session.commit()
        jobs = state.get("jobs")
        if jobs is not None:
            for record_id in waiting:
                await jobs.enqueue("push_synced_record", synced_record_id=str(record_id))
        return out

    @post(
        "/{synced_record_id:uuid}/push",
        operation_id="post_accounting_synced_records_id_push",
        status_code=200,
    )
    async def push(
        self,
        synced_record_id: uuid.UUID,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        run_push: RunPush,
    ) -> SyncedRecordOut:
        """Retry now: re-validate and re-push; answers with the record after the attempt."""
        entity_id = entity.id
        await service.prepare_retry(db_session, entity_id, synced_record_id)
        await db_session.commit()
        await run_push(state.jobs.context, synced_record_id, manual=True)
        db_session.expire_all()
        return await service.with_attempts(db_session, entity_id, synced_record_id)

    @post("/push", operation_id="post_accounting_synced_records_push", status_code=202)
    async def bulk_push(
        self, data: BulkPushBody, db_session: AsyncSession, entity: Entity, state: State
    ) -> Response[BulkPushOut]:
        """Queue a retry of up to ``limit`` records in ``error`` (e.g. after a fix)."""
        ids = await service.queue_bulk(db_session, entity.id, data.object_type, data.limit)
        await db_session.commit()
        jobs = state.get("jobs")
        if jobs is not None:
            for record_id in ids:
                await jobs.enqueue("push_synced_record", synced_record_id=str(record_id))
        return Response(BulkPushOut(queued=len(ids)), status_code=202)
