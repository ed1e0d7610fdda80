"""Receivable use cases: draft invoices, their lines, discounts, totals and Monite's lifecycle.

Totals, in minor units of the invoice currency, ROUND_HALF_UP on exact decimals (see
:func:`compute_totals`):

1. line gross = round(quantity x unit_price) (the unit price is the product's price);
2. line discount: ``amount`` (minor units, at most the gross) or ``percentage``
   (percent x 100: round(gross x amount / 10000)); line ``subtotal`` = gross - discount;
3. ``subtotal`` = sum of line subtotals; the invoice ``discount`` (same two kinds) applies to
   it before tax: ``discounted_subtotal`` = subtotal - invoice discount;
4. each line is taxed on its share of the discounted subtotal:
   round(line subtotal x discounted_subtotal / subtotal x rate / 10000);
   ``tax_amount`` = sum; ``total_amount`` = discounted_subtotal + tax_amount;
   ``amount_due`` = total_amount - amount_paid.

Lifecycle (Monite's invoice states): created ``draft``; the actions in :data:`ACTIONS`, run
by :func:`app.documents.transition` (which calls :func:`app.sync.hooks.document_status_changed`
in the request's transaction).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import documents
from app.counterparts import addresses
from app.counterparts import queries as counterpart_queries
from app.db.models import (
    Counterpart,
    CounterpartAddress,
    Entity,
    MeasureUnit,
    Product,
    Receivable,
    ReceivableLineItem,
)
from app.errors import Conflict, NotFound, Unprocessable
from app.ledger import service as ledger_service
from app.measure_units import queries as unit_queries
from app.products import queries as product_queries
from app.receivables import queries
from app.receivables.schemas import (
    AddressOut,
    Discount,
    DiscountOut,
    EntityIndividualOut,
    EntityOrganizationOut,
    LineItem,
    LineItemOut,
    LineMeasureUnitOut,
    LineProductOut,
    PriceOut,
    ReceivableCreate,
    ReceivableOut,
    ReceivableUpdate,
    RelatedDocumentsOut,
    VatRateOut,
)
from app.schemas import check_currency
from app.sync import hooks

MAX_AMOUNT = 9_007_199_254_740_991
_SETTLEABLE = ("issued", "overdue", "partially_paid")

#: Monite's invoice lifecycle: action -> (statuses it may start from, status it sets).
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "issue": (("draft",), "issued"),
    "cancel": (("issued",), "canceled"),
    "mark_as_partially_paid": (_SETTLEABLE, "partially_paid"),
    "mark_as_paid": (_SETTLEABLE, "paid"),
    "mark_as_uncollectible": (_SETTLEABLE, "uncollectible"),
}


#: Statuses a receivable leaves for ``overdue`` once its due date has passed (Monite: an
#: issued or partially paid invoice not paid by its due date).
OVERDUE_FROM = ("issued", "partially_paid")


async def mark_overdue(session: AsyncSession, today: dt.date, batch: int = 500) -> int:
    """Move up to ``batch`` receivables in :data:`OVERDUE_FROM` whose ``due_date`` is before
    ``today`` (UTC) to ``overdue``, telling the sync engine of each change (the default push
    rules push ``overdue``). Returns how many moved; the caller commits and calls again while
    a full batch moved."""
    moved = await queries.past_due(session, today, OVERDUE_FROM, batch)
    entities: dict[uuid.UUID, Entity | None] = {}
    for r in moved:
        if r.entity_id not in entities:
            entities[r.entity_id] = await session.get(Entity, r.entity_id)
        entity = entities[r.entity_id]
        old, r.status = r.status, "overdue"
        await session.flush()
        if entity is not None:
            await hooks.document_status_changed(session, entity, "receivable", r, old)
    return len(moved)


def _set_issue_date(r: Receivable) -> None:
    r.issue_date = r.issue_date or dt.datetime.now(dt.UTC).date()


LIFECYCLE = documents.Lifecycle(
    "receivable",
    "receivable",
    ACTIONS,
    completing="issue",
    required_for="to issue",
    on_complete=_set_issue_date,
)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _discount_of(base: int, discount: dict[str, Any] | None, loc: list[str | int]) -> int:
    """The discount in minor units on ``base``; 422 at ``loc`` if it is larger than ``base``
    (amount) or 100% (percentage)."""
    if not discount:
        return 0
    amount = int(discount["amount"])
    if discount["type"] == "percentage":
        if amount > 10_000:
            raise Unprocessable.field([*loc, "amount"], "a percentage discount is at most 10000")
        return _round(Decimal(base) * amount / 10_000)
    if amount > base:
        raise Unprocessable.field(
            [*loc, "amount"], f"discount {amount} exceeds the amount it applies to ({base})"
        )
    return amount


@dataclass
class Totals:
    """Computed amounts (minor units); ``lines`` is ``[(subtotal, tax_amount), ...]``."""

    lines: list[tuple[int, int]]
    subtotal: int
    discounted_subtotal: int
    tax_amount: int

    @property
    def total_amount(self) -> int:
        return self.discounted_subtotal + self.tax_amount


def compute_totals(
    lines: list[ReceivableLineItem], discount: dict[str, Any] | None, loc: list[str | int]
) -> Totals:
    """The invoice's totals by the rules in this module's docstring.

    Raises:
        Unprocessable: a discount larger than what it applies to (at ``loc`` for lines, i.e.
            ``[..., "line_items", n, "discount"]``, and ``["body", "discount"]``), or a total
            above ``MinorUnits``.
    """
    nets = []
    for n, line in enumerate(lines):
        gross = _round(Decimal(str(line.quantity)) * line.unit_price)
        nets.append(gross - _discount_of(gross, line.discount, [*loc, n, "discount"]))
    subtotal = sum(nets)
    discounted = subtotal - _discount_of(subtotal, discount, ["body", "discount"])
    out = []
    for net, line in zip(nets, lines, strict=True):
        base = Decimal(net) * discounted / subtotal if subtotal else Decimal(0)
        out.append((net, _round(base * (line.tax_rate_value or 0) / 10_000)))
    totals = Totals(out, subtotal, discounted, sum(t for _, t in out))
    if totals.total_amount > MAX_AMOUNT or subtotal > MAX_AMOUNT:
        raise Unprocessable.field(loc, f"total exceeds {MAX_AMOUNT} minor units")
    return totals


def _discount_out(d: dict[str, Any] | None) -> DiscountOut | None:
    return DiscountOut(type=d["type"], amount=d["amount"]) if d else None


@dataclass
class _Context:
    """What an invoice's API shape shows besides its own row: the issuing entity, the
    counterparts, the products of the lines and the extra billing addresses."""

    entity: Entity
    counterparts: dict[uuid.UUID, Counterpart]
    products: dict[uuid.UUID, Product]
    addresses: dict[uuid.UUID, CounterpartAddress]
    units: dict[uuid.UUID, MeasureUnit]


def _unit_out(u: MeasureUnit | None) -> LineMeasureUnitOut | None:
    return LineMeasureUnitOut(id=u.id, name=u.name, description=u.description) if u else None


def _entity_out(e: Entity) -> EntityOrganizationOut | EntityIndividualOut:
    common = {"email": e.email, "phone": e.phone, "website": e.website, "tax_id": e.tax_id}
    if e.type == "individual":
        return EntityIndividualOut(
            first_name=e.first_name or "", last_name=e.last_name or "", **common
        )
    return EntityOrganizationOut(name=e.legal_name or "", **common)


def _address_out(source: Any, address_id: uuid.UUID | None = None) -> AddressOut:
    get = source.get if isinstance(source, dict) else lambda name: getattr(source, name)
    return AddressOut(
        id=address_id,
        country=get("country"),
        city=get("city") or "",
        postal_code=get("postal_code") or "",
        line1=get("line1") or "",
        line2=get("line2"),
        state=get("state"),
    )


def _billing_address(r: Receivable, ctx: _Context) -> AddressOut | None:
    address_id = r.counterpart_billing_address_id
    counterpart = ctx.counterparts.get(r.counterpart_id) if r.counterpart_id else None
    if address_id is None or counterpart is None:
        return None
    if address_id == addresses.default_address_id(counterpart):
        return _address_out(counterpart, address_id)
    extra = ctx.addresses.get(address_id)
    if extra is None or extra.counterpart_id != counterpart.id:
        return None
    return _address_out(extra, address_id)


def _line_out(
    line: ReceivableLineItem, net: int, tax: int, currency: str, ctx: _Context
) -> LineItemOut:
    p = ctx.products[line.product_id]
    rate = line.tax_rate_value or 0
    after_vat = _round(Decimal(line.unit_price) * (10_000 + rate) / 10_000)
    product = LineProductOut(
        id=p.id,
        name=p.name,
        type=p.type,
        description=p.description,
        external_reference=p.external_reference,
        ledger_account_id=p.ledger_account_id,
        accounting_tax_rate_id=line.accounting_tax_rate_id,
        smallest_amount=p.smallest_amount,
        price=PriceOut(currency=currency, value=line.unit_price),
        price_after_vat=PriceOut(currency=currency, value=after_vat),
        vat_rate=VatRateOut(country=(ctx.entity.address or {}).get("country"), value=rate),
        measure_unit_id=p.measure_unit_id,
        measure_unit=_unit_out(ctx.units.get(p.measure_unit_id) if p.measure_unit_id else None),
    )
    return LineItemOut(
        id=line.id,
        product_id=line.product_id,
        product=product,
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax_rate_value=line.tax_rate_value,
        accounting_tax_rate_id=line.accounting_tax_rate_id,
        discount=_discount_out(line.discount),
        subtotal=net,
        tax_amount=tax,
        total=net + tax,
        total_before_vat=net,
        total_after_vat=net + tax,
    )


def _to_out(r: Receivable, ctx: _Context) -> ReceivableOut:
    totals = compute_totals(list(r.line_items), r.discount, ["line_items"])
    lines = [
        _line_out(line, net, tax, r.currency, ctx)
        for line, (net, tax) in zip(r.line_items, totals.lines, strict=True)
    ]
    counterpart = ctx.counterparts.get(r.counterpart_id) if r.counterpart_id else None
    return ReceivableOut(
        id=r.id,
        type=r.type,
        status=r.status,
        currency=r.currency,
        counterpart_id=r.counterpart_id,
        counterpart_type=counterpart.type if counterpart else None,
        counterpart_name=counterpart.name if counterpart else None,
        counterpart_tax_id=counterpart.tax_id if counterpart else None,
        counterpart_billing_address_id=r.counterpart_billing_address_id,
        counterpart_billing_address=_billing_address(r, ctx),
        entity=_entity_out(ctx.entity),
        entity_address=_address_out(ctx.entity.address or {}),
        document_id=r.document_id,
        memo=r.memo,
        issue_date=r.issue_date,
        due_date=r.due_date,
        discount=_discount_out(r.discount),
        line_items=lines,
        subtotal=r.subtotal,
        discounted_subtotal=r.total_amount - r.tax_amount,
        tax_amount=r.tax_amount,
        total_amount=r.total_amount,
        amount_paid=r.amount_paid,
        amount_due=r.amount_due,
        total_vat_amount=r.tax_amount,
        total_amount_with_credit_notes=r.total_amount,
        file_language=(counterpart.language if counterpart else None) or "en",
        original_file_language="en",
        related_documents=RelatedDocumentsOut(),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


async def present(
    session: AsyncSession, entity: Entity, receivables: Sequence[Receivable]
) -> list[ReceivableOut]:
    """The API shape of invoices of ``entity``: lines embedded with their computed amounts and
    products, the entity, the counterpart's type and the billing address (a query per kind
    of related row, whatever the number of invoices)."""
    counterpart_ids = list({r.counterpart_id for r in receivables if r.counterpart_id})
    product_ids = list({line.product_id for r in receivables for line in r.line_items})
    address_ids = list(
        {r.counterpart_billing_address_id for r in receivables if r.counterpart_billing_address_id}
    )
    products = await product_queries.get_many(session, entity.id, product_ids)
    unit_ids = list({p.measure_unit_id for p in products.values() if p.measure_unit_id})
    ctx = _Context(
        entity=entity,
        counterparts=await counterpart_queries.get_many(session, entity.id, counterpart_ids),
        products=products,
        addresses=await counterpart_queries.addresses_by_id(session, address_ids),
        units=await unit_queries.get_many(session, entity.id, unit_ids),
    )
    return [_to_out(r, ctx) for r in receivables]


async def present_one(session: AsyncSession, entity: Entity, r: Receivable) -> ReceivableOut:
    """:func:`present` for one invoice."""
    return (await present(session, entity, [r]))[0]


def _recompute(r: Receivable, loc: list[str | int]) -> None:
    totals = compute_totals(list(r.line_items), r.discount, loc)
    r.subtotal, r.tax_amount, r.total_amount = (
        totals.subtotal,
        totals.tax_amount,
        totals.total_amount,
    )
    r.amount_due = max(r.total_amount - r.amount_paid, 0)


def _discount_dict(d: Discount | None) -> dict[str, Any] | None:
    return {"type": d.type, "amount": d.amount} if d and d.amount else None


async def _check_counterpart(
    session: AsyncSession, entity_id: uuid.UUID, counterpart_id: uuid.UUID
) -> Counterpart:
    counterpart = await counterpart_queries.get(session, entity_id, counterpart_id)
    if counterpart is None:
        raise Unprocessable.field(
            ["body", "counterpart_id"], f"counterpart {counterpart_id} does not exist"
        )
    return counterpart


async def _check_billing_address(
    session: AsyncSession, counterpart: Counterpart, address_id: uuid.UUID
) -> uuid.UUID:
    """``address_id`` if it is one of the counterpart's addresses; else 422."""
    if address_id == addresses.default_address_id(counterpart):
        return address_id
    if await counterpart_queries.extra_address(session, counterpart.id, address_id) is None:
        raise Unprocessable.field(
            ["body", "counterpart_billing_address_id"],
            f"address {address_id} is not an address of counterpart {counterpart.id}",
        )
    return address_id


async def _build_lines(
    session: AsyncSession,
    entity_id: uuid.UUID,
    currency: str,
    items: list[LineItem],
    currency_loc: list[str | int] | None = None,
) -> list[ReceivableLineItem]:
    """Lines from requests: the product must be the entity's, priced in ``currency`` (422 at
    ``line_items.N.product_id``, or at ``currency_loc`` when the currency changed)."""
    products = await product_queries.get_many(
        session, entity_id, list({item.product_id for item in items})
    )
    lines = []
    for n, item in enumerate(items):
        loc: list[str | int] = ["body", "line_items", n]
        product = products.get(item.product_id)
        if product is None:
            raise Unprocessable.field(
                [*loc, "product_id"], f"product {item.product_id} does not exist"
            )
        if product.price_value is None or product.price_currency != currency:
            raise Unprocessable.field(
                currency_loc or [*loc, "product_id"],
                f"product {item.product_id} has no price in {currency}",
            )
        tax = item.tax_rate_value
        if item.accounting_tax_rate_id is not None:
            rate = await ledger_service.usable_tax_rate(
                session, entity_id, item.accounting_tax_rate_id, [*loc, "accounting_tax_rate_id"]
            )
            if tax is None:
                tax = rate.effective_tax_rate or rate.total_tax_rate
        lines.append(
            ReceivableLineItem(
                position=n,
                product_id=product.id,
                quantity=round(item.quantity, 6),  # the column keeps 6 decimals
                unit_price=product.price_value,
                tax_rate_value=tax,
                accounting_tax_rate_id=item.accounting_tax_rate_id,
                discount=_discount_dict(item.discount),
            )
        )
    return lines


def _as_request(line: ReceivableLineItem) -> LineItem:
    d = line.discount
    return LineItem(
        product_id=line.product_id,
        quantity=line.quantity,
        accounting_tax_rate_id=line.accounting_tax_rate_id,
        tax_rate_value=line.tax_rate_value,
        discount=Discount(type=d["type"], amount=d["amount"]) if d else None,
    )


def _check_dates(r: Receivable) -> None:
    if r.issue_date and r.due_date and r.due_date < r.issue_date:
        raise Unprocessable.field(["body", "due_date"], "due_date is before issue_date")


async def create(session: AsyncSession, entity_id: uuid.UUID, data: ReceivableCreate) -> Receivable:
    """Create a ``draft`` invoice; unit prices come from the products.

    Raises:
        Unprocessable: unknown currency; a counterpart, product or tax rate that does not
            exist for the entity; a product without a price in the currency; a discount larger
            than what it applies to; ``due_date`` before ``issue_date``.
    """
    currency = check_currency(data.currency, ["body", "currency"])
    counterpart = await _check_counterpart(session, entity_id, data.counterpart_id)
    billing_address_id = None
    if data.counterpart_billing_address_id is not None:
        billing_address_id = await _check_billing_address(
            session, counterpart, data.counterpart_billing_address_id
        )
    r = Receivable(
        entity_id=entity_id,
        type="invoice",
        status="draft",
        currency=currency,
        counterpart_id=data.counterpart_id,
        counterpart_billing_address_id=billing_address_id,
        document_id=data.document_id,
        memo=data.memo,
        issue_date=data.issue_date,
        due_date=data.due_date,
        discount=_discount_dict(data.discount),
        amount_paid=0,
        line_items=await _build_lines(session, entity_id, currency, data.line_items),
    )
    _check_dates(r)
    _recompute(r, ["body", "line_items"])
    session.add(r)
    await session.flush()
    return r


async def get(session: AsyncSession, entity_id: uuid.UUID, receivable_id: uuid.UUID) -> Receivable:
    """Raises NotFound unless the receivable belongs to the entity."""
    r = await queries.get(session, entity_id, receivable_id)
    if r is None:
        raise NotFound(f"Receivable {receivable_id} was not found")
    return r


async def update(
    session: AsyncSession, entity_id: uuid.UUID, receivable_id: uuid.UUID, data: ReceivableUpdate
) -> Receivable:
    """Partial update of a ``draft`` invoice; ``line_items`` replaces all lines.

    A new ``currency`` re-prices the lines from their products (422 at ``currency`` if a
    product has no price in it).

    Raises:
        NotFound: no such receivable for the entity.
        Conflict: the invoice is not a draft.
        Unprocessable: as in :func:`create`.
    """
    r = await get(session, entity_id, receivable_id)
    if r.status != "draft":
        raise Conflict(
            f"a receivable in status {r.status} cannot be changed; only draft receivables can"
        )
    new_currency = None
    if data.currency is not None and data.currency != r.currency:
        new_currency = check_currency(data.currency, ["body", "currency"])
    if data.counterpart_id is not None and data.counterpart_id != r.counterpart_id:
        await _check_counterpart(session, entity_id, data.counterpart_id)
        r.counterpart_id = data.counterpart_id
        r.counterpart_billing_address_id = None  # the other counterpart's address
    if data.counterpart_billing_address_id is not None:
        if r.counterpart_id is None:
            raise Unprocessable.field(
                ["body", "counterpart_billing_address_id"], "the receivable has no counterpart"
            )
        counterpart = await _check_counterpart(session, entity_id, r.counterpart_id)
        r.counterpart_billing_address_id = await _check_billing_address(
            session, counterpart, data.counterpart_billing_address_id
        )
    if data.line_items is not None:
        r.line_items = await _build_lines(
            session, entity_id, new_currency or r.currency, data.line_items
        )
    elif new_currency is not None:
        r.line_items = await _build_lines(
            session,
            entity_id,
            new_currency,
            [_as_request(line) for line in r.line_items],
            currency_loc=["body", "currency"],
        )
    if new_currency is not None:
        r.currency = new_currency
    if data.discount is not None:
        r.discount = _discount_dict(data.discount)
    for name in ("document_id", "memo", "issue_date", "due_date"):
        if (value := getattr(data, name)) is not None:
            setattr(r, name, value)
    _check_dates(r)
    _recompute(r, ["body", "line_items"])
    await session.flush()
    return r


async def transition(
    session: AsyncSession,
    entity: Entity,
    receivable_id: uuid.UUID,
    action: str,
    amount_paid: int | None = None,
) -> Receivable:
    """Run a lifecycle action of :data:`ACTIONS` (Monite's invoice state machine).

    ``issue`` needs a counterpart and at least one line, and sets ``issue_date`` to today
    (UTC) if it was empty. ``mark_as_partially_paid`` adds ``amount_paid`` (minor units, > 0)
    to the cumulative ``amount_paid``, which must stay below ``total_amount``.
    ``mark_as_paid`` sets ``amount_paid`` to the total and ``amount_due`` to 0.

    Raises:
        NotFound: no such receivable for the entity.
        Conflict: the action is not allowed from the current status.
        Unprocessable: missing counterpart or lines; a partial payment that settles or
            exceeds what is due.
    """
    r = await get(session, entity.id, receivable_id)
    await documents.transition(session, entity, LIFECYCLE, r, action, amount_paid)
    return r
