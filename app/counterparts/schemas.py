"""Counterpart bodies, in Monite's shape (``CounterpartCreatePayload``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from app.schemas import (
    AddressLine,
    City,
    CountryCode,
    Email,
    LegalName,
    Name,
    PostalCode,
    Request,
    Response,
)


class CounterpartAddress(Request):
    """Monite ``CounterpartAddress``; ``country`` is ISO 3166-1 alpha-2."""

    country: CountryCode
    city: City
    postal_code: PostalCode | None = None
    line1: AddressLine | None = None
    line2: AddressLine | None = None
    state: City | None = None


class OrganizationCreate(Request):
    legal_name: LegalName
    is_customer: bool = False
    is_vendor: bool = False
    email: Email | None = None
    phone: Phone | None = None
    address: CounterpartAddress | None = None


class IndividualCreate(Request):
    first_name: Name
    last_name: Name
    is_customer: bool = False
    is_vendor: bool = False
    email: Email | None = None
    phone: Phone | None = None
    address: CounterpartAddress | None = None


Phone = Annotated[str, msgspec.Meta(max_length=64)]

#: Monite ``LanguageCodeEnum``: ISO 639-1.
LanguageCode = Annotated[str, msgspec.Meta(pattern="^[a-z]{2}$")]
TaxId = Annotated[str, msgspec.Meta(max_length=30)]


class CounterpartCreate(Request):
    """Monite ``CounterpartCreatePayload``.

    ``language``, ``tax_id`` and ``reminders_enabled`` are kept and returned as given: this
    service renders no PDFs and sends no reminders. ``tax_id`` is not pushed.
    """

    type: Literal["organization", "individual"]
    organization: OrganizationCreate | None = None
    individual: IndividualCreate | None = None
    language: LanguageCode | None = None
    tax_id: TaxId | None = None
    reminders_enabled: bool | None = None


class OrganizationUpdate(Request):
    legal_name: LegalName | None = None
    is_customer: bool | None = None
    is_vendor: bool | None = None
    email: Email | None = None
    phone: Phone | None = None
    address: CounterpartAddress | None = None


class IndividualUpdate(Request):
    first_name: Name | None = None
    last_name: Name | None = None
    is_customer: bool | None = None
    is_vendor: bool | None = None
    email: Email | None = None
    phone: Phone | None = None
    address: CounterpartAddress | None = None


class CounterpartUpdate(Request):
    """A partial change; the root fields as in :class:`CounterpartCreate`."""

    organization: OrganizationUpdate | None = None
    individual: IndividualUpdate | None = None
    language: LanguageCode | None = None
    tax_id: TaxId | None = None
    reminders_enabled: bool | None = None


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
    """Monite ``CounterpartResponse``; ``default_billing_address_id`` is the counterpart's own
    address (see :mod:`app.counterparts.addresses`), null without one."""

    id: uuid.UUID
    type: str
    created_at: dt.datetime
    updated_at: dt.datetime
    organization: OrganizationOut | None = None
    individual: IndividualOut | None = None
    default_billing_address_id: uuid.UUID | None = None
    language: str | None = None
    tax_id: str | None = None
    reminders_enabled: bool | None = None


# --- addresses (Monite ``/counterparts/{id}/addresses``) ---------------------------------

AddressPart = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
RequiredLine = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
RequiredPostalCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class CounterpartAddressCreate(Request):
    """Monite ``CounterpartAddress`` as ``POST .../addresses`` takes it (all four required)."""

    country: CountryCode
    city: AddressPart
    postal_code: RequiredPostalCode
    line1: RequiredLine
    line2: AddressLine | None = None
    state: AddressPart | None = None


class CounterpartAddressUpdate(Request):
    """Monite ``CounterpartUpdateAddress``: a partial change; absent (or null) = unchanged."""

    country: CountryCode | None = None
    city: AddressPart | None = None
    postal_code: PostalCode | None = None
    line1: AddressLine | None = None
    line2: AddressLine | None = None
    state: AddressPart | None = None


class CounterpartAddressOut(Response):
    """Monite ``CounterpartAddressResponseWithCounterpartID``.

    A counterpart created with a partial address (no ``postal_code`` or ``line1``) shows the
    missing parts as empty strings: Monite's schema requires the four parts."""

    id: uuid.UUID
    counterpart_id: uuid.UUID
    country: str
    city: str
    postal_code: str
    line1: str
    line2: str | None
    state: str | None


class CounterpartAddressList(Response):
    """Monite ``CounterpartAddressResourceList``: the default address first (not paginated)."""

    data: list[CounterpartAddressOut]
