"""``/v1/payables``: bills, their line items and lifecycle actions (Monite's paths)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app import documents
from app.db.models import Entity, Payable
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate
from app.payables import queries, service
from app.payables.schemas import (
    LineItemCreate,
    LineItemList,
    LineItemOut,
    LineItemUpdate,
    PartiallyPaid,
    PayableCreate,
    PayableOut,
    PayableStatus,
    PayableUpdate,
)

ITEM = "/{payable_id:uuid}"
LINE = ITEM + "/line_items/{line_item_id:uuid}"


class PayableController(Controller):
    path = "/v1/payables"
    tags = ["payables"]

    @post("/", operation_id="post_payables")
    async def create(
        self, data: PayableCreate, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """Create a payable (status ``draft``) with optional line items."""
        return service.to_out(await service.create(db_session, entity.id, data))

    @get("/", operation_id="get_payables")
    async def list_payables(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
        status: PayableStatus | None = None,
        status__in: list[PayableStatus] | None = None,
        counterpart_id: uuid.UUID | None = None,
    ) -> Page[PayableOut]:
        """The entity's payables, filtered by status or counterpart, oldest first by default."""
        return await paginate(
            db_session,
            state.paginator,
            documents.list_statement(queries.list_stmt, entity.id),
            list_name="payables",
            scope=entity.id,
            model=Payable,
            query=documents.list_query(order, status, status__in, counterpart_id),
            limit=limit,
            token=pagination_token,
            out=service.to_out,
        )

    @get(ITEM, operation_id="get_payables_id")
    async def get_one(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """One payable, with its line items."""
        return service.to_out(await service.get(db_session, entity.id, payable_id))

    @patch(ITEM, operation_id="patch_payables_id")
    async def update(
        self, payable_id: uuid.UUID, data: PayableUpdate, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """Change a ``draft`` or ``new`` payable (409 in any other status)."""
        return service.to_out(await service.update(db_session, entity.id, payable_id, data))

    # --- line items ---------------------------------------------------------------------

    @post(ITEM + "/line_items", operation_id="post_payables_id_line_items")
    async def add_line(
        self, payable_id: uuid.UUID, data: LineItemCreate, db_session: AsyncSession, entity: Entity
    ) -> LineItemOut:
        """Add a line item; the payable's totals are recomputed."""
        line = await service.add_line(db_session, entity.id, payable_id, data)
        return service.line_to_out(line)

    @get(ITEM + "/line_items", operation_id="get_payables_id_line_items")
    async def list_lines(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> LineItemList:
        """All line items of a payable, in order."""
        p = await service.get(db_session, entity.id, payable_id)
        return LineItemList(data=[service.line_to_out(line) for line in p.line_items])

    @patch(LINE, operation_id="patch_payables_id_line_items_id")
    async def update_line(
        self,
        payable_id: uuid.UUID,
        line_item_id: uuid.UUID,
        data: LineItemUpdate,
        db_session: AsyncSession,
        entity: Entity,
    ) -> LineItemOut:
        """Change a line item; the payable's totals are recomputed."""
        line = await service.update_line(db_session, entity.id, payable_id, line_item_id, data)
        return service.line_to_out(line)

    @delete(LINE, operation_id="delete_payables_id_line_items_id")
    async def delete_line(
        self,
        payable_id: uuid.UUID,
        line_item_id: uuid.UUID,
        db_session: AsyncSession,
        entity: Entity,
    ) -> None:
        """Remove a line item; the payable's totals are recomputed."""
        await service.delete_line(db_session, entity.id, payable_id, line_item_id)

    # --- lifecycle (Monite's payable actions) -------------------------------------------

    @post(
        ITEM + "/submit_for_approval",
        operation_id="post_payables_id_submit_for_approval",
        status_code=200,
    )
    async def submit_for_approval(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``draft``/``new`` -> ``approve_in_progress``; needs a counterpart and a line."""
        p = await service.transition(db_session, entity, payable_id, "submit_for_approval")
        return service.to_out(p)

    @post(
        ITEM + "/approve_payment_operation",
        operation_id="post_payables_id_approve_payment_operation",
        status_code=200,
    )
    async def approve_payment_operation(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``approve_in_progress`` -> ``waiting_to_be_paid``."""
        p = await service.transition(db_session, entity, payable_id, "approve_payment_operation")
        return service.to_out(p)

    @post(ITEM + "/reject", operation_id="post_payables_id_reject", status_code=200)
    async def reject(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``approve_in_progress`` -> ``rejected``."""
        return service.to_out(await service.transition(db_session, entity, payable_id, "reject"))

    @post(ITEM + "/reopen", operation_id="post_payables_id_reopen", status_code=200)
    async def reopen(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``rejected`` -> ``new``."""
        return service.to_out(await service.transition(db_session, entity, payable_id, "reopen"))

    @post(ITEM + "/cancel", operation_id="post_payables_id_cancel", status_code=200)
    async def cancel(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``draft``/``new``/``approve_in_progress``/``waiting_to_be_paid`` -> ``canceled``."""
        return service.to_out(await service.transition(db_session, entity, payable_id, "cancel"))

    @post(
        ITEM + "/mark_as_partially_paid",
        operation_id="post_payables_id_mark_as_partially_paid",
        status_code=200,
    )
    async def mark_as_partially_paid(
        self, payable_id: uuid.UUID, data: PartiallyPaid, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``waiting_to_be_paid``/``partially_paid`` -> ``partially_paid``; ``amount_paid``
        (minor units) is added to what was paid so far and must leave something due."""
        p = await service.transition(
            db_session, entity, payable_id, "mark_as_partially_paid", data.amount_paid
        )
        return service.to_out(p)

    @post(ITEM + "/mark_as_paid", operation_id="post_payables_id_mark_as_paid", status_code=200)
    async def mark_as_paid(
        self, payable_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> PayableOut:
        """``waiting_to_be_paid``/``partially_paid`` -> ``paid``; ``amount_due`` becomes 0."""
        p = await service.transition(db_session, entity, payable_id, "mark_as_paid")
        return service.to_out(p)
