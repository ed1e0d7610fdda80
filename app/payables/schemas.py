"""Payable bodies, in Monite's shape (``PayableUploadWithDataSchema``, ``LineItemRequest``,
``LineItemResponse``). Money is integer minor units of the payable's ``currency``; ``tax`` is
percent x 100 (12.5% is 1250)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from app.schemas import CurrencyCode, MinorUnits, RateBasisPoints, Request, Response

#: Monite's ``partner_metadata``: any JSON object of the partner's, kept and returned as sent
#: (at most :data:`PARTNER_METADATA_MAX_BYTES` once encoded).
PartnerMetadata = dict[str, Any]
PARTNER_METADATA_MAX_BYTES = 16_384

#: Monite ``PayableStateEnum``.
PayableStatus = Literal[
    "draft",
    "new",
    "approve_in_progress",
    "waiting_to_be_paid",
    "partially_paid",
    "paid",
    "canceled",
    "rejected",
]
#: Quantity of a line: 0 .. 2^31-1, as Monite's ``LineItem.quantity``.
LineQuantity = Annotated[float, msgspec.Meta(ge=0, le=2_147_483_647)]
LineName = Annotated[str, msgspec.Meta(max_length=300)]
DocumentId = Annotated[str, msgspec.Meta(max_length=100)]
#: A payment: strictly positive minor units.
PositiveMinorUnits = Annotated[int, msgspec.Meta(gt=0, le=9_007_199_254_740_991)]


class LineItemCreate(Request):
    """A new line: ``unit_price`` minor units, ``tax`` percent x 100.

    Unlike Monite (where every field is optional, for OCR), ``name``, ``quantity`` and
    ``unit_price`` are required, so that totals are never computed from guesses.
    """

    name: LineName
    quantity: LineQuantity
    unit_price: MinorUnits
    description: str | None = None
    tax: RateBasisPoints | None = None
    ledger_account_id: uuid.UUID | None = None
    accounting_tax_rate_id: uuid.UUID | None = None


class LineItemUpdate(Request):
    """A partial change of a line; an absent (or null) field is left as it is."""

    name: LineName | None = None
    quantity: LineQuantity | None = None
    unit_price: MinorUnits | None = None
    description: str | None = None
    tax: RateBasisPoints | None = None
    ledger_account_id: uuid.UUID | None = None
    accounting_tax_rate_id: uuid.UUID | None = None


class PayableCreate(Request):
    """A new payable (always created ``draft``); dates are ISO dates."""

    currency: CurrencyCode
    counterpart_id: uuid.UUID | None = None
    document_id: DocumentId | None = None
    description: str | None = None
    issued_at: dt.date | None = None
    due_date: dt.date | None = None
    line_items: list[LineItemCreate] | None = None
    partner_metadata: PartnerMetadata | None = None


class PayableUpdate(Request):
    """A partial change of a ``draft`` or ``new`` payable; absent (or null) = unchanged."""

    currency: CurrencyCode | None = None
    counterpart_id: uuid.UUID | None = None
    document_id: DocumentId | None = None
    description: str | None = None
    issued_at: dt.date | None = None
    due_date: dt.date | None = None
    partner_metadata: PartnerMetadata | None = None


class PartiallyPaid(Request):
    """Body of ``mark_as_partially_paid``: this payment, in minor units."""

    amount_paid: PositiveMinorUnits


class LineItemOut(Response):
    """Monite ``LineItemResponse``: ``subtotal`` = round(quantity x unit_price),
    ``tax_amount`` = round(subtotal x tax / 10000), ``total`` = their sum (minor units)."""

    id: uuid.UUID
    payable_id: uuid.UUID
    name: str
    description: str | None
    quantity: float
    unit_price: int
    tax: int | None
    ledger_account_id: uuid.UUID | None
    accounting_tax_rate_id: uuid.UUID | None
    subtotal: int
    tax_amount: int
    total: int


class LineItemList(Response):
    """All lines of a payable, in order (not paginated: a bill has few lines)."""

    data: list[LineItemOut]


class PayableOut(Response):
    """A payable (Monite ``PayableResponseSchema``): ``subtotal``, ``tax_amount``,
    ``total_amount`` (sums of the lines), ``amount_paid`` and ``amount_due`` (total - paid) in
    minor units of ``currency``.

    Monite's required fields this service has no feature behind carry Monite's values for a
    payable created from JSON through the API: ``credit_notes`` is always empty (no credit
    notes here), ``payable_origin`` is ``upload`` and ``source_of_payable_data``
    ``user_specified`` (no OCR, e-mail or e-invoicing intake)."""

    id: uuid.UUID
    entity_id: uuid.UUID
    status: str
    currency: str
    counterpart_id: uuid.UUID | None
    document_id: str | None
    description: str | None
    issued_at: dt.date | None
    due_date: dt.date | None
    subtotal: int
    tax_amount: int
    total_amount: int
    amount_paid: int
    amount_due: int
    line_items: list[LineItemOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    partner_metadata: PartnerMetadata | None = None
    credit_notes: list[dict[str, object]] = msgspec.field(default_factory=list)
    payable_origin: Literal["upload"] = "upload"
    source_of_payable_data: Literal["user_specified"] = "user_specified"
