"""What payables (bills) and receivables (invoices) share: the list filters and the lifecycle.

Each keeps its own action table (:class:`Lifecycle`: Monite's payable and invoice state
machines); one :func:`transition` runs an action of either, and every action calls
:func:`app.sync.hooks.document_status_changed` in the request's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity
from app.errors import Conflict, Unprocessable
from app.pagination import Cursor
from app.sync import hooks


def list_query(
    order: str,
    status: str | None,
    status__in: list[str] | None,
    counterpart_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The query of a document list: ``status`` and ``status__in`` together keep the
    statuses in both; a counterpart as text (a token carries the query)."""
    statuses = [status] if status else None
    if status__in:
        statuses = [s for s in status__in if statuses is None or s in statuses]
    return {
        "order": order,
        "statuses": statuses,
        "counterpart_id": str(counterpart_id) if counterpart_id else None,
    }


def list_statement(
    list_stmt: Callable[..., Select[Any]], entity_id: uuid.UUID
) -> Callable[[dict[str, Any], Cursor | None], Select[Any]]:
    """The statement of a document list from the query in force (see :func:`list_query`):
    ``list_stmt(entity_id, statuses=..., counterpart_id=...)`` of the document's queries."""

    def statement(query: dict[str, Any], _cursor: Cursor | None) -> Select[Any]:
        counterpart_id = query["counterpart_id"]
        return list_stmt(
            entity_id,
            statuses=query["statuses"],
            counterpart_id=uuid.UUID(counterpart_id) if counterpart_id else None,
        )

    return statement


@dataclass(frozen=True)
class Lifecycle:
    """A document's state machine.

    ``actions``: action -> (statuses it may start from, status it sets). ``completing``: the
    action that needs a counterpart and at least one line (``required_for`` ends its error
    message, e.g. "to issue"), and ``on_complete`` what it also does to the document.
    """

    noun: Literal["payable", "receivable"]
    object_type: Literal["bill", "receivable"]
    actions: dict[str, tuple[tuple[str, ...], str]]
    completing: str
    required_for: str
    on_complete: Callable[[Any], None] | None = None


async def transition(
    session: AsyncSession,
    entity: Entity,
    lifecycle: Lifecycle,
    document: Any,
    action: str,
    amount_paid: int | None = None,
) -> None:
    """Run ``action`` of ``lifecycle`` on ``document`` (a payable or a receivable).

    The completing action needs a counterpart and at least one line.
    ``mark_as_partially_paid`` adds ``amount_paid`` (minor units, > 0) to the document's
    cumulative ``amount_paid``, which must stay below ``total_amount`` (a payment that
    settles it is ``mark_as_paid``). ``mark_as_paid`` sets ``amount_paid`` to the total and
    ``amount_due`` to 0. The status change is flushed and the sync engine told of it.

    Raises:
        Conflict: the action is not allowed from the current status.
        Unprocessable: missing counterpart or lines; a partial payment that is not below the
            amount still due.
    """
    noun = lifecycle.noun
    sources, target = lifecycle.actions[action]
    old = document.status
    if old not in sources:
        raise Conflict(
            f"cannot {action} a {noun} in status {old}: {action} moves a {noun} from "
            f"{' or '.join(sources)} to {target}"
        )
    if action == lifecycle.completing:
        missing = []
        if document.counterpart_id is None:
            missing.append("counterpart_id")
        if not document.line_items:
            missing.append("line_items")
        if missing:
            raise Unprocessable(
                [
                    ([noun, m], f"{m} is required {lifecycle.required_for}", "missing")
                    for m in missing
                ]
            )
        if lifecycle.on_complete is not None:
            lifecycle.on_complete(document)
    elif action == "mark_as_partially_paid":
        assert amount_paid is not None
        if document.amount_paid + amount_paid >= document.total_amount:
            raise Unprocessable.field(
                ["body", "amount_paid"],
                f"a partial payment must leave something due: {document.amount_due} minor "
                f"units are due (use mark_as_paid to settle the {noun})",
            )
        document.amount_paid += amount_paid
    elif action == "mark_as_paid":
        document.amount_paid = document.total_amount
    document.amount_due = max(document.total_amount - document.amount_paid, 0)
    document.status = target
    await session.flush()
    await hooks.document_status_changed(session, entity, lifecycle.object_type, document, old)
