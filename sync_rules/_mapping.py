"""Mapping to Codat's push payloads (bills, invoices, suppliers, customers, items).

Payloads are plain dicts with Codat's camelCase field names; fields without a value are left
out. Money is `decimal.Decimal` in major units with exactly the currency's decimals, so encode
them with `encode_payload` (msgspec, `decimal_format="number"`: Decimals become JSON numbers such
as `12.50`); `json.dumps` and httpx's `json=` cannot encode Decimals. Dates are ISO 8601 date
times at midnight (`2024-05-01T00:00:00`), as in Codat's own records.

Codat: field names and statuses from Codat's accounting API (bills `Draft | Open | ... | Void`,
invoices `Draft | Submitted | ... | Void`; `supplierRef {id, supplierName}`,
`customerRef {id, companyName}`, `accountRef {id}`, `taxRateRef {id}`, `itemRef {id}`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec

from ._documents import Address, Counterpart, LineItem, PayableDoc, Product, ReceivableDoc
from ._money import Totals, as_decimal, compute_totals, to_major
from ._validation import ProductValidation, Validation

Payload = dict[str, Any]

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode_payload(payload: Payload) -> bytes:
    """JSON bytes of a payload, Decimals as JSON numbers (`{"unitAmount": 12.50}`)."""
    return _ENCODER.encode(payload)


class StatusPlan(msgspec.Struct, kw_only=True, frozen=True):
    """How a document in a given status is pushed: created with Codat status `push_status`,
    then, when `void_after`, updated (PUT) with `void_payload` to status `Void`.
    """

    push_status: str
    void_after: bool = False


_BILL_PLANS = {
    # Monite: a payable not yet approved is a draft bill in the accounting system.
    "new": StatusPlan(push_status="Draft"),
    "approve_in_progress": StatusPlan(push_status="Draft"),
    # Paid and partly paid payables are pushed as open bills; payments are separate records.
    "waiting_to_be_paid": StatusPlan(push_status="Open"),
    "partially_paid": StatusPlan(push_status="Open"),
    "paid": StatusPlan(push_status="Open"),
    "canceled": StatusPlan(push_status="Open", void_after=True),
    "rejected": StatusPlan(push_status="Open", void_after=True),
}

_INVOICE_PLANS = {
    "issued": StatusPlan(push_status="Submitted"),
    "overdue": StatusPlan(push_status="Submitted"),
    "partially_paid": StatusPlan(push_status="Submitted"),
    "paid": StatusPlan(push_status="Submitted"),
    "canceled": StatusPlan(push_status="Submitted", void_after=True),
    "uncollectible": StatusPlan(push_status="Submitted", void_after=True),
    "deleted": StatusPlan(push_status="Submitted", void_after=True),
}


def bill_status_plan(payable_status: str) -> StatusPlan:
    """Codat bill status for a Monite payable status.

    `new`, `approve_in_progress` -> Draft; `waiting_to_be_paid`, `partially_paid`, `paid` ->
    Open (Monite: paid payables are pushed as open bills); `canceled`, `rejected` -> Open, then
    Void. Raises ValueError for `draft` and unknown statuses (never pushed).
    """
    try:
        return _BILL_PLANS[payable_status]
    except KeyError:
        raise ValueError(f"a payable in status {payable_status!r} is not pushed") from None


def invoice_status_plan(invoice_status: str) -> StatusPlan:
    """Codat invoice status for a Monite invoice status.

    `issued`, `overdue`, `partially_paid`, `paid` -> Submitted (payments are separate records);
    `canceled`, `uncollectible`, `deleted` -> Submitted, then Void (Monite: such receivables
    are voided after they are pushed). Raises ValueError for statuses never pushed.
    """
    try:
        return _INVOICE_PLANS[invoice_status]
    except KeyError:
        raise ValueError(f"a receivable in status {invoice_status!r} is not pushed") from None


def void_payload(pushed: Payload) -> Payload:
    """The body of the follow-up `PUT .../push/{bills|invoices}/{id}`: the pushed payload with
    status `Void` (Codat's update replaces the record, so every field is sent again).
    """
    return {**pushed, "status": "Void"}


def _date(value: dt.date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00"


def _compact(payload: Payload) -> Payload:
    return {k: v for k, v in payload.items() if v is not None}


def _require_ok(validation: Validation | ProductValidation) -> None:
    if not validation.ok:
        codes = ", ".join(p.code for p in validation.problems)
        raise ValueError(f"cannot map a document that failed validation ({codes})")


def _counterpart_id(counterpart: Counterpart | None, override: str | None) -> str:
    provider_id = override or (counterpart.provider_id if counterpart else None)
    if provider_id is None:
        raise ValueError("the counterpart is not linked: push it first and pass its Codat id")
    return provider_id


def _lines(doc: PayableDoc | ReceivableDoc, validation: Validation) -> tuple[list[Payload], Totals]:
    if len(validation.lines) != len(doc.line_items):
        raise ValueError("the validation does not belong to this document")
    totals = compute_totals(doc.line_items, [r.tax_rate for r in validation.lines])
    money = doc.currency
    payloads: list[Payload] = []
    for line, resolved, amounts in zip(doc.line_items, validation.lines, totals.lines, strict=True):
        payloads.append(
            _compact(
                {
                    "description": _description(line),
                    "unitAmount": to_major(line.unit_price, money),
                    "quantity": as_decimal(line.quantity),
                    "discountAmount": to_major(amounts.discount, money),
                    "discountPercentage": _discount_percentage(line),
                    "subTotal": to_major(amounts.net, money),
                    "taxAmount": to_major(amounts.tax, money),
                    "totalAmount": to_major(amounts.total, money),
                    "accountRef": {"id": resolved.account_id},
                    "taxRateRef": {"id": resolved.tax_rate_id} if resolved.tax_rate_id else None,
                    "itemRef": _item_ref(line.product),
                }
            )
        )
    return payloads, totals


def _description(line: LineItem) -> str | None:
    text = line.description or line.name or (line.product.name if line.product else "")
    return text or None


def _discount_percentage(line: LineItem) -> Decimal | None:
    if line.discount is None or line.discount.type != "percentage":
        return None
    return Decimal(line.discount.amount).scaleb(-2)


def _item_ref(product: Product | None) -> Payload | None:
    if product is None or product.provider_id is None:
        return None
    return {"id": product.provider_id}


def map_bill(doc: PayableDoc, validation: Validation, supplier_id: str | None = None) -> Payload:
    """Codat bill payload for a validated payable (`validate_payable`'s result).

    `supplier_id` is the Codat supplier id when the counterpart was pushed after validation
    (defaults to `doc.counterpart.provider_id`). `amountDue` is the total: the bill is pushed
    open, payments are separate records. Raises ValueError when the validation has problems,
    belongs to another document or the supplier is not linked, or the status is never pushed.
    """
    _require_ok(validation)
    lines, totals = _lines(doc, validation)
    money = doc.currency
    total = to_major(totals.total, money)
    return _compact(
        {
            "reference": doc.document_id,
            "supplierRef": _compact(
                {
                    "id": _counterpart_id(doc.counterpart, supplier_id),
                    "supplierName": doc.counterpart.name if doc.counterpart else None,
                }
            ),
            "issueDate": _date(doc.issue_date),
            "dueDate": _date(doc.due_date),
            "currency": money,
            "lineItems": lines,
            "status": bill_status_plan(doc.status).push_status,
            "subTotal": to_major(totals.subtotal, money),
            "taxAmount": to_major(totals.tax, money),
            "totalAmount": total,
            "amountDue": total,
            "note": doc.memo,
        }
    )


def map_invoice(
    doc: ReceivableDoc, validation: Validation, customer_id: str | None = None
) -> Payload:
    """Codat invoice payload for a validated receivable (`validate_receivable`'s result).

    `customer_id` as `map_bill`'s `supplier_id`. Line discounts are on the lines
    (`discountAmount`, and `discountPercentage` for a percentage discount); `subTotal` is after
    them, and `totalDiscount` is not sent (some platforms apply it as an extra invoice-level
    discount). Raises ValueError as `map_bill`.
    """
    _require_ok(validation)
    lines, totals = _lines(doc, validation)
    money = doc.currency
    total = to_major(totals.total, money)
    return _compact(
        {
            "invoiceNumber": doc.document_id,
            "customerRef": _compact(
                {
                    "id": _counterpart_id(doc.counterpart, customer_id),
                    "companyName": doc.counterpart.name if doc.counterpart else None,
                }
            ),
            "issueDate": _date(doc.issue_date),
            "dueDate": _date(doc.due_date),
            "currency": money,
            "lineItems": lines,
            "status": invoice_status_plan(doc.status).push_status,
            "subTotal": to_major(totals.subtotal, money),
            "totalTaxAmount": to_major(totals.tax, money),
            "totalAmount": total,
            "amountDue": total,
            "note": doc.memo,
        }
    )


def _addresses(address: Address | None) -> list[Payload]:
    if address is None:
        return []
    return [
        _compact(
            {
                "type": "Billing",
                "line1": address.line1,
                "line2": address.line2,
                "city": address.city,
                "postalCode": address.postal_code,
                "country": address.country,
            }
        )
    ]


def map_supplier(counterpart: Counterpart, currency: str | None = None) -> Payload:
    """Codat supplier payload for a counterpart (status Active, its address as Billing,
    `country` ISO 3166 alpha-2 as stored); `currency` becomes `defaultCurrency` when given.
    """
    return _compact(
        {
            "supplierName": counterpart.name,
            "emailAddress": counterpart.email,
            "phone": counterpart.phone,
            "addresses": _addresses(counterpart.address),
            "defaultCurrency": currency,
            "status": "Active",
        }
    )


def map_customer(counterpart: Counterpart, currency: str | None = None) -> Payload:
    """Codat customer payload for a counterpart, as `map_supplier` (`customerName`)."""
    return _compact(
        {
            "customerName": counterpart.name,
            "emailAddress": counterpart.email,
            "phone": counterpart.phone,
            "addresses": _addresses(counterpart.address),
            "defaultCurrency": currency,
            "status": "Active",
        }
    )


def map_item(product: Product, validation: ProductValidation) -> Payload:
    """Codat item payload for a validated product (`validate_product`'s result): an invoice
    item (products are what the entity sells) of type Service or NonInventory, with its price
    in major units of the product's currency and its ledger account.
    Raises ValueError when the validation has problems.
    """
    _require_ok(validation)
    unit_price = None
    if product.price is not None and product.currency is not None:
        unit_price = to_major(product.price, product.currency)
    return {
        "name": product.name,
        "itemStatus": "Active",
        "type": "Service" if product.type == "service" else "NonInventory",
        "isBillItem": False,
        "isInvoiceItem": True,
        "invoiceItem": _compact(
            {
                "description": product.description,
                "unitPrice": unit_price,
                "accountRef": {"id": validation.account_id},
            }
        ),
    }
