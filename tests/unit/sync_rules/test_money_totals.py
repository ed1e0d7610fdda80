"""Money conversion and line/document totals (minor units, ROUND_HALF_UP)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from sync_rules import (
    Discount,
    LineItem,
    LineTotals,
    compute_totals,
    currency_precision,
    line_totals,
    to_major,
    to_minor,
)

XERO_BILLS = Path(__file__).parents[2] / "fixtures" / "codat" / "xero" / "bills.json"


def test_currency_precision_comes_from_babel():
    assert [currency_precision(c) for c in ("GBP", "EUR", "JPY", "BHD", "KWD")] == [2, 2, 0, 3, 3]
    with pytest.raises(ValueError, match="GBX"):
        currency_precision("GBX")


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (1250, "GBP", "12.50"),
        (5, "GBP", "0.05"),
        (0, "GBP", "0.00"),
        (1250, "JPY", "1250"),
        (1250, "BHD", "1.250"),
        (-1, "KWD", "-0.001"),
    ],
)
def test_to_major_keeps_the_currencys_decimals(minor, currency, major):
    value = to_major(minor, currency)
    assert value == Decimal(major)
    assert str(value) == major


def test_to_minor_rounds_half_up():
    assert to_minor(Decimal("12.505"), "GBP") == 1251
    assert to_minor(Decimal("12.504"), "GBP") == 1250
    assert to_minor(1211.2, "GBP") == 121120
    assert to_minor("1250", "JPY") == 1250
    assert to_minor(Decimal("1.2345"), "BHD") == 1235


def test_line_totals_quantity_times_unit_price_with_tax():
    line = LineItem(quantity=Decimal(8), unit_price=3200, tax_rate=2000)
    assert line_totals(line) == LineTotals(
        gross=25600, discount=0, net=25600, tax=5120, total=30720
    )


def test_amount_and_percentage_line_discounts():
    amount = LineItem(quantity=Decimal(2), unit_price=50000, discount=Discount(amount=2500))
    percent = LineItem(
        quantity=Decimal(2),
        unit_price=50000,
        tax_rate=2000,
        discount=Discount(amount=1250, type="percentage"),
    )
    assert line_totals(amount) == LineTotals(
        gross=100000, discount=2500, net=97500, tax=0, total=97500
    )
    assert line_totals(percent) == LineTotals(
        gross=100000, discount=12500, net=87500, tax=17500, total=105000
    )


def test_rounding_is_half_up_not_half_even():
    # net 10.10 at 5% is 0.505 -> 0.51 (half-even would give 0.50)
    line = LineItem(quantity=Decimal(1), unit_price=1010, tax_rate=500)
    assert line_totals(line).tax == 51
    # 1.5 x 3.33 = 4.995 -> 5.00
    assert line_totals(LineItem(quantity=Decimal("1.5"), unit_price=333)).net == 500


def test_net_is_rounded_once_after_the_discount():
    # 3 x 3.33 = 9.99, less 33.33% = 6.660333 -> 6.66; discount shown as 3.33
    line = LineItem(
        quantity=Decimal(3), unit_price=333, discount=Discount(amount=3333, type="percentage")
    )
    totals = line_totals(line)
    assert (totals.gross, totals.discount, totals.net) == (999, 333, 666)


def test_float_quantity_is_read_as_written():
    assert line_totals(LineItem(quantity=1.1, unit_price=1000)).net == 1100
    assert line_totals(LineItem(quantity=0.285, unit_price=1000)).net == 285


def test_resolved_rate_is_used_when_given():
    line = LineItem(quantity=Decimal(1), unit_price=10000)
    assert line_totals(line).tax == 0
    assert line_totals(line, 2000).tax == 2000


def test_document_totals_are_sums_of_rounded_lines():
    lines = [
        LineItem(quantity=Decimal(1), unit_price=1010, tax_rate=500),
        LineItem(quantity=Decimal(1), unit_price=1010, tax_rate=500),
        LineItem(
            quantity=Decimal(2),
            unit_price=50000,
            tax_rate=2000,
            discount=Discount(amount=1000, type="percentage"),
        ),
    ]
    totals = compute_totals(lines)
    assert (totals.discount, totals.subtotal, totals.tax, totals.total) == (
        10000,
        92020,
        18102,
        110122,
    )
    assert totals.subtotal + totals.tax == totals.total


def test_document_totals_with_resolved_rates():
    lines = [LineItem(quantity=Decimal(1), unit_price=100), LineItem(quantity=1, unit_price=100)]
    assert compute_totals(lines, [2000, None]).tax == 20
    with pytest.raises(ValueError):
        compute_totals(lines, [2000])


def test_totals_match_a_real_xero_bill():
    bill = json.loads(XERO_BILLS.read_text())["results"][0]
    lines = [
        LineItem(
            quantity=Decimal(str(item["quantity"])),
            unit_price=to_minor(item["unitAmount"], bill["currency"]),
            tax_rate=int(item["taxRateRef"]["effectiveTaxRate"] * 100),
        )
        for item in bill["lineItems"]
    ]
    totals = compute_totals(lines)
    assert to_major(totals.subtotal, "GBP") == Decimal(str(bill["subTotal"]))
    assert to_major(totals.tax, "GBP") == Decimal(str(bill["taxAmount"]))
    assert to_major(totals.total, "GBP") == Decimal(str(bill["totalAmount"]))
    for amounts, item in zip(totals.lines, bill["lineItems"], strict=True):
        assert to_major(amounts.tax, "GBP") == Decimal(str(item["taxAmount"]))
