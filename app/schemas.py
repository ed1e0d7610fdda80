"""Shared msgspec bases and value checks for request and response bodies."""

from __future__ import annotations

from functools import cache
from typing import Annotated

import msgspec
import pycountry
from babel.numbers import get_currency_precision, list_currencies

from app.errors import Unprocessable


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of every request body: unknown fields are a 422, as in Monite."""


class Response(msgspec.Struct, kw_only=True):
    """Base of every response body."""


#: Money: integer minor units (cents, pence, yen), never negative in a request.
MinorUnits = Annotated[int, msgspec.Meta(ge=0, le=9_007_199_254_740_991)]
#: Quantity of a line: non-negative.
Quantity = Annotated[float, msgspec.Meta(ge=0)]
#: A rate in percent x 100 (12.5% is 1250), 0..1000% (compound rates exceed 100%).
RateBasisPoints = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
CurrencyCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
CountryCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
#: Bounded text, as long as the columns that keep it (a longer value is a 422 naming the
#: field, on both databases, instead of a database error on PostgreSQL).
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LegalName = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
City = Annotated[str, msgspec.Meta(max_length=200)]
PostalCode = Annotated[str, msgspec.Meta(max_length=32)]
AddressLine = Annotated[str, msgspec.Meta(max_length=300)]
Email = Annotated[str, msgspec.Meta(max_length=320)]


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str, loc: list[str | int]) -> str:
    """Return ``code`` if it is an ISO 4217 currency babel knows; else raise a 422 at ``loc``."""
    if code not in _currencies():
        raise Unprocessable.field(loc, f"unknown currency {code!r} (ISO 4217 expected)")
    return code


def currency_exponent(code: str) -> int:
    """Decimal places of the currency's minor unit (EUR 2, JPY 0, BHD 3), from babel/CLDR."""
    return get_currency_precision(code)


def check_country(code: str, loc: list[str | int]) -> str:
    """Return ``code`` if it is an ISO 3166-1 alpha-2 country; else raise a 422 at ``loc``."""
    if pycountry.countries.get(alpha_2=code) is None:
        raise Unprocessable.field(loc, f"unknown country {code!r} (ISO 3166-1 alpha-2 expected)")
    return code
