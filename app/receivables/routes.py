"""``/v1/receivables``: invoices and their lifecycle actions (Monite's paths)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app import documents
from app.db.models import Entity, Receivable
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate
from app.receivables import queries, service
from app.receivables.schemas import (
    PartiallyPaid,
    ReceivableCreate,
    ReceivableOut,
    ReceivableStatus,
    ReceivableUpdate,
)

ITEM = "/{receivable_id:uuid}"


class ReceivableController(Controller):
    path = "/v1/receivables"
    tags = ["receivables"]

    @post("/", operation_id="post_receivables")
    async def create(
        self, data: ReceivableCreate, db_session: AsyncSession, entity: Entity
    ) -> ReceivableOut:
        """Create a draft invoice; unit prices come from the products."""
        return await service.present_one(
            db_session, entity, await service.create(db_session, entity.id, data)
        )

    @get("/", operation_id="get_receivables")
    async def list_receivables(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
        status: ReceivableStatus | None = None,
        status__in: list[ReceivableStatus] | None = None,
        counterpart_id: uuid.UUID | None = None,
    ) -> Page[ReceivableOut]:
        """The entity's invoices, filtered by status or counterpart, oldest first by default."""
        page = await paginate(
            db_session,
            state.paginator,
            documents.list_statement(queries.list_stmt, entity.id),
            list_name="receivables",
            scope=entity.id,
            model=Receivable,
            query=documents.list_query(order, status, status__in, counterpart_id),
            limit=limit,
            token=pagination_token,
        )
        return Page(
            await service.present(db_session, entity, page.data),
            page.next_pagination_token,
            page.prev_pagination_token,
        )

    @get(ITEM, operation_id="get_receivables_id")
    async def get_one(
        self, receivable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ReceivableOut:
        """One invoice, with its lines."""
        return await service.present_one(
            db_session, entity, await service.get(db_session, entity.id, receivable_id)
        )

    @patch(ITEM, operation_id="patch_receivables_id")
    async def update(
        self,
        receivable_id: uuid.UUID,
        data: ReceivableUpdate,
        db_session: AsyncSession,
        entity: Entity,
    ) -> ReceivableOut:
        """Change a draft invoice (``line_items`` replaces all lines); 409 once issued."""
        r = await service.update(db_session, entity.id, receivable_id, data)
        return await service.present_one(db_session, entity, r)

    # --- lifecycle (Monite's invoice actions) -------------------------------------------

    @post(ITEM + "/issue", operation_id="post_receivables_id_issue", status_code=200)
    async def issue(
        self, receivable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ReceivableOut:
        """``draft`` -> ``issued``; needs a counterpart and at least one line."""
        r = await service.transition(db_session, entity, receivable_id, "issue")
        return await service.present_one(db_session, entity, r)

    @post(ITEM + "/cancel", operation_id="post_receivables_id_cancel", status_code=200)
    async def cancel(
        self, receivable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ReceivableOut:
        """``issued`` -> ``canceled``."""
        r = await service.transition(db_session, entity, receivable_id, "cancel")
        return await service.present_one(db_session, entity, r)

    @post(
        ITEM + "/mark_as_partially_paid",
        operation_id="post_receivables_id_mark_as_partially_paid",
        status_code=200,
    )
    async def mark_as_partially_paid(
        self,
        receivable_id: uuid.UUID,
        data: PartiallyPaid,
        db_session: AsyncSession,
        entity: Entity,
    ) -> ReceivableOut:
        """``issued``/``overdue``/``partially_paid`` -> ``partially_paid``; ``amount_paid``
        (minor units) is added to what was paid so far and must leave something due."""
        r = await service.transition(
            db_session, entity, receivable_id, "mark_as_partially_paid", data.amount_paid
        )
        return await service.present_one(db_session, entity, r)

    @post(ITEM + "/mark_as_paid", operation_id="post_receivables_id_mark_as_paid", status_code=200)
    async def mark_as_paid(
        self, receivable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ReceivableOut:
        """``issued``/``overdue``/``partially_paid`` -> ``paid``; ``amount_due`` becomes 0."""
        r = await service.transition(db_session, entity, receivable_id, "mark_as_paid")
        return await service.present_one(db_session, entity, r)

    @post(
        ITEM + "/mark_as_uncollectible",
        operation_id="post_receivables_id_mark_as_uncollectible",
        status_code=200,
    )
    async def mark_as_uncollectible(
        self, receivable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ReceivableOut:
        """``issued``/``overdue``/``partially_paid`` -> ``uncollectible``."""
        r = await service.transition(db_session, entity, receivable_id, "mark_as_uncollectible")
        return await service.present_one(db_session, entity, r)
