"""Creating and updating records as the reference's endpoints do: required arguments, allowed
values, references to other records, computed totals, and the document state transitions.

Every function takes the organisation and the request body (a dict) and returns the stored
record or raises :class:`~smarty_sandbox.store.SmartyError` 400 / 404 with the message the
envelope carries. Rules taken from the reference: "Required" arguments, the "Allowed values"
lists, ``display_name`` at most 200 characters, ``vat_name`` at most 50; invoices and bills
are created ``Draft`` (bills may be created ``Approve``d, i.e. sent); "Mark as Draft" applies
to a voided document; a document with a payment cannot be voided.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from smarty_sandbox.store import (
    ITEM_TYPES,
    TAX_MODES,
    Organisation,
    SmartyError,
    decimal_of,
    money,
)

_CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "company_name",
    "contact_currency",
    "contact_vatmode",
    "contact_vat",
    "contact_postcode",
    "contact_state",
    "address_line1",
    "contact_country",
    "contact_city",
    "address_line2",
    "home_phone",
    "mobile",
    "business_phone",
    "fax",
    "description",
)


def _text(body: dict[str, Any], name: str, *, required: bool = False, limit: int = 2000) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise SmartyError(400, f"{name} is required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise SmartyError(400, f"{name} must be a string")
    text = str(value)
    if len(text) > limit:
        raise SmartyError(400, f"{name} is longer than {limit} characters")
    return text


def _int_id(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise SmartyError(400, f"{name} must be an integer")
    try:
        return int(str(value))
    except ValueError:
        raise SmartyError(400, f"{name} must be an integer") from None


def _date(body: dict[str, Any], name: str) -> str:
    text = _text(body, name, required=True)
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise SmartyError(400, f"{name} must be a date yyyy-mm-dd") from None


def _account(org: Organisation, value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    account_id = _int_id(value, name)
    if account_id not in org.records["accounts"]:
        raise SmartyError(400, f"{name} {account_id} is not an account of this organization")
    return account_id


def _vat(org: Organisation, value: Any, name: str) -> dict[str, Any] | None:
    """The VAT rate named ``value`` (its ``vat_name``), or None when none is given."""
    if value in (None, ""):
        return None
    for rate in org.records["vatrates"].values():
        if rate["vat_name"] == value:
            return rate
    raise SmartyError(400, f"{name} {value!r} is not a VAT rate of this organization")


def contact(org: Organisation, body: dict[str, Any], contact_id: int) -> dict[str, Any]:
    """A contact from a create or update body."""
    record: dict[str, Any] = {
        "contact_id": contact_id,
        "display_name": _text(body, "display_name", required=True, limit=200),
        "contact_type": _text(body, "contact_type", required=True),
    }
    if record["contact_type"] not in ("Customer", "Supplier"):
        raise SmartyError(400, "contact_type must be Customer or Supplier")
    for name in _CONTACT_FIELDS:
        record[name] = _text(body, name, limit=500)
    record["contact_account_id"] = _account(
        org, body.get("contact_account_id"), "contact_account_id"
    )
    return record


def item(org: Organisation, body: dict[str, Any], item_id: int) -> dict[str, Any]:
    """An item from a create or update body."""
    record: dict[str, Any] = {
        "item_id": item_id,
        "item_name": _text(body, "item_name", required=True, limit=200),
        "item_type": _text(body, "item_type", required=True),
    }
    if record["item_type"] not in ITEM_TYPES:
        raise SmartyError(400, f"item_type must be one of: {', '.join(ITEM_TYPES)}")
    for side in ("purchase", "sale"):
        record[f"{side}_account_id"] = _account(
            org, body.get(f"{side}_account_id"), f"{side}_account_id"
        )
        record[f"{side}_description"] = _text(body, f"{side}_description")
        price = body.get(f"{side}_price")
        record[f"{side}_price"] = (
            money(decimal_of(price, f"{side}_price")) if price not in (None, "") else ""
        )
        vat = _vat(org, body.get(f"{side}_vat"), f"{side}_vat")
        record[f"{side}_vat"] = vat["vat_name"] if vat else ""
    record["track_account_id"] = _account(org, body.get("track_account_id"), "track_account_id")
    record["track_inventory"] = bool(body.get("track_inventory") in (True, "true", "True", 1))
    return record


def account(org: Organisation, body: dict[str, Any], account_id: int) -> dict[str, Any]:
    """A chart-of-accounts entry from a create or update body."""
    account_type = _text(body, "account_type", required=True)
    name = _text(body, "account_name", required=True, limit=150)
    code = _text(body, "account_code", required=True, limit=20)
    vat = _text(body, "account_vat", required=True)
    for other in org.records["accounts"].values():
        if other["account_code"] == code and other["account_id"] != account_id:
            raise SmartyError(400, f"account_code {code} is already used")
    enable = body.get("is_enable_payment", 0) in (1, "1", True, "true")
    return {
        "account_id": account_id,
        "parent_account_type": account_type.upper(),
        "account_type": account_type,
        "account_name": name,
        "account_code": code,
        "account_name_formatted": f"{code} - {name}",
        "account_vat": vat,
        "account_description": _text(body, "account_description"),
        "is_enable_payment": int(enable),
        "enable_payment": int(enable),
        "default_account_name": "",
        "account_lock": 0,
        "currency": org.currency,
        "account_status": "Valid",
        "source_create_id": 0,
        "account_create_type": "",
        "ytd": "0.00",
    }


def vat_rate(org: Organisation, body: dict[str, Any], vat_id: int) -> dict[str, Any]:
    """A VAT rate from a create or update body (``vat_rate`` a decimal percent string)."""
    rate = decimal_of(body.get("vat_rate"), "vat_rate")
    if not Decimal(0) <= rate <= Decimal(100):
        raise SmartyError(400, "vat_rate must be between 0 and 100")
    name = _text(body, "vat_name", required=True, limit=50)
    for other in org.records["vatrates"].values():
        if other["vat_name"] == name and other["vat_id"] != vat_id:
            raise SmartyError(400, f"vat_name {name!r} is already used")
    return {
        "vat_id": vat_id,
        "vat_type": _text(body, "vat_type", required=True),
        "vat_rate": format(rate.normalize(), "f"),
        "vat_name": name,
    }


def _lines(
    org: Organisation, body: dict[str, Any], tax_mode: str
) -> tuple[list[Any], Decimal, Decimal]:
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise SmartyError(400, "items is required: at least one line item")
    lines: list[dict[str, Any]] = []
    subtotal = tax = Decimal(0)
    for n, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise SmartyError(400, f"items[{n}] must be an object")
        quantity = decimal_of(raw.get("quantity", 1), f"items[{n}].quantity")
        price = decimal_of(raw.get("price"), f"items[{n}].price")
        account_id = _account(org, raw.get("account_id"), f"items[{n}].account_id")
        if account_id is None:
            raise SmartyError(400, f"items[{n}].account_id is required")
        item_id = None
        if raw.get("item_id") not in (None, ""):
            item_id = _int_id(raw["item_id"], f"items[{n}].item_id")
            if item_id not in org.records["items"]:
                raise SmartyError(400, f"items[{n}].item_id {item_id} is not an item")
        discount = Decimal(0)
        if raw.get("discount") not in (None, ""):
            discount = decimal_of(raw["discount"], f"items[{n}].discount")
        gross = quantity * price
        if raw.get("discount_type") == "percent":
            gross -= gross * discount / 100
        else:
            gross -= discount
        vat = _vat(org, raw.get("vat"), f"items[{n}].vat")
        rate = Decimal(vat["vat_rate"]) if vat and tax_mode != "NO VAT" else Decimal(0)
        if tax_mode == "Inclusive":
            net = gross * 100 / (100 + rate)
            line_tax = gross - net
        else:
            net = gross
            line_tax = gross * rate / 100
        subtotal += net.quantize(Decimal("0.01"))
        tax += line_tax.quantize(Decimal("0.01"))
        lines.append(
            {
                "item_id": item_id,
                "description": _text(raw, "description"),
                "account_id": account_id,
                "quantity": format(quantity.normalize(), "f"),
                "price": format(price, "f"),
                "discount": format(discount, "f"),
                "discount_type": _text(raw, "discount_type"),
                "vat": vat["vat_name"] if vat else "",
            }
        )
    return lines, subtotal, tax


def document(
    org: Organisation, kind: str, body: dict[str, Any], doc_id: int, old: dict[str, Any] | None
) -> dict[str, Any]:
    """An invoice (``kind`` ``invoices``) or bill (``bills``) from a create or update body."""
    is_invoice = kind == "invoices"
    contact_id = (
        _int_id(body.get("contact_id"), "contact_id")
        if body.get("contact_id")
        not in (
            None,
            "",
        )
        else None
    )
    if contact_id is None:
        raise SmartyError(400, "contact_id is required")
    holder = org.records["contacts"].get(contact_id)
    if holder is None:
        raise SmartyError(400, f"contact_id {contact_id} is not a contact of this organization")
    tax_mode = _text(body, "tax_mode", required=True)
    if tax_mode not in TAX_MODES:
        raise SmartyError(400, f"tax_mode must be one of: {', '.join(TAX_MODES)}")
    currency = _text(body, "currency", required=True, limit=3).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise SmartyError(400, "currency must be an ISO 4217 code")
    rate = decimal_of(body.get("exchange_rate", "1"), "exchange_rate")
    issued, due = _date(body, "date"), _date(body, "due_date")
    if due < issued:
        raise SmartyError(400, "due_date is before date")
    lines, subtotal, tax = _lines(org, body, tax_mode)
    number_field = "invoice_number" if is_invoice else "bill_number"
    number = _text(body, number_field, limit=50)
    if old is not None and not number:
        number = old[number_field]
    if not number:
        if is_invoice:
            org.invoice_number += 1
            number = f"INV_{org.invoice_number}"
        else:
            org.bill_number += 1
            number = f"EXP_{org.bill_number}"
    total = subtotal + tax
    state = old["state"] if old is not None else "Draft"
    if old is None and not is_invoice and body.get("state") not in (None, "", "Draft", "Approve"):
        raise SmartyError(400, "state must be Draft or Approve")
    if old is None and not is_invoice and body.get("state") == "Approve":
        state = "Sent"
    record: dict[str, Any] = {
        f"{kind[:-1]}_id": doc_id,
        "contact_id": contact_id,
        number_field: number,
        "date": issued,
        "due_date": due,
        "reference": _text(body, "reference", limit=255),
        "currency": currency,
        "tax_mode": tax_mode,
        "state": state,
        "customer_note": _text(body, "customer_note"),
        "transaction_type": "Invoice" if is_invoice else "Bill",
        "subtotal": money(subtotal),
        "total": money(total),
        "total_before_cis": money(total),
        "balance": money(total),
        "tax": money(tax),
        "exchange_rate": format(rate, "f"),
        "labour": "0.00",
        "display_name": holder["display_name"],
        "contact_name": holder["display_name"],
        "email": holder["email"],
        "contact_country": holder["contact_country"],
        "contact_city": holder["contact_city"],
        "contact_state": holder["contact_state"],
        "contact_postcode": holder["contact_postcode"],
        "address_line1": holder["address_line1"],
        "address_line2": holder["address_line2"],
        "has_payment": False,
        "create_source": "",
        "source_create_id": "0",
        "items": lines,
    }
    if is_invoice:
        record.update(
            {
                "payment_terms": body.get("payment_terms") or 0,
                "term_condition": _text(body, "term_condition"),
                "auto_number_creation": body.get("auto_number_creation", True),
                "is_writeoff": False,
                "write_off_amount": 0,
                "write_off_date": "",
                "reminder_status": "Start",
            }
        )
    return record


#: Document state transitions: action -> (states it applies to, resulting state).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "sent": (("Draft",), "Sent"),
    "void": (("Draft", "Sent", "Overdue"), "Void"),
    "draft": (("Void",), "Draft"),
    "writeoff": (("Sent", "Overdue", "Partialpaid"), "Paid"),
    "cancelwriteoff": (("Paid",), "Sent"),
}


def transition(kind: str, record: dict[str, Any], action: str) -> dict[str, Any]:
    """Apply ``GET /{kind}/{id}/state/{action}``. Raises SmartyError 404 for an action the
    kind does not have, 400 when the document's state does not allow it."""
    allowed = ("sent", "void", "draft", "writeoff", "cancelwriteoff")
    if kind == "bills":
        allowed = ("sent", "void", "draft")
    if action not in allowed:
        raise SmartyError(404, f"Unknown state {action!r}")
    sources, target = TRANSITIONS[action]
    if record["state"] not in sources:
        raise SmartyError(
            400,
            f"A {record['transaction_type'].lower()} in state {record['state']} cannot be "
            f"marked {target}",
        )
    if action == "void" and record.get("has_payment"):
        raise SmartyError(400, "A document with payments cannot be voided")
    record["state"] = target
    if action == "writeoff":
        record["is_writeoff"], record["write_off_amount"] = True, record["balance"]
        record["write_off_date"], record["balance"] = dt.date.today().isoformat(), "0.00"
    if action == "cancelwriteoff":
        record["balance"], record["is_writeoff"] = str(record["write_off_amount"]), False
        record["write_off_amount"], record["write_off_date"] = 0, ""
    return record
