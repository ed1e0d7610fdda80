"""Counterpart bodies, in Monite's shape (``CounterpartCreatePayload``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from app.schemas import CountryCode, Request, Response


class CounterpartAddress(Request):
    """Monite ``CounterpartAddress``; ``country`` is ISO 3166-1 alpha-2."""

    country: CountryCode
    city: str
    postal_code: str | None = None
    line1: str | None = None
    line2: str | None = None
    state: str | None = None


class OrganizationCreate(Request):
    legal_name: str
    is_customer: bool = False
    is_vendor: bool = False
    email: str | None = None
    phone: str | None = None
    address: CounterpartAddress | None = None


class IndividualCreate(Request):
    first_name: str
    last_name: str
    is_customer: bool = False
    is_vendor: bool = False
    email: str | None = None
    phone: str | None = None
    address: CounterpartAddress | None = None


class CounterpartCreate(Request):
    type: Literal["organization", "individual"]
    organization: OrganizationCreate | None = None
    individual: IndividualCreate | None = None


class OrganizationUpdate(Request):
    legal_name: str | None = None
    is_customer: bool | None = None
    is_vendor: bool | None = None
    email: str | None = None
    phone: str | None = None
    address: CounterpartAddress | None = None


class IndividualUpdate(Request):
    first_name: str | None = None
    last_name: str | None = None
    is_customer: bool | None = None
    is_vendor: bool | None = None
    email: str | None = None
    phone: str | None = None
    address: CounterpartAddress | None = None


class CounterpartUpdate(Request):
    organization: OrganizationUpdate | None = None
    individual: IndividualUpdate | None = None


class AddressOut(Response):
    country: str | None
    city: str | None
    postal_code: str | None
    line1: str | None
    line2: str | None
    state: str | None


class OrganizationOut(Response):
    legal_name: str
    is_customer: bool
    is_vendor: bool
    email: str | None
    phone: str | None
    address: AddressOut | None


class IndividualOut(Response):
    first_name: str
    last_name: str
    is_customer: bool
    is_vendor: bool
    email: str | None
    phone: str | None
    address: AddressOut | None


class CounterpartOut(Response):
    id: uuid.UUID
    type: str
    created_at: dt.datetime
    updated_at: dt.datetime
    organization: OrganizationOut | None = None
    individual: IndividualOut | None = None
