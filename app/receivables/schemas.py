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
    """Monite ``ReceivableFacadeCreateInvoicePayload`` (only ``type: invoice``).

    ``counterpart_billing_address_id`` is one of the counterpart's addresses
    (``/v1/counterparts/{id}/addresses``); Monite requires it, this service does not (without
    it the invoice has no billing address)."""

    type: Literal["invoice"]
    currency: CurrencyCode
    counterpart_id: uuid.UUID
    line_items: list[LineItem]
    counterpart_billing_address_id: uuid.UUID | None = None
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
    counterpart_billing_address_id: uuid.UUID | None = None
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


class PriceOut(Response):
    currency: str
    value: int


class VatRateOut(Response):
    """Monite ``LineItemProductVatRate``: the line's rate (percent x 100, 0 when untaxed) in
    the entity's country."""

    country: str | None
    value: int


class LineMeasureUnitOut(Response):
    """Monite ``LineItemProductMeasureUnit``: the product's measure unit."""

    id: uuid.UUID
    name: str
    description: str | None = None


class LineProductOut(Response):
    """Monite ``LineItemProduct``: the line's product with the line's unit ``price`` (the
    product's price when the line was priced) and ``price_after_vat`` at the line's rate."""

    id: uuid.UUID
    name: str
    type: str
    description: str | None
    external_reference: str | None
    ledger_account_id: uuid.UUID | None
    accounting_tax_rate_id: uuid.UUID | None
    smallest_amount: float | None
    price: PriceOut
    price_after_vat: PriceOut
    vat_rate: VatRateOut
    is_inline: bool = False
    measure_unit_id: uuid.UUID | None = None
    measure_unit: LineMeasureUnitOut | None = None


class LineItemOut(Response):
    """A line (Monite ``ResponseItem``): ``subtotal`` (= ``total_before_vat``) is
    round(quantity x unit_price) less the line discount; ``tax_amount`` on the line's share of
    the discounted subtotal; ``total`` (= ``total_after_vat``) their sum; minor units."""

    id: uuid.UUID
    product_id: uuid.UUID
    product: LineProductOut
    quantity: float
    unit_price: int
    tax_rate_value: int | None
    accounting_tax_rate_id: uuid.UUID | None
    discount: DiscountOut | None
    subtotal: int
    tax_amount: int
    total: int
    total_before_vat: int
    total_after_vat: int


class EntityOrganizationOut(Response, tag_field="type", tag="organization"):
    """Monite ``ReceivableEntityOrganization``: the issuing entity (``type``
    ``organization``)."""

    name: str
    email: str | None
    phone: str | None
    website: str | None
    tax_id: str | None


class EntityIndividualOut(Response, tag_field="type", tag="individual"):
    """Monite ``ReceivableEntityIndividual``: the issuing entity (``type`` ``individual``)."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    website: str | None
    tax_id: str | None


class AddressOut(Response):
    """Monite ``ReceivableEntityAddressSchema`` / ``ReceivablesRepresentationOfCounterpart
    Address``; parts the entity or counterpart was created without are empty strings (Monite
    requires ``city``, ``line1`` and ``postal_code``)."""

    country: str | None
    city: str
    postal_code: str
    line1: str
    line2: str | None
    state: str | None
    id: uuid.UUID | None = None


class RelatedDocumentsOut(Response):
    """Monite ``RelatedDocuments``: no credit notes or proformas here, so always empty."""

    credit_note_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


class ReceivableOut(Response):
    """An invoice (Monite ``InvoiceResponsePayload``). ``subtotal`` is the sum of the line
    subtotals (after line discounts); ``discounted_subtotal`` is ``subtotal`` less the invoice
    ``discount``; ``total_amount`` = ``discounted_subtotal`` + ``tax_amount``; minor units.

    ``total_vat_amount`` is ``tax_amount`` and ``total_amount_with_credit_notes`` is
    ``total_amount`` (no credit notes here). ``file_language`` is the counterpart's
    ``language`` and ``original_file_language`` ``en`` (Monite's default; no PDFs here)."""

    id: uuid.UUID
    type: str
    status: str
    currency: str
    counterpart_id: uuid.UUID | None
    counterpart_type: str | None
    counterpart_name: str | None
    counterpart_tax_id: str | None
    counterpart_billing_address_id: uuid.UUID | None
    counterpart_billing_address: AddressOut | None
    entity: EntityOrganizationOut | EntityIndividualOut
    entity_address: AddressOut
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
    total_vat_amount: int
    total_amount_with_credit_notes: int
    file_language: str
    original_file_language: str
    related_documents: RelatedDocumentsOut
    created_at: dt.datetime
    updated_at: dt.datetime
