"""Mapping payables, receivables, counterparts and products to Codat's push payloads."""

import datetime as dt
import json
from decimal import Decimal

import msgspec
import pytest

from sync_rules import (
    Address,
    Counterpart,
    Discount,
    LineItem,
    PayableDoc,
    Product,
    ReceivableDoc,
    bill_status_plan,
    encode_payload,
    invoice_status_plan,
    map_bill,
    map_customer,
    map_invoice,
    map_item,
    map_supplier,
    validate_payable,
    validate_product,
    validate_receivable,
    void_payload,
)

SUPPLIER = Counterpart(id="c1", name="DIISR - Small Business Services", provider_id="sup-1")
CUSTOMER = Counterpart(id="c2", name="Maddox Publishing Group", provider_id="cus-1")


def payable(currency: str = "GBP", status: str = "waiting_to_be_paid", **kw) -> PayableDoc:
    values = {
        "id": "p1",
        "status": status,
        "currency": currency,
        "counterpart": SUPPLIER,
        "document_id": "BILL-7",
        "issue_date": dt.date(2024, 5, 1),
        "due_date": dt.date(2024, 5, 31),
        "line_items": [
            LineItem(
                name="Stationery",
                quantity=Decimal(8),
                unit_price=3200,
                ledger_account_id="la-consulting",
                accounting_tax_rate_id="tr-in20",
            )
        ],
    }
    values.update(kw)
    return PayableDoc(**values)


def receivable(status: str = "issued", **kw) -> ReceivableDoc:
    values = {
        "id": "r1",
        "status": status,
        "currency": "GBP",
        "counterpart": CUSTOMER,
        "document_id": "INV-001",
        "issue_date": dt.date(2024, 5, 1),
        "line_items": [
            LineItem(
                quantity=Decimal(6),
                unit_price=58333,
                discount=Discount(amount=1000, type="percentage"),
                accounting_tax_rate_id="tr-out20",
                product=Product(
                    id="prod-1",
                    name="Project management - daily rate",
                    ledger_account_id="la-other",
                    provider_id="item-1",
                ),
            ),
            LineItem(
                name="Travel",
                quantity=Decimal(1),
                unit_price=4999,
                discount=Discount(amount=999),
                tax_rate=0,
                product=Product(id="prod-2", name="Travel"),
            ),
        ],
    }
    values.update(kw)
    return ReceivableDoc(**values)


def test_bill_in_gbp(ctx):
    doc = payable()
    assert map_bill(doc, validate_payable(doc, ctx)) == {
        "reference": "BILL-7",
        "supplierRef": {"id": "sup-1", "supplierName": "DIISR - Small Business Services"},
        "issueDate": "2024-05-01T00:00:00",
        "dueDate": "2024-05-31T00:00:00",
        "currency": "GBP",
        "lineItems": [
            {
                "description": "Stationery",
                "unitAmount": Decimal("32.00"),
                "quantity": Decimal(8),
                "discountAmount": Decimal("0.00"),
                "subTotal": Decimal("256.00"),
                "taxAmount": Decimal("51.20"),
                "totalAmount": Decimal("307.20"),
                "accountRef": {"id": "acc-consulting"},
                "taxRateRef": {"id": "INPUT2"},
            }
        ],
        "status": "Open",
        "subTotal": Decimal("256.00"),
        "taxAmount": Decimal("51.20"),
        "totalAmount": Decimal("307.20"),
        "amountDue": Decimal("307.20"),
    }


def test_encoded_money_is_json_numbers_with_the_currencys_decimals(ctx):
    doc = payable()
    body = encode_payload(map_bill(doc, validate_payable(doc, ctx)))
    assert b'"unitAmount":32.00' in body
    assert b'"totalAmount":307.20' in body
    assert json.loads(body)["taxAmount"] == 51.2


def test_bill_in_jpy_has_no_decimals(ctx):
    doc = payable(
        "JPY", line_items=[msgspec.structs.replace(payable().line_items[0], unit_price=3200)]
    )
    payload = map_bill(doc, validate_payable(doc, ctx))
    line = payload["lineItems"][0]
    assert (line["unitAmount"], line["subTotal"], line["taxAmount"]) == (
        Decimal(3200),
        Decimal(25600),
        Decimal(5120),
    )
    body = encode_payload(payload)
    assert b'"unitAmount":3200,' in body
    assert b'"totalAmount":30720,' in body


def test_bill_in_a_three_decimal_currency(ctx):
    doc = payable("BHD")
    payload = map_bill(doc, validate_payable(doc, ctx))
    assert str(payload["lineItems"][0]["unitAmount"]) == "3.200"
    assert str(payload["totalAmount"]) == "30.720"
    assert b'"taxAmount":5.120' in encode_payload(payload)


@pytest.mark.parametrize(
    ("status", "codat", "void"),
    [
        ("waiting_to_be_paid", "Open", False),
        ("partially_paid", "Open", False),
        ("paid", "Open", False),
        ("new", "Draft", False),
        ("approve_in_progress", "Draft", False),
        ("canceled", "Open", True),
        ("rejected", "Open", True),
    ],
)
def test_bill_status_plan(status, codat, void):
    plan = bill_status_plan(status)
    assert (plan.push_status, plan.void_after) == (codat, void)


def test_paid_payable_is_pushed_as_an_open_bill_with_its_total_due(ctx):
    doc = payable(status="paid")
    payload = map_bill(doc, validate_payable(doc, ctx))
    assert payload["status"] == "Open"
    assert payload["amountDue"] == payload["totalAmount"]


def test_draft_payable_is_never_mapped(ctx):
    doc = payable(status="draft")
    with pytest.raises(ValueError, match="draft"):
        map_bill(doc, validate_payable(doc, ctx))


@pytest.mark.parametrize(
    ("status", "void"),
    [
        ("issued", False),
        ("overdue", False),
        ("partially_paid", False),
        ("paid", False),
        ("canceled", True),
        ("uncollectible", True),
        ("deleted", True),
    ],
)
def test_invoice_status_plan(status, void):
    plan = invoice_status_plan(status)
    assert (plan.push_status, plan.void_after) == ("Submitted", void)


@pytest.mark.parametrize("status", ["draft", "accepted", "unknown"])
def test_unpushed_invoice_statuses_raise(status):
    with pytest.raises(ValueError):
        invoice_status_plan(status)


def test_canceled_invoice_is_submitted_then_voided(ctx):
    doc = receivable(status="canceled")
    payload = map_invoice(doc, validate_receivable(doc, ctx))
    assert payload["status"] == "Submitted"
    assert invoice_status_plan(doc.status).void_after
    voided = void_payload(payload)
    assert voided["status"] == "Void"
    assert {k: v for k, v in voided.items() if k != "status"} == {
        k: v for k, v in payload.items() if k != "status"
    }
    assert payload["status"] == "Submitted"  # the pushed payload is left as it was


def test_invoice_with_line_discounts(ctx):
    doc = receivable()
    payload = map_invoice(doc, validate_receivable(doc, ctx))
    first, second = payload["lineItems"]
    # 6 x 583.33 = 3499.98, less 10% = 3149.982 -> 3149.98; tax 20% = 629.996 -> 630.00
    assert first == {
        "description": "Project management - daily rate",
        "unitAmount": Decimal("583.33"),
        "quantity": Decimal(6),
        "discountAmount": Decimal("350.00"),
        "discountPercentage": Decimal("10.00"),
        "subTotal": Decimal("3149.98"),
        "taxAmount": Decimal("630.00"),
        "totalAmount": Decimal("3779.98"),
        "accountRef": {"id": "acc-other"},
        "taxRateRef": {"id": "OUTPUT2"},
        "itemRef": {"id": "item-1"},
    }
    # an unlinked product has no itemRef; its account is the entity's default for products
    assert second["discountAmount"] == Decimal("9.99")
    assert second["subTotal"] == Decimal("40.00")
    assert second["taxRateRef"] == {"id": "ZERORATED"}
    assert second["accountRef"] == {"id": "acc-other"}
    assert "itemRef" not in second
    assert {k: payload[k] for k in ("subTotal", "totalTaxAmount", "totalAmount", "amountDue")} == {
        "subTotal": Decimal("3189.98"),
        "totalTaxAmount": Decimal("630.00"),
        "totalAmount": Decimal("3819.98"),
        "amountDue": Decimal("3819.98"),
    }
    assert payload["customerRef"] == {"id": "cus-1", "companyName": "Maddox Publishing Group"}
    assert payload["invoiceNumber"] == "INV-001"
    assert "totalDiscount" not in payload
    assert "dueDate" not in payload


def test_mapping_refuses_a_document_with_problems(ctx):
    doc = receivable(discount=Discount(amount=100))
    validation = validate_receivable(doc, ctx)
    with pytest.raises(ValueError, match="invoice_discount_not_supported"):
        map_invoice(doc, validation)


def test_unlinked_counterpart_needs_the_pushed_id(ctx):
    doc = payable(counterpart=Counterpart(id="c9", name="New Supplier"))
    validation = validate_payable(doc, ctx)
    assert validation.ok
    with pytest.raises(ValueError, match="not linked"):
        map_bill(doc, validation)
    payload = map_bill(doc, validation, supplier_id="sup-new")
    assert payload["supplierRef"] == {"id": "sup-new", "supplierName": "New Supplier"}


def test_validation_of_another_document_is_refused(ctx):
    doc = payable()
    other = payable(line_items=doc.line_items * 2)
    with pytest.raises(ValueError, match="does not belong"):
        map_bill(other, validate_payable(doc, ctx))


def test_supplier_and_customer_payloads():
    counterpart = Counterpart(
        id="c1",
        name="Acme Ltd",
        email="ap@acme.test",
        phone="+44 20 7946 0000",
        address=Address(country="GB", city="London", postal_code="WC1X 0BE", line1="Ink Rooms"),
    )
    address = {
        "type": "Billing",
        "line1": "Ink Rooms",
        "city": "London",
        "postalCode": "WC1X 0BE",
        "country": "GB",
    }
    assert map_supplier(counterpart, "GBP") == {
        "supplierName": "Acme Ltd",
        "emailAddress": "ap@acme.test",
        "phone": "+44 20 7946 0000",
        "addresses": [address],
        "defaultCurrency": "GBP",
        "status": "Active",
    }
    assert map_customer(Counterpart(id="c2", name="Solo")) == {
        "customerName": "Solo",
        "addresses": [],
        "status": "Active",
    }


def test_item_payload(ctx):
    product = Product(
        id="prod-1",
        name="Widget",
        type="product",
        description="A blue widget",
        price=1999,
        currency="KWD",
        ledger_account_id=None,
    )
    assert map_item(product, validate_product(product, ctx)) == {
        "name": "Widget",
        "itemStatus": "Active",
        "type": "NonInventory",
        "isBillItem": False,
        "isInvoiceItem": True,
        "invoiceItem": {
            "description": "A blue widget",
            "unitPrice": Decimal("1.999"),
            "accountRef": {"id": "acc-other"},
        },
    }
    ctx.default_products_ledger_account_id = None
    with pytest.raises(ValueError):
        map_item(product, validate_product(product, ctx))
