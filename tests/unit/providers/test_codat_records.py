"""Every Codat example file decodes through the client's page path, without losing fields.

The fixtures (tests/fixtures/codat/, see its README) are Codat's published examples for 18
platforms; each is served by a MockTransport to ``CodatClient.get_page``, i.e. the same
request -> ``decode_page`` path a real pull uses.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from app.providers import parse_datetime
from app.providers.base import CamelStruct, UtcStruct
from app.providers.codat import (
    RECORD_TYPES,
    Bill,
    CodatClient,
    Customer,
    Invoice,
    decode_page,
    format_cursor,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "codat"
FILES = sorted(FIXTURES.glob("*/*.json"))

# Source key -> record attribute, checked wherever the source has a non-empty value.
TEXT_FIELDS: dict[str, dict[str, str]] = {
    "accounts": {
        "name": "name",
        "nominalCode": "nominal_code",
        "fullyQualifiedName": "fully_qualified_name",
        "fullyQualifiedCategory": "fully_qualified_category",
        "currency": "currency",
        "type": "type",
        "status": "status",
    },
    "taxRates": {"name": "name", "code": "code", "status": "status"},
    "customers": {
        "customerName": "customer_name",
        "contactName": "contact_name",
        "emailAddress": "email_address",
        "taxNumber": "tax_number",
        "registrationNumber": "registration_number",
        "defaultCurrency": "default_currency",
        "status": "status",
    },
    "suppliers": {
        "supplierName": "supplier_name",
        "contactName": "contact_name",
        "emailAddress": "email_address",
        "taxNumber": "tax_number",
        "registrationNumber": "registration_number",
        "defaultCurrency": "default_currency",
        "status": "status",
    },
    "invoices": {"invoiceNumber": "invoice_number", "currency": "currency", "status": "status"},
    "bills": {"reference": "reference", "currency": "currency", "status": "status"},
}
AMOUNT_FIELDS: dict[str, dict[str, str]] = {
    "accounts": {"currentBalance": "current_balance"},
    "taxRates": {"effectiveTaxRate": "effective_tax_rate", "totalTaxRate": "total_tax_rate"},
    "invoices": {
        "subTotal": "sub_total",
        "totalTaxAmount": "total_tax_amount",
        "totalAmount": "total_amount",
        "amountDue": "amount_due",
    },
    "bills": {
        "subTotal": "sub_total",
        "taxAmount": "tax_amount",
        "totalAmount": "total_amount",
        "amountDue": "amount_due",
    },
}
LINE_AMOUNTS = {
    "unitAmount": "unit_amount",
    "quantity": "quantity",
    "discountAmount": "discount_amount",
    "subTotal": "sub_total",
    "taxAmount": "tax_amount",
    "totalAmount": "total_amount",
}
DATE_FIELDS = {
    "modifiedDate": "modified_date",
    "sourceModifiedDate": "source_modified_date",
    "issueDate": "issue_date",
    "dueDate": "due_date",
    "paidOnDate": "paid_on_date",
    "date": "date",
}


def _serve_files() -> httpx.MockTransport:
    """/companies/{platform}/data/{dataType} -> the fixture file, byte for byte."""

    def handler(request: httpx.Request) -> httpx.Response:
        _, _, platform, _, data_type = request.url.path.split("/")
        return httpx.Response(200, content=(FIXTURES / platform / f"{data_type}.json").read_bytes())

    return httpx.MockTransport(handler)


def _aware_datetimes(value: Any, path: str = "$") -> list[str]:
    """Paths of naive or non-UTC datetimes anywhere inside a decoded struct."""
    bad = []
    if isinstance(value, datetime):
        if value.tzinfo is not UTC:
            bad.append(path)
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            bad += _aware_datetimes(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            bad += _aware_datetimes(item, f"{path}[{i}]")
    return bad


def test_fixture_set_is_complete() -> None:
    assert len({f.parent.name for f in FILES}) == 18
    assert {f.stem for f in FILES} >= {
        "accounts",
        "taxRates",
        "customers",
        "suppliers",
        "invoices",
        "bills",
    }


async def test_every_fixture_decodes_through_the_client_page_path() -> None:
    client = CodatClient(
        "https://codat.test", "key", transport=_serve_files(), rng=random.Random(1)
    )
    checked_countries: set[str] = set()
    decoded = 0
    for path in FILES:
        data_type, platform = path.stem, path.parent.name
        source = json.loads(path.read_bytes())["results"]

        page = await client.get_page(platform, data_type)

        where = f"{platform}/{data_type}"
        assert page.invalid == [], where
        assert len(page.records) == len(source) == len(page.raw), where
        assert isinstance(page.records[0], RECORD_TYPES[data_type]), where
        for record, raw, src in zip(page.records, page.raw, source, strict=True):
            decoded += 1
            assert msgspec.json.decode(raw) == src, f"{where}: raw JSON kept as sent"
            assert isinstance(record.id, str) and record.id, where
            assert record.id == str(src["id"]), where
            assert _aware_datetimes(record) == [], where
            for key, attr in DATE_FIELDS.items():
                if src.get(key):
                    assert getattr(record, attr) == parse_datetime(src[key]), (where, key)
            if "metadata" in src:
                assert record.is_deleted is src["metadata"]["isDeleted"], where
            for key, attr in TEXT_FIELDS.get(data_type, {}).items():
                if src.get(key):
                    assert getattr(record, attr) == src[key], (where, key)
            for key, attr in AMOUNT_FIELDS.get(data_type, {}).items():
                if key in src:
                    value = getattr(record, attr)
                    assert isinstance(value, Decimal), (where, key)
                    assert value == Decimal(str(src[key])), (where, key)
            for line, src_line in zip(
                getattr(record, "line_items", []), src.get("lineItems", []), strict=True
            ):
                for key, attr in LINE_AMOUNTS.items():
                    if key in src_line:
                        assert getattr(line, attr) == Decimal(str(src_line[key])), (where, key)
                for ref in ("accountRef", "taxRateRef", "itemRef"):
                    if src_line.get(ref, {}).get("id"):
                        attr = {"accountRef": "account_ref", "taxRateRef": "tax_rate_ref"}.get(
                            ref, "item_ref"
                        )
                        assert getattr(line, attr).id == src_line[ref]["id"], (where, ref)
            if data_type == "invoices" and src.get("customerRef"):
                assert record.customer_ref.id == src["customerRef"]["id"], where
            if data_type == "bills" and src.get("supplierRef"):
                assert record.supplier_ref.id == src["supplierRef"]["id"], where
            for address, src_address in zip(
                getattr(record, "addresses", []), src.get("addresses", []), strict=True
            ):
                for key in ("line1", "line2", "city", "region", "country"):
                    assert getattr(address, key) == src_address.get(key), (where, key)
                assert address.postal_code == src_address.get("postalCode"), where
                if src_address.get("country"):
                    checked_countries.add(src_address["country"])
    await client.aclose()
    assert decoded == 331
    # Country names reach the matcher verbatim, to be normalised there.
    assert {"United Kingdom", "GB", "United States", "Great Britain"} <= checked_countries


# --------------------------------------------------------------------------------------------
# What real platforms send beyond the examples
# --------------------------------------------------------------------------------------------


def _page(*results: dict[str, Any]) -> bytes:
    return json.dumps(
        {"results": list(results), "pageNumber": 1, "pageSize": 100, "totalResults": len(results)}
    ).encode()


def test_numeric_ids_and_codes_become_strings() -> None:
    page = decode_page(
        "customers",
        _page(
            {
                "id": 9,
                "customerName": "Maddox",
                "taxNumber": 123456789,
                "addresses": [{"type": "Billing", "postalCode": 10115, "country": "Germany"}],
            }
        ),
    )
    (customer,) = page.records
    assert isinstance(customer, Customer)
    assert customer.id == "9"
    assert customer.tax_number == "123456789"
    assert customer.addresses[0].postal_code == "10115"
    assert customer.addresses[0].country == "Germany"


def test_line_refs_with_numeric_ids_become_strings() -> None:
    page = decode_page(
        "bills",
        _page({"id": "b1", "lineItems": [{"accountRef": {"id": 400}, "itemRef": {"id": 7.0}}]}),
    )
    (bill,) = page.records
    assert isinstance(bill, Bill)
    assert bill.line_items[0].account_ref.id == "400"
    assert bill.line_items[0].item_ref.id == "7"


def test_dates_without_offset_empty_or_bare_are_accepted() -> None:
    page = decode_page(
        "invoices",
        _page(
            {
                "id": "i1",
                "issueDate": "2024-02-29",
                "dueDate": "",
                "paidOnDate": "2024-03-01T12:00:00+02:00",
                "modifiedDate": "2024-03-02T10:11:12.1234567",
                "sourceModifiedDate": "not a date",
                "lineItems": None,
            }
        ),
    )
    (invoice,) = page.records
    assert isinstance(invoice, Invoice)
    assert invoice.issue_date == datetime(2024, 2, 29, tzinfo=UTC)
    assert invoice.due_date is None
    assert invoice.paid_on_date == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert invoice.modified_date == datetime(2024, 3, 2, 10, 11, 12, 123457, tzinfo=UTC)
    assert invoice.source_modified_date is None
    assert invoice.line_items == []


def test_nulls_and_missing_keys_decode_to_defaults() -> None:
    page = decode_page(
        "accounts", _page({"id": "a1", "name": None, "currentBalance": None}, {"id": "a2"})
    )
    first, second = page.records
    assert first.name is None and first.current_balance is None
    assert second.modified_date is None and not second.is_deleted


def test_a_record_without_id_is_set_aside_and_the_rest_is_kept() -> None:
    page = decode_page("suppliers", _page({"id": "s1"}, {"supplierName": "No id"}, {"id": "s3"}))
    assert [s.id for s in page.records] == ["s1", "s3"]
    (invalid,) = page.invalid
    assert invalid.index == 1
    assert json.loads(bytes(invalid.raw)) == {"supplierName": "No id"}
    assert "id" in invalid.error


def test_unknown_fields_are_ignored() -> None:
    page = decode_page("taxRates", _page({"id": "t1", "name": "VAT", "somethingNew": {"x": 1}}))
    assert page.records[0].name == "VAT"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-15T20:35:10Z", datetime(2023, 3, 15, 20, 35, 10, tzinfo=UTC)),
        ("2021-12-20T00:00:00", datetime(2021, 12, 20, tzinfo=UTC)),
        ("2021-12-20T01:00:00+01:00", datetime(2021, 12, 20, tzinfo=UTC)),
        ("2020-02-24T12:00:51.027Z", datetime(2020, 2, 24, 12, 0, 51, 27000, tzinfo=UTC)),
        ("2021-12-20", datetime(2021, 12, 20, tzinfo=UTC)),
        ("/Date(1600000000000)/", datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)),
        ("", None),
    ],
)
def test_parse_datetime(text: str, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


def test_every_struct_with_a_datetime_normalises_it_to_utc() -> None:
    """A datetime field on a struct that is not a UtcStruct would decode naive."""

    def subclasses(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    for cls in subclasses(CamelStruct):
        if msgspec.structs.fields(cls) and any(
            datetime in (getattr(f.type, "__args__", None) or (f.type,))
            for f in msgspec.structs.fields(cls)
        ):
            assert issubclass(cls, UtcStruct), cls.__name__


def test_cursor_is_utc_whole_seconds() -> None:
    assert format_cursor(datetime(2024, 1, 1, 0, 0, 0, 999999)) == "2024-01-01T00:00:00Z"
