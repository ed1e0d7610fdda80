"""Receivable bodies, in Monite's shape (``ReceivableFacadeCreateInvoicePayload``,
``LineItem``, ``Discount``). Money is integer minor units of the invoice ``currency``; rates
and percentage discounts are percent x 100 (12.5% is 1250)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from app.schemas import CurrencyCode, MinorUnits, RateBasisPoints, Request, Response

#: Monite ``ReceivablesStatusEnum`` (the invoice statuses of API.md).
ReceivableStatus = Literal[
    "draft",
    "issued",
    "accepted",
    "expired",
    "declined",
    "recurring",
    "partially_paid",
    "paid",
    "overdue",
    "uncollectible",
    "canceled",
    "deleted",
]
LineQuantity = Annotated[float, msgspec.Meta(ge=0, le=2_147_483_647)]
DocumentId = Annotated[str, msgspec.Meta(max_length=100)]
PositiveMinorUnits = Annotated[int, msgspec.Meta(gt=0, le=9_007_199_254_740_991)]


class Discount(Request):
    """Monite ``Discount``: ``amount`` is minor units (``type: amount``) or percent x 100
    (``type: percentage``, at most 10000)."""

    type: Literal["amount", "percentage"]
    amount: MinorUnits


class LineItem(Request):
    """Monite ``LineItem`` (``product_id`` form): the unit price is the product's price.

    ``tax_rate_value`` (percent x 100) wins over the pulled ``accounting_tax_rate_id``'s rate;
    with neither, the line is untaxed.
    """

    product_id: uuid.UUID
    quantity: LineQuantity
    accounting_tax_rate_id: uuid.UUID | None = None
    tax_rate_value: RateBasisPoints | None = None
    discount: Discount | None = None


class ReceivableCreate(Request):
    """Monite ``ReceivableFacadeCreateInvoicePayload`` (only ``type: invoice``)."""

    type: Literal["invoice"]
    currency: CurrencyCode
    counterpart_id: uuid.UUID
    line_items: list[LineItem]
    document_id: DocumentId | None = None
    memo: str | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    discount: Discount | None = None


class ReceivableUpdate(Request):
    """A partial change of a ``draft`` invoice; absent (or null) = unchanged.

    ``line_items`` replaces every line; a ``discount`` with ``amount`` 0 removes the discount.
    """

    currency: CurrencyCode | None = None
    counterpart_id: uuid.UUID | None = None
    line_items: list[LineItem] | None = None
    document_id: DocumentId | None = None
    memo: str | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    discount: Discount | None = None


class PartiallyPaid(Request):
    """Body of ``mark_as_partially_paid``: this payment, in minor units."""

    amount_paid: PositiveMinorUnits


class DiscountOut(Response):
    """As :class:`Discount`."""

    type: str
    amount: int


class LineItemOut(Response):
    """A line: ``subtotal`` = round(quantity x unit_price) less the line discount;
    ``tax_amount`` on the line's share of the discounted subtotal; minor units."""

    id: uuid.UUID
    product_id: uuid.UUID
    quantity: float
    unit_price: int
    tax_rate_value: int | None
    accounting_tax_rate_id: uuid.UUID | None
    discount: DiscountOut | None
    subtotal: int
    tax_amount: int
    total: int


class ReceivableOut(Response):
    """An invoice. ``subtotal`` is the sum of the line subtotals (after line discounts);
    ``discounted_subtotal`` is ``subtotal`` less the invoice ``discount``;
    ``total_amount`` = ``discounted_subtotal`` + ``tax_amount``; minor units."""

    id: uuid.UUID
    type: str
    status: str
    currency: str
    counterpart_id: uuid.UUID | None
    document_id: str | None
    memo: str | None
    issue_date: dt.date | None
    due_date: dt.date | None
    discount: DiscountOut | None
    line_items: list[LineItemOut]
    subtotal: int
    discounted_subtotal: int
    tax_amount: int
    total_amount: int
    amount_paid: int
    amount_due: int
    created_at: dt.datetime
    updated_at: dt.datetime
