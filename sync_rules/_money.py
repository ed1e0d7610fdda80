"""Money: minor units <-> Codat's decimal major units, and line and document totals.

Rounding: every amount is rounded to whole minor units with ROUND_HALF_UP (half away from
zero, the commercial rounding accounting systems show on invoices), once per line for the net
amount (quantity x unit price - discount) and once per line for the tax on that net amount.
Document totals are sums of the rounded line amounts, so they always equal the lines' sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import msgspec
from babel.numbers import get_currency_precision, is_currency

from ._documents import Discount, LineItem

_HUNDRED_PERCENT = Decimal(10000)  # rates and percentage discounts are percent x 100


def currency_precision(currency: str) -> int:
    """Number of decimals of an ISO 4217 currency (babel/CLDR): GBP 2, JPY 0, BHD and KWD 3.

    Raises ValueError for a code babel does not know.
    """
    if not is_currency(currency):
        raise ValueError(f"unknown currency {currency!r}")
    return get_currency_precision(currency)


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units to a Decimal in major units with the currency's exact number of decimals
    (1250 GBP -> Decimal("12.50"); 1250 JPY -> Decimal("1250"); 1250 BHD -> Decimal("1.250")).
    """
    return Decimal(amount).scaleb(-currency_precision(currency))


def to_minor(amount: Decimal | float | int | str, currency: str) -> int:
    """Codat's major-unit amount to integer minor units, rounded ROUND_HALF_UP
    (Decimal("12.505") GBP -> 1251; a float is read through its shortest repr).
    """
    scaled = as_decimal(amount).scaleb(currency_precision(currency))
    return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))


def as_decimal(value: Decimal | float | int | str) -> Decimal:
    """A Decimal from a Decimal, int, str or float (floats through `repr`, so 1.1 is 1.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


class LineTotals(msgspec.Struct, kw_only=True, frozen=True):
    """One line's amounts in minor units: `gross` (quantity x unit price), `discount`,
    `net` (gross - discount, Codat's line `subTotal`), `tax`, `total` (net + tax).
    """

    gross: int
    discount: int
    net: int
    tax: int
    total: int


class Totals(msgspec.Struct, kw_only=True, frozen=True):
    """A document's amounts in minor units: sums of its `lines`' rounded amounts.

    `subtotal` is after line discounts and before tax (Codat's `subTotal`), `tax` is Codat's
    `taxAmount` / `totalTaxAmount`, `total` is `totalAmount`.
    """

    lines: list[LineTotals]
    discount: int
    subtotal: int
    tax: int
    total: int


def discount_amount(gross: Decimal, discount: Discount | None) -> Decimal:
    """The discount on an unrounded gross line amount (minor units), not yet rounded."""
    if discount is None:
        return Decimal(0)
    if discount.type == "percentage":
        return gross * Decimal(discount.amount) / _HUNDRED_PERCENT
    return Decimal(discount.amount)


def line_totals(line: LineItem, tax_rate: int | None = None) -> LineTotals:
    """Amounts of one line in minor units.

    `tax_rate` (percent x 100) overrides `line.tax_rate`, e.g. the rate of the pulled tax rate
    the line resolved to; no rate at all means no tax. The net amount is
    quantity x unit_price - discount rounded once; the tax is net x rate rounded once.
    """
    rate = line.tax_rate if tax_rate is None else tax_rate
    gross = as_decimal(line.quantity) * line.unit_price
    net = _round(gross - discount_amount(gross, line.discount))
    gross_minor = _round(gross)
    tax = _round(net * Decimal(rate or 0) / _HUNDRED_PERCENT)
    return LineTotals(
        gross=gross_minor, discount=gross_minor - net, net=net, tax=tax, total=net + tax
    )


def compute_totals(
    lines: Sequence[LineItem], tax_rates: Sequence[int | None] | None = None
) -> Totals:
    """Totals of a document's lines in minor units (see `line_totals`).

    `tax_rates`, when given, holds one rate (percent x 100, or None for the line's own) per line,
    in the lines' order. Raises ValueError when its length differs from `lines`.
    """
    rates: Sequence[int | None] = [None] * len(lines) if tax_rates is None else tax_rates
    if len(rates) != len(lines):
        raise ValueError(f"{len(rates)} tax rates for {len(lines)} lines")
    per_line = [line_totals(line, rate) for line, rate in zip(lines, rates, strict=True)]
    return Totals(
        lines=per_line,
        discount=sum(t.discount for t in per_line),
        subtotal=sum(t.net for t in per_line),
        tax=sum(t.tax for t in per_line),
        total=sum(t.total for t in per_line),
    )
