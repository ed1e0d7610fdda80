"""``/v1/accounting_sync_rules``: which payable and receivable statuses are pushed."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, patch
from sqlalchemy.ext.asyncio import AsyncSession

import sync_rules as rules
from app.db.models import Entity
from app.errors import Unprocessable
from app.schemas import Request, Response
from app.sync.hooks import push_statuses


class PushStatusesBody(Request):
    payable: list[str] | None = None
    receivable: list[str] | None = None


class SyncRulesUpdate(Request):
    """Monite ``AccountingSyncRulesBody``; an omitted list keeps its current value."""

    push_statuses: PushStatusesBody


class PushStatusesOut(Response):
    payable: list[str]
    receivable: list[str]


class SyncRulesOut(Response):
    push_statuses: PushStatusesOut


def _out(entity: Entity) -> SyncRulesOut:
    current = push_statuses(entity)
    return SyncRulesOut(
        push_statuses=PushStatusesOut(payable=current.payable, receivable=current.receivable)
    )


class SyncRulesController(Controller):
    path = "/v1/accounting_sync_rules"
    tags = ["sync rules"]

    @get("/", operation_id="get_accounting_sync_rules")
    async def read(self, entity: Entity) -> SyncRulesOut:
        """The statuses at which payables and receivables are pushed (Monite's defaults unless
        changed)."""
        return _out(entity)

    @patch("/", operation_id="patch_accounting_sync_rules")
    async def update(
        self, data: SyncRulesUpdate, db_session: AsyncSession, entity: Entity
    ) -> SyncRulesOut:
        """Change the push statuses.

        Raises 422 naming a status that is not allowed (e.g. ``draft``) or repeated.
        """
        current = push_statuses(entity)
        wanted = rules.PushStatuses(
            payable=data.push_statuses.payable
            if data.push_statuses.payable is not None
            else current.payable,
            receivable=data.push_statuses.receivable
            if data.push_statuses.receivable is not None
            else current.receivable,
        )
        problems = rules.validate_rules(wanted)
        if problems:
            raise Unprocessable([(["body", *p.loc], p.message, p.code) for p in problems])
        entity.push_statuses = msgspec.to_builtins(wanted)
        await db_session.flush()
        return _out(entity)
