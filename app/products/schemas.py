"""Product bodies, in Monite's shape (``ProductServiceRequest``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from app.schemas import CurrencyCode, MinorUnits, Request, Response

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
SmallestAmount = Annotated[float, msgspec.Meta(ge=0, le=2_147_483_647)]


class Price(Request):
    """Monite ``Price``: ``value`` in minor units of ``currency``."""

    currency: CurrencyCode
    value: MinorUnits


class ProductCreate(Request):
    """Monite ``ProductServiceRequest``.

    ``smallest_amount`` is kept and returned (not enforced on invoice lines).
    ``measure_unit_id`` names one of the entity's measure units (``/v1/measure_units``; 422
    otherwise) and is kept and returned.
    """

    name: Name
    type: Literal["product", "service"] = "product"
    description: str | None = None
    price: Price | None = None
    external_reference: str | None = None
    ledger_account_id: uuid.UUID | None = None
    smallest_amount: SmallestAmount | None = None
    measure_unit_id: uuid.UUID | None = None


class ProductUpdate(Request):
    """Monite ``ProductServiceUpdate``; ``measure_unit_id`` checked as in
    :class:`ProductCreate`."""

    name: Name | None = None
    type: Literal["product", "service"] | None = None
    description: str | None = None
    price: Price | None = None
    external_reference: str | None = None
    ledger_account_id: uuid.UUID | None = None
    smallest_amount: SmallestAmount | None = None
    measure_unit_id: uuid.UUID | None = None


class PriceOut(Response):
    currency: str
    value: int


class ProductOut(Response):
    """Monite ``ProductServiceResponse``."""

    id: uuid.UUID
    entity_id: uuid.UUID
    name: str
    type: str
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str | None = None
    price: PriceOut | None = None
    external_reference: str | None = None
    ledger_account_id: uuid.UUID | None = None
    smallest_amount: float | None = None
    #: One of the entity's measure units (products a pull creates: its stub unit).
    measure_unit_id: uuid.UUID | None = None
