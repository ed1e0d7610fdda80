"""Codat data records as msgspec structs, and the one decoder every page goes through.

Records follow Codat's accounting data model (Codat: ``Account``, ``TaxRate``, ``Item``,
``Customer``, ``Supplier``, ``Invoice``, ``Bill``, and for completeness ``Payment``,
``BillPayment``, ``CreditNote``, ``BillCreditNote``), keeping the fields the service uses.
Unknown fields are ignored; every field but ``id`` may be missing or ``null``.

Decoding is two-speed. The fast path is msgspec's typed decoder straight from the page's bytes.
Real platforms send things it refuses (an ``id`` or ``postalCode`` as a JSON number, ``""`` or a
bare date where a datetime belongs, ``null`` for a list), so a record that fails is decoded
again leniently: numbers become strings where the field is a string, dates go through
:func:`~app.providers.base.parse_datetime` (unparseable ones are dropped with a warning),
``null`` becomes the field's default. Only a record that still fails (no ``id``, a string
where an object belongs) is set aside as an :class:`~app.providers.base.InvalidRecord`.

Money is :class:`~decimal.Decimal` in major units, as sent; tax rates are percent
(``20`` is 20 %), as Codat sends them.
"""

from __future__ import annotations

import logging
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from app.providers.base import CamelStruct, InvalidRecord, Page, UtcStruct, parse_datetime

__all__ = [
    "RECORD_TYPES",
    "Account",
    "Address",
    "Bill",
    "BillCreditNote",
    "BillPayment",
    "Contact",
    "CreditNote",
    "Customer",
    "CustomerRef",
    "GenericRecord",
    "Invoice",
    "Item",
    "ItemDetails",
    "LineItem",
    "Metadata",
    "Payment",
    "PaymentLine",
    "PaymentLineLink",
    "Record",
    "Ref",
    "Supplier",
    "SupplierRef",
    "TaxRate",
    "TaxRateComponent",
    "TaxRateRef",
    "decode_object",
    "decode_page",
    "record_type_for",
]

logger = logging.getLogger("acctsync.providers")

S = TypeVar("S", bound=msgspec.Struct)


# --------------------------------------------------------------------------------------------
# Shared parts
# --------------------------------------------------------------------------------------------


class Metadata(CamelStruct):
    """Codat's ``metadata``: ``isDeleted`` is true for a record deleted on the platform."""

    is_deleted: bool | None = None


class Ref(CamelStruct):
    """A reference to another record (Codat: ``accountRef``, ``itemRef``, ...)."""

    id: str | None = None
    name: str | None = None


class TaxRateRef(CamelStruct):
    """Codat's ``taxRateRef``; ``effective_tax_rate`` in percent (``20`` is 20 %)."""

    id: str | None = None
    name: str | None = None
    effective_tax_rate: Decimal | None = None


class CustomerRef(CamelStruct):
    """Codat's ``customerRef`` (``{id, companyName}``)."""

    id: str | None = None
    company_name: str | None = None


class SupplierRef(CamelStruct):
    """Codat's ``supplierRef`` (``{id, supplierName}``)."""

    id: str | None = None
    supplier_name: str | None = None


class Address(CamelStruct):
    """A postal address as the platform holds it (Codat: ``addresses[]``).

    ``country`` is whatever the platform sent: an ISO code (``GB``), a name
    (``United Kingdom``), both (``United Kingdom (GB)``) or blank; normalising is the
    matcher's job, so it is kept verbatim. ``type`` is ``Billing | Delivery | Unknown``.
    """

    type: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    postal_code: str | None = None


class Contact(CamelStruct):
    """A contact person of a customer (Codat: ``contacts[]``)."""

    name: str | None = None
    email: str | None = None
    status: str | None = None
    address: Address | None = None


class Record(UtcStruct):
    """Fields every Codat data record has: ``id`` (always a non-empty string after decoding;
    numeric ids become strings), ``modified_date`` (when Codat last changed it, the pull
    cursor), ``source_modified_date`` (when the platform last changed it), ``metadata``."""

    id: str
    modified_date: datetime | None = None
    source_modified_date: datetime | None = None
    metadata: Metadata | None = None

    @property
    def is_deleted(self) -> bool:
        """True when Codat marks the record deleted on the platform."""
        return bool(self.metadata and self.metadata.is_deleted)


class GenericRecord(Record):
    """Any data type this module has no struct for: only the common fields."""


# --------------------------------------------------------------------------------------------
# Ledger
# --------------------------------------------------------------------------------------------


class Account(Record):
    """A chart-of-accounts entry (Codat: ``Account``).

    ``type``: ``Asset | Liability | Equity | Income | Expense | Unknown``; ``status``:
    ``Active | Archived | Pending | Unknown``; ``current_balance`` in major units of
    ``currency``.
    """

    nominal_code: str | None = None
    name: str | None = None
    description: str | None = None
    fully_qualified_category: str | None = None
    fully_qualified_name: str | None = None
    currency: str | None = None
    current_balance: Decimal | None = None
    type: str | None = None
    status: str | None = None
    is_bank_account: bool | None = None


class TaxRateComponent(CamelStruct):
    """One component of a tax rate; ``rate`` in percent."""

    name: str | None = None
    rate: Decimal | None = None
    is_compound: bool | None = None


class TaxRate(Record):
    """A tax rate (Codat: ``TaxRate``); rates in percent (``12.5`` is 12.5 %).

    ``effective_tax_rate`` is what applies to a line; ``total_tax_rate`` the sum of the
    components; ``status``: ``Active | Archived | Unknown``.
    """

    code: str | None = None
    name: str | None = None
    effective_tax_rate: Decimal | None = None
    total_tax_rate: Decimal | None = None
    components: list[TaxRateComponent] = msgspec.field(default_factory=list)
    status: str | None = None


# --------------------------------------------------------------------------------------------
# Items and counterparts
# --------------------------------------------------------------------------------------------


class ItemDetails(CamelStruct):
    """The bill-side or invoice-side details of an item (Codat: ``billItem``,
    ``invoiceItem``); ``unit_price`` in major units."""

    description: str | None = None
    unit_price: Decimal | None = None
    account_ref: Ref | None = None
    tax_rate_ref: TaxRateRef | None = None


class Item(Record):
    """A product or service (Codat: ``Item``); ``item_status``: ``Active | Archived |
    Unknown`` (Xero items are always ``Unknown``); ``type``: ``Inventory | NonInventory |
    Service | Unknown``."""

    name: str | None = None
    code: str | None = None
    item_status: str | None = None
    type: str | None = None
    is_bill_item: bool | None = None
    bill_item: ItemDetails | None = None
    is_invoice_item: bool | None = None
    invoice_item: ItemDetails | None = None


class Customer(Record):
    """A customer (Codat: ``Customer``); ``status``: ``Active | Archived | Unknown``."""

    customer_name: str | None = None
    contact_name: str | None = None
    email_address: str | None = None
    phone: str | None = None
    addresses: list[Address] = msgspec.field(default_factory=list)
    contacts: list[Contact] = msgspec.field(default_factory=list)
    registration_number: str | None = None
    tax_number: str | None = None
    status: str | None = None
    default_currency: str | None = None


class Supplier(Record):
    """A supplier (Codat: ``Supplier``); same shape as :class:`Customer`."""

    supplier_name: str | None = None
    contact_name: str | None = None
    email_address: str | None = None
    phone: str | None = None
    addresses: list[Address] = msgspec.field(default_factory=list)
    registration_number: str | None = None
    tax_number: str | None = None
    status: str | None = None
    default_currency: str | None = None


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


class LineItem(CamelStruct):
    """A line of an invoice, bill or credit note (Codat: ``lineItems[]``); amounts in major
    units: ``sub_total = unit_amount * quantity - discount_amount``, ``total_amount =
    sub_total + tax_amount``."""

    description: str | None = None
    unit_amount: Decimal | None = None
    quantity: Decimal | None = None
    discount_amount: Decimal | None = None
    discount_percentage: Decimal | None = None
    sub_total: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    account_ref: Ref | None = None
    tax_rate_ref: TaxRateRef | None = None
    item_ref: Ref | None = None
    tracking_category_refs: list[Ref] = msgspec.field(default_factory=list)


class Invoice(Record):
    """A sales invoice (Codat: ``Invoice``); ``status``: ``Draft | Submitted | PartiallyPaid
    | Paid | Void | Unknown``; amounts in major units of ``currency``."""

    invoice_number: str | None = None
    customer_ref: CustomerRef | None = None
    issue_date: datetime | None = None
    due_date: datetime | None = None
    paid_on_date: datetime | None = None
    currency: str | None = None
    currency_rate: Decimal | None = None
    line_items: list[LineItem] = msgspec.field(default_factory=list)
    status: str | None = None
    sub_total: Decimal | None = None
    total_discount: Decimal | None = None
    discount_percentage: Decimal | None = None
    total_tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    amount_due: Decimal | None = None
    note: str | None = None


class Bill(Record):
    """A purchase bill (Codat: ``Bill``); ``status``: ``Draft | Open | PartiallyPaid | Paid |
    Void | Unknown``; Codat names the tax total ``taxAmount`` here (``total_tax_amount`` is
    the same value, for symmetry with :class:`Invoice`)."""

    reference: str | None = None
    supplier_ref: SupplierRef | None = None
    issue_date: datetime | None = None
    due_date: datetime | None = None
    currency: str | None = None
    currency_rate: Decimal | None = None
    line_items: list[LineItem] = msgspec.field(default_factory=list)
    status: str | None = None
    sub_total: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    amount_due: Decimal | None = None
    note: str | None = None

    @property
    def total_tax_amount(self) -> Decimal | None:
        """The bill's tax total (Codat's ``taxAmount``)."""
        return self.tax_amount


class CreditNote(Record):
    """A customer credit note (Codat: ``CreditNote``), kept minimal."""

    credit_note_number: str | None = None
    customer_ref: CustomerRef | None = None
    issue_date: datetime | None = None
    currency: str | None = None
    line_items: list[LineItem] = msgspec.field(default_factory=list)
    status: str | None = None
    sub_total: Decimal | None = None
    total_tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    remaining_credit: Decimal | None = None


class BillCreditNote(Record):
    """A supplier credit note (Codat: ``BillCreditNote``), kept minimal."""

    bill_credit_note_number: str | None = None
    supplier_ref: SupplierRef | None = None
    issue_date: datetime | None = None
    currency: str | None = None
    line_items: list[LineItem] = msgspec.field(default_factory=list)
    status: str | None = None
    sub_total: Decimal | None = None
    total_tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    remaining_credit: Decimal | None = None


class PaymentLineLink(CamelStruct):
    """What a payment line settles (``type``: ``Invoice | Bill | CreditNote | ...``)."""

    type: str | None = None
    id: str | None = None
    amount: Decimal | None = None


class PaymentLine(UtcStruct):
    """A line of a payment: an amount and the documents it is allocated to."""

    amount: Decimal | None = None
    allocated_on_date: datetime | None = None
    links: list[PaymentLineLink] = msgspec.field(default_factory=list)


class Payment(Record):
    """A customer payment (Codat: ``Payment``), kept minimal."""

    customer_ref: CustomerRef | None = None
    account_ref: Ref | None = None
    date: datetime | None = None
    currency: str | None = None
    total_amount: Decimal | None = None
    reference: str | None = None
    note: str | None = None
    lines: list[PaymentLine] = msgspec.field(default_factory=list)


class BillPayment(Record):
    """A payment to a supplier (Codat: ``BillPayment``), kept minimal."""

    supplier_ref: SupplierRef | None = None
    account_ref: Ref | None = None
    date: datetime | None = None
    currency: str | None = None
    total_amount: Decimal | None = None
    reference: str | None = None
    note: str | None = None
    lines: list[PaymentLine] = msgspec.field(default_factory=list)


#: Codat data type name -> record struct.
RECORD_TYPES: dict[str, type[Record]] = {
    "accounts": Account,
    "taxRates": TaxRate,
    "items": Item,
    "customers": Customer,
    "suppliers": Supplier,
    "invoices": Invoice,
    "bills": Bill,
    "creditNotes": CreditNote,
    "billCreditNotes": BillCreditNote,
    "payments": Payment,
    "billPayments": BillPayment,
}


def record_type_for(data_type: str) -> type[Record]:
    """The struct for a Codat data type; :class:`GenericRecord` for any other type."""
    return RECORD_TYPES.get(data_type, GenericRecord)


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


class _Href(msgspec.Struct):
    href: str | None = None


class _Links(msgspec.Struct):
    next: _Href | None = None


class _WirePage(msgspec.Struct, rename="camel", kw_only=True):
    results: list[msgspec.Raw] | None = None
    page_number: int | None = None
    page_size: int | None = None
    total_results: int | None = None
    links: _Links | None = msgspec.field(default=None, name="_links")


_PAGE_DECODER = msgspec.json.Decoder(_WirePage)
_ANY_DECODER = msgspec.json.Decoder()
_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}
_DROP = object()


def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    decoder = _DECODERS.get(tp)
    if decoder is None:
        decoder = _DECODERS[tp] = msgspec.json.Decoder(tp)
    return decoder


def _struct_fields(tp: type[msgspec.Struct]) -> dict[str, Any]:
    fields = _FIELDS.get(tp)
    if fields is None:
        fields = _FIELDS[tp] = {f.encode_name: f.type for f in msgspec.structs.fields(tp)}
    return fields


_FIELDS: dict[type, dict[str, Any]] = {}


def _non_none(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _number_to_str(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fix(value: Any, tp: Any, path: str) -> Any:
    """Reshape plain JSON values towards ``tp`` (see the module docstring); _DROP to omit."""
    if value is None:
        return _DROP
    tp = _non_none(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if not isinstance(value, dict):
            return value
        fields = _struct_fields(tp)
        out = {}
        for key, item in value.items():
            fixed = _fix(item, fields.get(key, Any), f"{path}.{key}")
            if fixed is not _DROP:
                out[key] = fixed
        return out
    if typing.get_origin(tp) is list:
        if not isinstance(value, list):
            return value
        (item_tp,) = typing.get_args(tp) or (Any,)
        fixed_items = (_fix(x, item_tp, f"{path}[]") for x in value)
        return [x for x in fixed_items if x is not _DROP]
    if tp is datetime:
        try:
            parsed = parse_datetime(value)
        except (ValueError, TypeError, OverflowError, OSError):
            logger.warning("provider record: unparseable date %r at %s dropped", value, path)
            return _DROP
        return _DROP if parsed is None else parsed
    if tp is str and isinstance(value, int | float) and not isinstance(value, bool):
        return _number_to_str(value)
    return value


def _decode_lenient(tp: type[S], data: bytes | msgspec.Raw) -> S:
    obj = _ANY_DECODER.decode(data)
    fixed = _fix(obj, tp, "$")
    if fixed is _DROP:
        raise msgspec.ValidationError(f"Expected `object`, got `null` for {tp.__name__}")
    return msgspec.convert(fixed, tp, strict=False)


def decode_object(tp: type[S], data: bytes | msgspec.Raw) -> S:
    """Decode one JSON object into ``tp``: msgspec's fast path, then the lenient one.

    Raises ``msgspec.DecodeError`` (not JSON) or ``msgspec.ValidationError`` (does not fit
    ``tp`` even leniently, e.g. no ``id``).
    """
    try:
        return _decoder(tp).decode(data)
    except msgspec.ValidationError:
        return _decode_lenient(tp, data)


def decode_page(data_type: str, body: bytes, record_type: type[S] | None = None) -> Page[Any]:
    """Decode a Codat page ``{results, pageNumber, pageSize, totalResults, _links}``.

    ``body`` is the response body as received; each result is decoded into
    ``record_type`` (default: :func:`record_type_for` ``data_type``) straight from its bytes,
    and its raw JSON is kept alongside. A result that fails even leniently goes to
    ``Page.invalid`` with a warning log; the others are returned. Raises
    ``msgspec.DecodeError`` / ``msgspec.ValidationError`` when the page itself is malformed.
    This is the only decoding path for pages: the HTTP client and the fixture tests use it.
    """
    tp: Any = record_type or record_type_for(data_type)
    wire = _PAGE_DECODER.decode(body)
    results = wire.results or []
    decoder = _decoder(tp)
    records: list[Any] = []
    raws: list[msgspec.Raw] = []
    invalid: list[InvalidRecord] = []
    for index, raw in enumerate(results):
        try:
            record = decoder.decode(raw)
        except msgspec.ValidationError:
            try:
                record = _decode_lenient(tp, raw)
            except msgspec.ValidationError as exc:
                logger.warning(
                    "provider page: %s record %d does not decode: %s", data_type, index, exc
                )
                invalid.append(InvalidRecord(index=index, raw=raw, error=str(exc)))
                continue
        records.append(record)
        raws.append(raw)
    page_number = wire.page_number or 1
    page_size = wire.page_size or len(results)
    total = wire.total_results if wire.total_results is not None else len(results)
    if not results:
        has_next = False
    elif wire.links is not None:
        has_next = bool(wire.links.next and wire.links.next.href)
    else:
        has_next = page_number * page_size < total
    return Page(
        data_type=data_type,
        records=records,
        raw=raws,
        invalid=invalid,
        page_number=page_number,
        page_size=page_size,
        total_results=total,
        has_next=has_next,
    )
