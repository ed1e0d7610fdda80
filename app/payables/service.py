"""Payable use cases: create and edit bills, their lines and totals, and Monite's lifecycle.

Totals (minor units of the payable's currency), recomputed on every line change:
line ``subtotal`` = round(quantity x unit_price); line ``tax_amount`` = round(subtotal x tax /
10000) (``tax`` percent x 100); the payable's ``subtotal``, ``tax_amount`` and
``total_amount`` are the sums; ``amount_due`` = ``total_amount`` - ``amount_paid``. Rounding is
ROUND_HALF_UP on exact decimals.

Lifecycle (Monite's payable states): a payable is created ``draft`` (Monite creates a complete
one as ``new``; here every payable starts ``draft``, and both are editable) and moves by the
actions in :data:`ACTIONS`, run by :func:`app.documents.transition` (which calls
:func:`app.sync.hooks.document_status_changed` in the request's transaction).
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app import documents
from app.counterparts import queries as counterpart_queries
from app.db.models import Entity, Payable, PayableLineItem
from app.errors import Conflict, NotFound, Unprocessable
from app.ledger import service as ledger_service
from app.payables import queries
from app.payables.schemas import (
    PARTNER_METADATA_MAX_BYTES,
    LineItemCreate,
    LineItemOut,
    LineItemUpdate,
    PayableCreate,
    PayableOut,
    PayableUpdate,
)
from app.schemas import check_currency
from app.sync import documents as sync_documents

#: Statuses in which a payable and its lines may be edited.
EDITABLE = ("draft", "new")
#: Largest amount in minor units (as ``MinorUnits``).
MAX_AMOUNT = 9_007_199_254_740_991

#: Monite's payable lifecycle: action -> (statuses it may start from, status it sets).
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit_for_approval": (("draft", "new"), "approve_in_progress"),
    "approve_payment_operation": (("approve_in_progress",), "waiting_to_be_paid"),
    "reject": (("approve_in_progress",), "rejected"),
    "reopen": (("rejected",), "new"),
    "cancel": (("draft", "new", "approve_in_progress", "waiting_to_be_paid"), "canceled"),
    "mark_as_partially_paid": (("waiting_to_be_paid", "partially_paid"), "partially_paid"),
    "mark_as_paid": (("waiting_to_be_paid", "partially_paid"), "paid"),
}
LIFECYCLE = documents.Lifecycle(
    "payable",
    "bill",
    ACTIONS,
    completing="submit_for_approval",
    required_for="to submit for approval",
)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_amounts(quantity: float, unit_price: int, tax: int | None) -> tuple[int, int]:
    """``(subtotal, tax_amount)`` of a line in minor units: round(quantity x unit_price) and
    round(subtotal x tax / 10000), ROUND_HALF_UP (``tax`` percent x 100)."""
    net = _round(Decimal(str(quantity)) * unit_price)
    return net, _round(Decimal(net) * (tax or 0) / 10000)


def line_to_out(line: PayableLineItem) -> LineItemOut:
    """The API shape of a line (Monite ``LineItemResponse``)."""
    net, tax_amount = line_amounts(line.quantity, line.unit_price, line.tax)
    return LineItemOut(
        id=line.id,
        payable_id=line.payable_id,
        name=line.name,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax=line.tax,
        ledger_account_id=line.ledger_account_id,
        accounting_tax_rate_id=line.accounting_tax_rate_id,
        subtotal=net,
        tax_amount=tax_amount,
        total=net + tax_amount,
    )


def to_out(p: Payable) -> PayableOut:
    """The API shape of a payable, lines embedded."""
    return PayableOut(
        id=p.id,
        entity_id=p.entity_id,
        status=p.status,
        currency=p.currency,
        counterpart_id=p.counterpart_id,
        document_id=p.document_id,
        description=p.description,
        issued_at=p.issued_at,
        due_date=p.due_date,
        subtotal=p.subtotal,
        tax_amount=p.tax_amount,
        total_amount=p.total_amount,
        amount_paid=p.amount_paid,
        amount_due=p.amount_due,
        line_items=[line_to_out(line) for line in p.line_items],
        created_at=p.created_at,
        updated_at=p.updated_at,
        partner_metadata=p.partner_metadata,
    )


def _recompute(p: Payable, loc: list[str | int]) -> None:
    subtotal = tax_amount = 0
    for line in p.line_items:
        net, tax = line_amounts(line.quantity, line.unit_price, line.tax)
        subtotal, tax_amount = subtotal + net, tax_amount + tax
    if subtotal + tax_amount > MAX_AMOUNT:
        raise Unprocessable.field(loc, f"total exceeds {MAX_AMOUNT} minor units")
    p.subtotal, p.tax_amount = subtotal, tax_amount
    p.total_amount = subtotal + tax_amount
    p.amount_due = max(p.total_amount - p.amount_paid, 0)


async def _check_counterpart(
    session: AsyncSession, entity_id: uuid.UUID, counterpart_id: uuid.UUID
) -> None:
    if await counterpart_queries.get(session, entity_id, counterpart_id) is None:
        raise Unprocessable.field(
            ["body", "counterpart_id"], f"counterpart {counterpart_id} does not exist"
        )


async def _apply_line(
    session: AsyncSession,
    entity_id: uuid.UUID,
    line: PayableLineItem,
    data: LineItemCreate | LineItemUpdate,
    loc: list[str | int],
) -> None:
    if data.ledger_account_id is not None:
        account = data.ledger_account_id
        await ledger_service.usable_ledger_account(
            session, entity_id, account, [*loc, "ledger_account_id"]
        )
        line.ledger_account_id = account
    if data.accounting_tax_rate_id is not None:
        rate = data.accounting_tax_rate_id
        await ledger_service.usable_tax_rate(
            session, entity_id, rate, [*loc, "accounting_tax_rate_id"]
        )
        line.accounting_tax_rate_id = rate
    for name in ("name", "description", "unit_price", "tax"):
        if (value := getattr(data, name)) is not None:
            setattr(line, name, value)
    if data.quantity is not None:
        line.quantity = round(data.quantity, 6)  # the column keeps 6 decimals


def _check_dates(p: Payable) -> None:
    if p.issued_at and p.due_date and p.due_date < p.issued_at:
        raise Unprocessable.field(["body", "due_date"], "due_date is before issued_at")


def _partner_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """``value`` if it encodes to at most ``PARTNER_METADATA_MAX_BYTES``; else 422."""
    if value is not None and len(msgspec.json.encode(value)) > PARTNER_METADATA_MAX_BYTES:
        raise Unprocessable.field(
            ["body", "partner_metadata"],
            f"partner_metadata is larger than {PARTNER_METADATA_MAX_BYTES} bytes of JSON",
        )
    return value


async def create(session: AsyncSession, entity_id: uuid.UUID, data: PayableCreate) -> Payable:
    """Create a ``draft`` payable, with optional lines; totals computed.

    Raises:
        Unprocessable: unknown currency, a counterpart, ledger account or tax rate that does
            not exist for the entity, ``due_date`` before ``issued_at``, a total too large.
    """
    p = Payable(
        entity_id=entity_id,
        status="draft",
        currency=check_currency(data.currency, ["body", "currency"]),
        counterpart_id=data.counterpart_id,
        document_id=data.document_id,
        description=data.description,
        issued_at=data.issued_at,
        due_date=data.due_date,
        amount_paid=0,
        line_items=[],
        partner_metadata=_partner_metadata(data.partner_metadata),
    )
    _check_dates(p)
    if data.counterpart_id is not None:
        await _check_counterpart(session, entity_id, data.counterpart_id)
    for n, item in enumerate(data.line_items or []):
        line = PayableLineItem(position=n)
        await _apply_line(session, entity_id, line, item, ["body", "line_items", n])
        p.line_items.append(line)
    _recompute(p, ["body", "line_items"])
    session.add(p)
    await session.flush()
    return p


async def get(session: AsyncSession, entity_id: uuid.UUID, payable_id: uuid.UUID) -> Payable:
    """Raises NotFound unless the payable belongs to the entity."""
    p = await queries.get(session, entity_id, payable_id)
    if p is None:
        raise NotFound(f"Payable {payable_id} was not found")
    return p


async def _editable(session: AsyncSession, entity_id: uuid.UUID, payable_id: uuid.UUID) -> Payable:
    p = await get(session, entity_id, payable_id)
    if p.status not in EDITABLE:
        raise Conflict(
            f"a payable in status {p.status} cannot be changed; only draft or new payables can"
        )
    return p


async def update(
    session: AsyncSession, entity_id: uuid.UUID, payable_id: uuid.UUID, data: PayableUpdate
) -> Payable:
    """Partial update of a ``draft``/``new`` payable.

    Raises:
        NotFound: no such payable for the entity.
        Conflict: the payable is past ``new``.
        Unprocessable: as in :func:`create`.
    """
    p = await _editable(session, entity_id, payable_id)
    if data.currency is not None:
        p.currency = check_currency(data.currency, ["body", "currency"])
    if data.counterpart_id is not None:
        await _check_counterpart(session, entity_id, data.counterpart_id)
        p.counterpart_id = data.counterpart_id
    for name in ("document_id", "description", "issued_at", "due_date"):
        if (value := getattr(data, name)) is not None:
            setattr(p, name, value)
    if data.partner_metadata is not None:
        p.partner_metadata = _partner_metadata(data.partner_metadata)
    _check_dates(p)
    await session.flush()
    return p


async def add_line(
    session: AsyncSession, entity_id: uuid.UUID, payable_id: uuid.UUID, data: LineItemCreate
) -> PayableLineItem:
    """Append a line to a ``draft``/``new`` payable and recompute its totals.

    Raises:
        NotFound, Conflict: as in :func:`update`.
        Unprocessable: a ledger account or tax rate not pulled for the entity; total too large.
    """
    p = await _editable(session, entity_id, payable_id)
    position = max((line.position for line in p.line_items), default=-1) + 1
    line = PayableLineItem(position=position)
    await _apply_line(session, entity_id, line, data, ["body"])
    p.line_items.append(line)
    _recompute(p, ["body"])
    await session.flush()
    return line


def _find_line(p: Payable, line_id: uuid.UUID) -> PayableLineItem:
    for line in p.line_items:
        if line.id == line_id:
            return line
    raise NotFound(f"Line item {line_id} was not found")


async def update_line(
    session: AsyncSession,
    entity_id: uuid.UUID,
    payable_id: uuid.UUID,
    line_id: uuid.UUID,
    data: LineItemUpdate,
) -> PayableLineItem:
    """Change a line of a ``draft``/``new`` payable and recompute its totals.

    Past ``new``, only the line's accounting coding (``ledger_account_id``,
    ``accounting_tax_rate_id``) may change, so a push that failed on them can be fixed and
    retried without touching the approved amounts.

    Raises:
        NotFound: no such payable or line.
        Conflict, Unprocessable: as in :func:`add_line`.
    """
    p = await get(session, entity_id, payable_id)
    coding_only = all(
        getattr(data, name) is None
        for name in data.__struct_fields__
        if name not in ("ledger_account_id", "accounting_tax_rate_id")
    )
    if p.status not in EDITABLE and not (coding_only and p.status not in ("canceled", "rejected")):
        p = await _editable(session, entity_id, payable_id)
    line = _find_line(p, line_id)
    await _apply_line(session, entity_id, line, data, ["body"])
    _recompute(p, ["body"])
    await session.flush()
    return line


async def delete_line(
    session: AsyncSession, entity_id: uuid.UUID, payable_id: uuid.UUID, line_id: uuid.UUID
) -> None:
    """Remove a line of a ``draft``/``new`` payable and recompute its totals.

    Raises:
        NotFound: no such payable or line.
        Conflict: the payable is past ``new``.
    """
    p = await _editable(session, entity_id, payable_id)
    p.line_items.remove(_find_line(p, line_id))
    _recompute(p, ["body"])
    await session.flush()


async def transition(
    session: AsyncSession,
    entity: Entity,
    payable_id: uuid.UUID,
    action: str,
    amount_paid: int | None = None,
) -> Payable:
    """Run a lifecycle action of :data:`ACTIONS` (Monite's payable state machine).

    ``submit_for_approval`` needs a counterpart and at least one line.
    ``mark_as_partially_paid`` adds ``amount_paid`` (minor units, > 0) to the payable's
    cumulative ``amount_paid``, which must stay below ``total_amount`` (a payment that settles
    the bill is ``mark_as_paid``). ``mark_as_paid`` sets ``amount_paid`` to the total and
    ``amount_due`` to 0.

    ``approve_payment_operation`` on an entity with a connected accounting system runs the
    push's validation first (lines need an active ledger account and tax rate of the
    accounting system, ...).

    Raises:
        NotFound: no such payable for the entity.
        Conflict: the action is not allowed from the current status.
        Unprocessable: missing counterpart or lines; a partial payment that is not below the
            amount still due; approval of a payable the push would refuse (every problem).
    """
    p = await get(session, entity.id, payable_id)
    if action == "approve_payment_operation" and p.status in ACTIONS[action][0]:
        await _check_pushable(session, entity, p)
    await documents.transition(session, entity, LIFECYCLE, p, action, amount_paid)
    return p


#: The push validation's field names that a payable line or payable spells otherwise.
_API_FIELDS = {"tax_rate": "tax", "issue_date": "issued_at"}


async def _check_pushable(session: AsyncSession, entity: Entity, p: Payable) -> None:
    """Monite: "issuance of bills without this validation is prohibited": with a connected
    accounting system, approval runs the push's validation and refuses with every problem
    (``loc`` ``["payable", "line_items", index, field]`` for a line's)."""
    problems = await sync_documents.payable_push_problems(session, entity, p)
    if not problems:
        return
    errors: list[tuple[list[str | int], str, str]] = []
    for pr in problems:
        loc: list[str | int] = ["payable"]
        if pr.line is not None:
            loc += ["line_items", pr.line - 1]
        if pr.field:
            loc.append(_API_FIELDS.get(pr.field, pr.field))
        errors.append((loc, pr.message, pr.code))
    raise Unprocessable(errors)
